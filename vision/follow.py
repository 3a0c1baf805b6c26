"""Live faces: the VIDEO-mode tracker follows the faces it has; the detector checks them and seeds more.

The tracker's own detector is short-range: a second person further back (a practitioner behind the client)
may never be picked up. Every ``check_every`` frames, and at once when the number of faces changes, the
full-range detector runs on the whole frame: each mesh is checked against the detection covering it (a
misfit stays ``uncertain`` until a later check agrees), and a detected face nobody follows is landmarked from
its crop and from then on followed crop by crop (IMAGE mode), up to ``max_faces`` faces in all. Every face,
tracked or followed, is smoothed with its own One Euro history (``vision.smoothing.FaceSmoother``), matched
by place from frame to frame, so a face handed from one path to the other keeps it.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np

from vision.detector import BlazeFaceDetector, Detections, DetectorOptions
from vision.faces import FIT_OK, FIT_UNCERTAIN, Faces, boxes_of
from vision.finder import FaceFinder
from vision.fit import FIT_TOLERANCE, fit_errors, match
from vision.frames import ColorOrder, to_rgb_uint8
from vision.landmarker import DEFAULT_SMOOTHING, FaceTracker, LandmarkerOptions
from vision.quality import assess_quality
from vision.smoothing import FaceSmoother, OneEuroConfig

SAME_FACE_IOU = 0.4  # a followed face and a tracked one overlapping this much are the same person
FOLLOW_SCALE = 2.0  # a followed face's next crop: this many times its mesh box's longer side


@dataclass(frozen=True)
class FollowOptions:
    """``max_faces``: faces followed at once (client and practitioner); ``check_every``: frames between
    detector runs (about half a second at 24 fps). The detector runs on the whole frame only (one window):
    live faces are near the camera."""

    max_faces: int = 2
    check_every: int = 12
    detector: DetectorOptions = field(default_factory=lambda: DetectorOptions(max_tiles=0))
    fit_tolerance: float = FIT_TOLERANCE

    def __post_init__(self) -> None:
        if self.max_faces < 1 or self.check_every < 1:
            raise ValueError(
                f"max_faces and check_every must be >= 1, got {self.max_faces}, {self.check_every}"
            )


class FaceFollower:
    """Tracker, detector, crop landmarker and smoother of one stream; ``track`` is called like
    ``FaceTracker.track``; ``smoothing=None`` leaves the landmarks as found."""

    def __init__(
        self,
        options: FollowOptions | None = None,
        landmarker: LandmarkerOptions | None = None,
        smoothing: OneEuroConfig | None = DEFAULT_SMOOTHING,
    ) -> None:
        self.options = options or FollowOptions()
        self._tracker = FaceTracker(landmarker or LandmarkerOptions(max_faces=self.options.max_faces), None)
        self._smoother = FaceSmoother(smoothing) if smoothing is not None else None
        self._detector = BlazeFaceDetector(self.options.detector)
        self._finder: FaceFinder | None = None  # made when a face first needs seeding
        self._known_boxes = np.zeros((0, 4), np.float32)  # what the last check said, face by face
        self._known_fit: tuple[str, ...] = ()
        self._known_scores = np.zeros(0, np.float32)
        self._seeds = np.zeros((0, 4), np.float32)  # mesh boxes of the faces followed crop by crop
        self._frames = 0

    def close(self) -> None:
        self._tracker.close()
        if self._finder is not None:
            self._finder.close()

    def __enter__(self) -> FaceFollower:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def track(self, image: np.ndarray, timestamp_ms: float, *, color: ColorOrder) -> Faces:
        """Faces in the frame (the tracker's, then the followed ones, then those seeded now), smoothed, with
        quality, ``fit`` and ``detector_scores`` from the latest check; ``timestamp_ms`` as for
        ``FaceTracker.track``."""
        rgb = to_rgb_uint8(image, color)
        tracked = self._tracker.track(rgb, timestamp_ms, color="rgb")
        stamp = tracked.timestamp_ms if tracked.timestamp_ms is not None else round(timestamp_ms)
        faces = _joined(tracked, self._follow(rgb, tracked))
        due = self._frames % self.options.check_every == 0 or len(faces) != len(self._known_fit)
        self._frames += 1
        detections = self._detector.detect(rgb, color="rgb") if due else None
        if detections is not None:
            faces = _joined(faces, self._seed(rgb, faces, detections))
        faces = self._smoothed(faces, rgb, stamp)
        return self._check(faces, detections) if detections is not None else self._recall(faces)

    def _follow(self, rgb: np.ndarray, tracked: Faces) -> Faces:
        """Landmark each followed face from a crop around where it was; drop those the tracker now has, and
        those the landmarker no longer finds."""
        height, width = rgb.shape[:2]
        keep = [i for i, box in enumerate(self._seeds) if not _overlaps(box, tracked.boxes)]
        meshes, poses = [], []
        for box in self._seeds[keep]:
            fitted = (
                None
                if self._finder is None
                else self._finder.crop_mesh(
                    rgb, (box[:2] + box[2:]) / 2, FOLLOW_SCALE * float(np.max(box[2:] - box[:2]))
                )
            )
            if fitted is not None:
                meshes.append(fitted[0])
                poses.append(fitted[1])
        if not meshes:
            self._seeds = np.zeros((0, 4), np.float32)
            return Faces.empty(width, height)
        landmarks = np.stack(meshes).astype(np.float32)
        boxes = boxes_of(landmarks)
        self._seeds = boxes.copy()
        return Faces(landmarks, boxes, np.stack(poses).astype(np.float32), (width, height))

    def _seed(self, rgb: np.ndarray, faces: Faces, detections: Detections) -> Faces:
        """Detected faces nobody follows, landmarked from their crops (with room for them), from now on
        followed."""
        height, width = rgb.shape[:2]
        free = np.setdiff1d(np.arange(len(detections)), match(faces.boxes, detections))
        room = self.options.max_faces - len(faces)
        if room <= 0 or not free.size:
            return Faces.empty(width, height)
        if self._finder is None:
            self._finder = FaceFinder()
        found = self._finder.find(rgb, color="rgb", detections=detections.select(free[:room])).faces
        self._seeds = np.concatenate([self._seeds, found.boxes]).astype(np.float32)
        return found

    def _smoothed(self, faces: Faces, rgb: np.ndarray, stamp: int) -> Faces:
        """The faces smoothed (each with its own history), their boxes and quality from the smoothed mesh."""
        landmarks = faces.landmarks
        if self._smoother is not None:
            landmarks = self._smoother(landmarks, faces.boxes, stamp)
        boxes = boxes_of(landmarks)
        quality = assess_quality(landmarks, faces.poses, rgb, boxes)
        return replace(faces, landmarks=landmarks, boxes=boxes, quality=quality, timestamp_ms=stamp)

    def _check(self, faces: Faces, detections: Detections) -> Faces:
        """Fit of every face against the detection covering it (as drawn: smoothed)."""
        pairs = match(faces.boxes, detections)
        fit = [FIT_OK] * len(faces)
        scores = np.full(len(faces), np.nan, np.float32)
        matched = np.flatnonzero(pairs >= 0)
        if matched.size:
            errors = fit_errors(faces.landmarks[matched], detections.keypoints[pairs[matched]])
            for i, error in zip(matched.tolist(), errors.tolist(), strict=True):
                fit[i] = FIT_OK if error <= self.options.fit_tolerance else FIT_UNCERTAIN
            scores[matched] = detections.scores[pairs[matched]]
        faces = replace(faces, fit=tuple(fit), detector_scores=scores)
        self._known_boxes, self._known_fit = faces.boxes.copy(), faces.fit
        self._known_scores = _scores(faces)
        return faces

    def _recall(self, faces: Faces) -> Faces:
        """Between checks a face keeps what the last check said about the face at the same place."""
        fit, scores = [], []
        for box in faces.boxes:
            overlap = _iou(box, self._known_boxes)
            best = int(np.argmax(overlap)) if overlap.size else -1
            same = best >= 0 and overlap[best] >= SAME_FACE_IOU
            fit.append(self._known_fit[best] if same else FIT_OK)
            scores.append(self._known_scores[best] if same else np.nan)
        return replace(faces, fit=tuple(fit), detector_scores=np.asarray(scores, np.float32))


def _scores(faces: Faces) -> np.ndarray:
    if faces.detector_scores is not None:
        return faces.detector_scores
    return np.full(len(faces), np.nan, np.float32)


def _iou(box: np.ndarray, others: np.ndarray) -> np.ndarray:
    """Intersection over union of ``box (4,)`` with each of ``others (N, 4)``: ``(N,)``."""
    lo = np.maximum(others[:, :2], box[:2])
    hi = np.minimum(others[:, 2:], box[2:])
    inter = np.prod(np.clip(hi - lo, 0.0, None), axis=1)
    union = np.prod(box[2:] - box[:2]) + np.prod(others[:, 2:] - others[:, :2], axis=1) - inter
    return inter / np.maximum(union, 1e-6)


def _overlaps(box: np.ndarray, others: np.ndarray) -> bool:
    return bool(len(others)) and bool((_iou(box, others) >= SAME_FACE_IOU).any())


def _joined(first: Faces, second: Faces) -> Faces:
    """Two ``Faces`` of one frame as one: quality and fit kept when both have them, scores NaN-filled."""
    if len(second) == 0:
        return first
    if len(first) == 0:
        return second
    landmarks = np.concatenate([first.landmarks, second.landmarks])
    return replace(
        first,
        landmarks=landmarks,
        boxes=boxes_of(landmarks),
        poses=np.concatenate([first.poses, second.poses]),
        quality=first.quality + second.quality if first.quality and second.quality else (),
        blendshapes=None,
        fit=first.fit + second.fit if first.fit and second.fit else (),
        detector_scores=np.concatenate([_scores(first), _scores(second)]),
    )
