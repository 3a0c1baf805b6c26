"""The one chain every way in shares: frame -> faces -> zones -> pixels.

``app.py`` (photos, video replay, the live callback) and ``cli.py`` (photos, clips, the face chart) are thin
shells over ``Pipeline``, so the live path, the photo path, the video path, the chart and the CLI cannot
drift apart. ``Pipeline.analyse`` produces the one per-frame record (``overlays.scene.SceneData``) that every
layer draws from. What depends only on the settings (catalogue, index tables, the plan's verdicts, annotator
styles) is built once per ``Settings`` and shared; what a stream carries from frame to frame (trackers, face
hold, touch guard, label spots) belongs to its ``StreamProcessor``. A frame costs one gather, one status pass
and the drawing.
"""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from overlays.chart import A4_PORTRAIT, render_chart
from overlays.compose import FaceZonesAnnotator
from overlays.compose import OverlayOptions as OverlayOptions  # the overlay's own options, part of Settings
from overlays.scene import PERSON_AWAY, SceneData, StreamMemory
from vision.faces import FIT_OK, FIT_UNCERTAIN, Faces
from vision.follow import FaceFollower, FollowOptions
from vision.hands import HandOptions, Hands, HandTracker
from vision.landmarker import LandmarkerOptions
from vision.smoothing import same_faces
from zones.catalogue import Catalogue, load_catalogue
from zones.geometry import GeometryIndex, face_geometry
from zones.plan import Plan
from zones.report import face_report
from zones.safety import evaluate, gated, segment_status
from zones.touch import FaceHold, FaceState, TouchGuard, no_touch_hits


@dataclass(frozen=True)
class Settings:
    """Everything a frame is processed with; immutable, so the live thread can swap it whole under a lock.

    ``catalogue_path`` None is the shipped catalogue; ``mirror`` turns on the selfie view (applied after
    detection to pixels and coordinates together, so ids keep naming the subject's own side);
    ``touch_guard`` tracks hands on streams and clips and warns when a fingertip enters a no-touch area.
    ``face`` is the face (index, largest first on photos) the plan applies to, None: the largest.
    ``require_answers`` withholds guidance until every screening question is answered (the app asks them
    first); ``warning_sign`` (a catalogue ``stop_signs`` id) withholds it while a warning sign is reported.
    """

    plan: Plan = field(default_factory=Plan)
    catalogue_path: str | None = None
    mirror: bool = False
    overlay: OverlayOptions = field(default_factory=OverlayOptions)
    current_line: str | None = None
    touch_guard: bool = False
    require_answers: bool = False
    warning_sign: str | None = None
    face: int | None = None


@functools.lru_cache(maxsize=8)
def _catalogue(path: str | None, mtime_ns: int) -> Catalogue:
    del mtime_ns  # part of the cache key: an edited catalogue file is read again
    return load_catalogue(path)


def catalogue_for(path: str | os.PathLike[str] | None) -> Catalogue:
    """The catalogue at ``path`` (None: the shipped one), cached until the file changes."""
    if path is None:
        return _catalogue(None, 0)
    resolved = str(Path(path))
    mtime = Path(resolved).stat().st_mtime_ns if Path(resolved).is_file() else 0
    return _catalogue(resolved, mtime)


def view(
    frame: np.ndarray, faces: Faces, hands: Hands | None, mirror: bool
) -> tuple[np.ndarray, Faces, Hands | None]:
    """Frame, faces and hands as shown: flipped left-right together for the selfie view, else unchanged."""
    if not mirror:
        return frame, faces, hands
    # cv2.flip: one vectorised pass, where numpy's reversed-stride copy costs ~2 ms of CPU at 640x480.
    return cv2.flip(frame, 1), faces.mirror(), None if hands is None else hands.mirror()


class Pipeline:
    """Per-settings state (catalogue, index tables, the plan's verdicts, annotators) and per-frame steps."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.catalogue = catalogue_for(settings.catalogue_path)
        settings.plan.check(self.catalogue)
        self.index = GeometryIndex.from_catalogue(self.catalogue)
        self.safety = gated(
            evaluate(settings.plan, self.catalogue),
            self.catalogue,
            require_answers=settings.require_answers,
            warning_sign=settings.warning_sign,
        )
        self.annotator = FaceZonesAnnotator(settings.overlay)

    def new_guard(self) -> TouchGuard:
        """A touch guard for one stream (or one photo): its hysteresis and touch counts start at zero."""
        return TouchGuard(self.index.area_ids, self.index.area_labels)

    def analyse(
        self,
        faces: Faces,
        hands: Hands | None = None,
        *,
        guard: TouchGuard | None = None,
        timestamp_ms: float = 0.0,
        face_state: FaceState = "live",
        fps: float | None = None,
        memory: StreamMemory | None = None,
        chosen_face: int | None = None,
    ) -> SceneData:
        """The frame's record from faces (and hands) in shown coordinates: geometry, segment statuses,
        fingertip touches (with ``hands``; in the areas drawn only), the time stamp, the guided line, the
        frame rate, the stream's memory (None: a photo) and the face the plan applies to (``chosen_face``,
        a stream's choice; None: ``settings.face``)."""
        geometry = face_geometry(faces, self.index)
        data = SceneData(
            geometry,
            self.safety,
            segment_status(geometry, self.safety),
            faces,
            None,
            timestamp_ms / 1000.0,
            self.settings.current_line,
            fps,
            memory,
            chosen_face=self.settings.face if chosen_face is None else chosen_face,
        )
        if hands is None:
            return data
        # the guard tests what is drawn: the plan's face, and on it the areas the camera sees
        hits = no_touch_hits(hands, geometry, self.safety, data.area_shown)
        return replace(data, touch=(guard or self.new_guard()).update(hits, timestamp_ms, face_state))

    def process(
        self,
        frame_bgr: np.ndarray,
        faces: Faces,
        hands: Hands | None = None,
        *,
        guard: TouchGuard | None = None,
        timestamp_ms: float = 0.0,
        face_state: FaceState = "live",
        fps: float | None = None,
        memory: StreamMemory | None = None,
        chosen_face: int | None = None,
    ) -> tuple[np.ndarray, SceneData]:
        """Apply the view (selfie flip) to a camera frame and what was detected on it, then analyse."""
        shown, shown_faces, shown_hands = view(frame_bgr, faces, hands, self.settings.mirror)
        return shown, self.analyse(
            shown_faces,
            shown_hands,
            guard=guard,
            timestamp_ms=timestamp_ms,
            face_state=face_state,
            fps=fps,
            memory=memory,
            chosen_face=chosen_face,
        )

    def render(self, frame_bgr: np.ndarray, data: SceneData, *, copy: bool = True) -> np.ndarray:
        """Draw the overlay on the shown frame (a copy unless ``copy`` is False) and return it."""
        scene = frame_bgr.copy() if copy else frame_bgr
        return self.annotator.annotate(scene, data)

    def chart(self, size: tuple[int, int] = A4_PORTRAIT) -> np.ndarray:
        """The plan's printable face chart ``(H, W, 3) uint8`` BGR: the template face through ``analyse``."""
        return render_chart(self.analyse, self.catalogue, size)

    def report(self, data: SceneData) -> list[dict[str, Any]]:
        """Per face: landmarks, box, pose, quality, fit ("ok" / "uncertain": the mesh against the detector's
        keypoints; "ok" when unchecked), detector_score (null when no detector saw it), plan (whether the plan
        applies to it and its mesh fits: only then are its zones and strokes drawn), zones and strokes (the
        CLI's and the app's JSON)."""
        faces = data.faces
        fits = faces.fits()
        scores = faces.detector_scores if faces.detector_scores is not None else np.full(len(faces), np.nan)
        detector = [None if np.isnan(score) else round(float(score), 3) for score in scores.tolist()]
        return [
            {
                "landmarks": np.round(faces.landmarks[i].astype(np.float64), 2).tolist(),
                "box": np.round(faces.boxes[i].astype(np.float64), 1).tolist(),
                "pose": dict(
                    zip(
                        ("yaw", "pitch", "roll"),
                        np.round(faces.poses[i].astype(float), 1).tolist(),
                        strict=True,
                    )
                ),
                "quality": faces.quality[i].as_dict() if faces.quality else {},
                "fit": FIT_OK if fits[i] else FIT_UNCERTAIN,
                "detector_score": detector[i],
                "plan": bool(data.guided[i]),
                **face_report(data.geometry, data.safety, data.segment_status, i, self.catalogue),
            }
            for i in range(len(faces))
        ]

    def labels(self, data: SceneData) -> dict[str, list[dict[str, Any]]]:
        """``{"labels": [...], "unlabelled": [...]}``: the labels as drawn, in pixels of the image as shown,
        and those listed beside it instead (the CLI's top-level JSON fields)."""
        return self.annotator.label_layout(data).as_json()


@functools.lru_cache(maxsize=16)
def pipeline_for(settings: Settings) -> Pipeline:
    """The pipeline of ``settings``, built once per settings object (they are immutable and hashable).

    Raises ``PlanError`` / ``CatalogueError`` for a plan or catalogue that cannot be used.
    """
    return Pipeline(settings)


PERSON_AWAY_MS = 2000.0  # the plan's person out of view this long: the plan goes to the largest face again


class PlanPerson:
    """Which face of a stream carries the plan: the person who had it in the last frame, not whichever face
    is largest now (a client and a practitioner of about the same size would swap it back and forth).

    Same person: ``vision.smoothing.same_faces`` on the face boxes. When that person is lost, a face that is
    new to the stream (not one of the others it already saw: she may just have moved fast, or the camera
    skipped frames) takes the plan, the largest first. When only the others are in view (a hand over the
    client's face, the client leaning out of the picture), nobody gets the plan for ``PERSON_AWAY_MS``: her
    plan must never land on the practitioner. After that the largest face takes it.
    """

    def __init__(self, away_ms: float = PERSON_AWAY_MS) -> None:
        self._away_ms = away_ms
        self._box: np.ndarray | None = None  # (4,) float32 x0 y0 x1 y1 of the plan's person, last seen
        self._others = np.zeros((0, 4), np.float32)  # the other faces, last seen
        self._away_since: float | None = None

    def choose(self, faces: Faces, timestamp_ms: float) -> int | None:
        """Index of the face with the plan, ``PERSON_AWAY`` (nobody), or None when there is no face."""
        boxes = faces.boxes
        person = np.zeros((0, 4), np.float32) if self._box is None else self._box[None]
        seen = same_faces(np.concatenate([person, self._others]), boxes)  # row 0: her, if she is known
        if self._box is not None:
            match = np.flatnonzero(seen == 0)
            if match.size:
                return self._keep(boxes, int(match[0]))
            if self._away_since is None:
                self._away_since = timestamp_ms
        if len(faces) == 0:
            return None
        areas = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
        new = seen < 0
        held = self._away_since is not None and timestamp_ms - self._away_since < self._away_ms
        if new.any():
            return self._keep(boxes, int(np.argmax(np.where(new, areas, -1.0))))
        if self._box is None or not held:
            return self._keep(boxes, int(np.argmax(areas)))
        self._others = boxes.copy()
        return PERSON_AWAY

    def _keep(self, boxes: np.ndarray, face: int) -> int:
        self._box, self._away_since = boxes[face].copy(), None
        self._others = np.delete(boxes, face, axis=0)
        return face


class StreamProcessor:
    """One live stream or replayed clip: its own faces (``vision.follow.FaceFollower``: the VIDEO-mode
    tracker, with the full-range detector checking each mesh's fit and seeding faces the tracker misses, up
    to two by default: client and practitioner), with the touch guard on its hand tracker, face hold and
    guard, its own ``StreamMemory`` (where the labels sat) and ``PlanPerson`` (who has the plan), then the
    shared pipeline. Settings are read per frame, so the plan and the view can change while the stream runs.

    A hand over the face makes MediaPipe lose the face exactly when the guard matters: the last face is held
    for about half a second, then the state says "hidden". The hand model runs on every second frame
    (``HandOptions(stride=2)``) to keep face and hands together above 20 fps at 640x480.
    """

    def __init__(
        self, face_options: LandmarkerOptions | None = None, hand_options: HandOptions | None = None
    ) -> None:
        options = face_options or LandmarkerOptions(max_faces=2)
        self._faces = FaceFollower(FollowOptions(max_faces=options.max_faces), landmarker=options)
        self._hand_options = hand_options or HandOptions(stride=2)
        self._hands: HandTracker | None = None
        self._hold: FaceHold[Faces] = FaceHold()
        self._guard: TouchGuard | None = None
        self._memory = StreamMemory()
        self._person = PlanPerson()

    def _touch_tools(self, pipeline: Pipeline) -> tuple[HandTracker, TouchGuard]:
        """The stream's hand tracker and guard, made when first needed; a new guard (counts back to zero)
        only when the catalogue's areas change."""
        if self._hands is None:
            self._hands = HandTracker(self._hand_options)
        if self._guard is None or self._guard.area_ids != pipeline.index.area_ids:
            self._guard = pipeline.new_guard()
        return self._hands, self._guard

    def __call__(
        self, frame_bgr: np.ndarray, timestamp_ms: int, settings: Settings, fps: float | None = None
    ) -> tuple[np.ndarray, SceneData]:
        """Track, analyse and draw one camera frame ``(H, W, 3) uint8`` BGR; returns the frame as shown."""
        pipeline = pipeline_for(settings)
        faces = self._faces.track(frame_bgr, timestamp_ms, color="bgr")
        hands, guard, held = None, None, None
        if settings.touch_guard:
            hand_tracker, guard = self._touch_tools(pipeline)
            hands = hand_tracker.track(frame_bgr, timestamp_ms, color="bgr")
            held = self._hold.update(faces, timestamp_ms)
            faces = held.value
        chosen = self._person.choose(faces, timestamp_ms) if settings.face is None else None
        shown, data = pipeline.process(
            frame_bgr,
            faces,
            hands,
            guard=guard,
            timestamp_ms=timestamp_ms,
            face_state=held.state if held is not None else "live",
            fps=fps,
            memory=self._memory,
            chosen_face=chosen,
        )
        copy = shown is frame_bgr and not frame_bgr.flags.writeable
        return pipeline.render(shown, data, copy=copy), data

    def close(self) -> None:
        self._faces.close()
        if self._hands is not None:
            self._hands.close()

    def __enter__(self) -> StreamProcessor:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
