"""The one per-frame record (``SceneData``), the annotator contract, and the per-face pieces layers share.

``pipeline.Pipeline.analyse`` produces one ``SceneData`` per frame; every layer implements ``Annotator``
(``annotate(scene, data) -> scene``) and reads only that record. Style lives in each annotator's
constructor; everything that changes with the frame, the face or the plan lives here. Shared per-frame work
(each face's region of interest, its no-touch mask) is computed once, on first use, and kept on the frozen
record so the zone, stroke and touch layers do not repeat it. What a layer remembers from a stream's earlier
frames lives in the stream's own ``StreamMemory``, which the record carries.
"""

from __future__ import annotations

import functools
import itertools
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Protocol

import cv2
import numpy as np

from overlays.style import SUBPIXEL_SHIFT, to_fixed
from vision.faces import Faces
from zones.geometry import FaceGeometry, GeometryIndex
from zones.safety import CAUTION, NO_TOUCH, SAFE, SafetyMap
from zones.touch import TouchReport

ROI_PAD_PX = 6  # room around the areas (grown by their margins) for outlines
# Fail safe: a face this small, cut by the frame's edge or turned this far still shows its treated areas, but
# no stroke: its line positions are too uncertain to be followed (the HUD says why).
NO_STROKE_ISSUES = frozenset({"too_small", "out_of_frame"})
MAX_STROKE_YAW_DEG = 45.0
ISSUE_WORDS = {
    "out_of_frame": "cut off",
    "too_small": "too small",
    "turned": "turned away",  # past 30 degrees: the far side is hidden; strokes stop past 45
    "too_dark": "too dark",
    "too_bright": "too bright",
}  # FaceQuality's issue codes, in words


@dataclass(frozen=True, eq=False)
class AreaGroups:
    """Per plan and catalogue: the area indices of each status (Python lists, for building polygon lists),
    the no-touch margins in millimetres, each area's slice of the concatenated outline points, and the
    outline points of the caution and of the no-touch areas ``(n,) intp`` (for their bounds in one call)."""

    safe: list[int]
    caution: list[int]
    no_touch: list[int]
    no_touch_margins_mm: tuple[float, ...]
    slices: tuple[slice, ...]
    caution_points: np.ndarray
    no_touch_points: np.ndarray


@functools.lru_cache(maxsize=32)
def area_groups(safety: SafetyMap, index: GeometryIndex) -> AreaGroups:
    """The ``AreaGroups`` of a safety map over the index's outlines (cached on them: one per plan)."""
    status = np.asarray(safety.area_status)
    offsets = np.asarray(index.area_offsets).tolist()
    slices = tuple(itertools.starmap(slice, itertools.pairwise(offsets)))

    def points_of(areas: np.ndarray) -> np.ndarray:
        """Outline point indices ``(n,) intp`` of ``areas`` (per plan, so a loop over areas is fine)."""
        ranges = [np.arange(offsets[a], offsets[a + 1]) for a in areas.tolist()]
        return np.concatenate(ranges).astype(np.intp) if ranges else np.zeros(0, np.intp)

    safe, caution, no_touch = (np.flatnonzero(status == code) for code in (SAFE, CAUTION, NO_TOUCH))
    return AreaGroups(
        safe=safe.tolist(),
        caution=caution.tolist(),
        no_touch=no_touch.tolist(),
        no_touch_margins_mm=tuple(np.asarray(safety.margins_mm, np.float64)[no_touch].tolist()),
        slices=slices,
        caution_points=points_of(caution),
        no_touch_points=points_of(no_touch),
    )


@dataclass(frozen=True, eq=False)
class FaceRegion:
    """One face's treated-area region: ``box`` x0 y0 x1 y1 (int, clipped to the frame) around every area
    outline grown by the largest no-touch margin, and the no-touch mask inside it.

    ``points (P, 2) int32`` every outline point and ``polygons_fixed (A,)`` each area's outline (views of
    them), both in the region's coordinates, OpenCV fixed point (``SUBPIXEL_SHIFT``); ``no_touch_mask
    (y1-y0, x1-x0) uint8`` is 1 inside every no-touch area grown by its margin, ``no_touch_box`` (in the
    region's coordinates) bounds where it may be set.
    """

    face: int
    box: tuple[int, int, int, int]
    points: np.ndarray
    polygons_fixed: tuple[np.ndarray, ...]
    no_touch_mask: np.ndarray
    no_touch_box: tuple[int, int, int, int] = (0, 0, 0, 0)
    shown: tuple[bool, ...] = ()  # per area: drawn on this face (``SceneData.area_shown``)

    def drawn(self, areas: list[int]) -> list[int]:
        """The areas of ``areas`` drawn on this face."""
        return [a for a in areas if self.shown[a]] if self.shown else areas

    @cached_property
    def no_touch_integral(self) -> np.ndarray:
        """``(h+1, w+1)`` the no-touch mask's ``cv2.integral`` (made on first use): set pixels in any box in
        four look-ups."""
        return cv2.integral(self.no_touch_mask)

    def view(self, scene: np.ndarray) -> np.ndarray:
        """The region of ``scene`` as a writable numpy view."""
        x0, y0, x1, y1 = self.box
        return scene[y0:y1, x0:x1]

    def bounds(self, points: np.ndarray, pad: int = 2) -> tuple[int, int, int, int]:
        """Integer box (region coordinates, clipped to it) around outline points ``(n,) intp`` (n > 0)."""
        return _bounds(self.points[points], self.box[2] - self.box[0], self.box[3] - self.box[1], pad)


def _bounds(fixed: np.ndarray, width: int, height: int, pad: int) -> tuple[int, int, int, int]:
    """Integer box x0 y0 x1 y1 around fixed-point points ``(n, 2) int32`` (n > 0) grown by ``pad`` and
    clipped to a ``width`` x ``height`` frame (empty, ``x0 == x1`` or ``y0 == y1``, when outside it)."""
    x, y, w, h = cv2.boundingRect(fixed)
    x0 = min(max((x >> SUBPIXEL_SHIFT) - pad, 0), width)
    y0 = min(max((y >> SUBPIXEL_SHIFT) - pad, 0), height)
    x1 = max(min(((x + w - 1) >> SUBPIXEL_SHIFT) + 1 + pad, width), x0)
    y1 = max(min(((y + h - 1) >> SUBPIXEL_SHIFT) + 1 + pad, height), y0)
    return x0, y0, x1, y1


@dataclass(eq=False)
class StreamMemory:
    """What layers remember from one stream's earlier frames (where each label sat), so labels keep still.

    Owned by the stream (``pipeline.StreamProcessor``) and carried by each of its frames' records; never kept
    in a shared annotator or pipeline, so two streams with equal settings cannot disturb each other. A photo
    has none. ``slots`` is keyed by the layer that writes it.
    """

    slots: dict[str, Any] = field(default_factory=dict)


# ``SceneData.chosen_face`` of a stream whose plan's person is out of view: no face has the plan
PERSON_AWAY = -1


@dataclass(frozen=True, eq=False)
class SceneData:
    """Everything one frame is drawn from, as the pipeline produced it: the one record every layer reads.

    geometry: areas and lines of every face in frame pixels; safety: the plan's verdict per area;
    segment_status (F, S) uint8: status of every stroke segment; faces: the detection as shown (quality
    hints, mirroring); touch: the touch guard's report (None: hands not tracked); timestamp_s drives
    animation; current_line: id of the line a guided session is on (None: the guide cycles through the safe
    lines); fps: measured frame rate for the HUD (None hides it); memory: the stream's ``StreamMemory``
    (None: a photo, nothing carried over); chosen_face: the face the plan applies to (None: the largest;
    ``PERSON_AWAY``: nobody, the stream lost the plan's person).

    What is drawn (issue 11): the plan's guidance goes on one face only, ``plan_face``, and only when its mesh
    fits (``guided``); on it, areas and stroke segments the camera cannot see are left out (``area_shown``,
    ``drawn_status``). ``notes`` says in words what was not found or not drawn.
    """

    geometry: FaceGeometry
    safety: SafetyMap
    segment_status: np.ndarray
    faces: Faces
    touch: TouchReport | None = None
    timestamp_s: float = 0.0
    current_line: str | None = None
    fps: float | None = None
    memory: StreamMemory | None = None
    chosen_face: int | None = None

    def __post_init__(self) -> None:
        faces, segments = len(self.geometry.px_per_mm), int(self.geometry.segment_offsets[-1])
        if self.segment_status.shape != (faces, segments):
            raise ValueError(f"segment_status must be ({faces}, {segments}), got {self.segment_status.shape}")

    @property
    def frame_size(self) -> tuple[int, int]:
        return self.faces.image_size

    @property
    def area_groups(self) -> AreaGroups:
        """The plan's ``AreaGroups`` over this catalogue's outlines (cached per plan)."""
        return area_groups(self.safety, self.geometry.index)

    @cached_property
    def plan_face(self) -> int | None:
        """The face the plan applies to: the chosen one if it exists, else (none chosen) the largest."""
        count = len(self.faces)
        if self.chosen_face is not None:
            return self.chosen_face if 0 <= self.chosen_face < count else None
        if count == 0:
            return None
        boxes = self.faces.boxes
        return int(np.argmax((boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])))

    @cached_property
    def guided(self) -> np.ndarray:
        """``(F,) bool``: faces carrying the plan's zones and strokes (the plan's face, if its mesh fits)."""
        chosen = np.zeros(len(self.faces), bool)
        if self.plan_face is not None:
            chosen[self.plan_face] = True
        return chosen & self.faces.fits()

    @cached_property
    def area_shown(self) -> np.ndarray:
        """``(F, A) bool``: areas drawn, per face: on the guided face, those the camera sees."""
        return self.guided[:, None] & self.geometry.area_visible

    @cached_property
    def stroked(self) -> np.ndarray:
        """``(F,) bool``: guided faces whose strokes may be followed: not too small, not cut by the frame's
        edge, turned at most ``MAX_STROKE_YAW_DEG`` (the others keep their treated areas, without strokes)."""
        quality = self.faces.quality or (None,) * len(self.faces)
        steady = np.array([q is None or not NO_STROKE_ISSUES & set(q.issues) for q in quality], bool)
        facing = np.abs(np.asarray(self.faces.poses, np.float32)[:, 0]) <= MAX_STROKE_YAW_DEG
        return self.guided & steady.reshape(-1) & facing

    @cached_property
    def drawn_status(self) -> np.ndarray:
        """``(F, S) uint8``: ``segment_status`` where a segment is drawn, ``NO_TOUCH`` (left out) elsewhere:
        segments the camera cannot see, and every segment of a face without guidance or too unsure for
        strokes (``stroked``)."""
        drawn = self.stroked[:, None] & self.geometry.segment_visible
        return np.where(drawn, self.segment_status, np.uint8(NO_TOUCH)).astype(np.uint8)

    @cached_property
    def hidden_areas(self) -> tuple[str, ...]:
        """Labels of the guided face's areas the camera cannot see (listed beside the image: "turn your
        head"), in catalogue order; empty without a guided face."""
        face = self.plan_face
        if face is None or not self.guided[face]:
            return ()
        labels = self.geometry.index.area_labels
        return tuple(labels[a] for a in np.flatnonzero(~self.geometry.area_visible[face]).tolist())

    @cached_property
    def notes(self) -> tuple[str, ...]:
        """What was not found or is not drawn, in words, most important first (the image and the status)."""
        return frame_notes(self)

    @cached_property
    def area_status(self) -> np.ndarray:
        """``(A,) uint8`` status code of every area, aligned with ``geometry.area_ids``."""
        return np.asarray(self.safety.area_status, np.uint8)

    @cached_property
    def margins_px(self) -> np.ndarray:
        """``(F, A) float32`` each area's keep-away margin in pixels, per face."""
        margins_mm = np.asarray(self.safety.margins_mm, np.float32)
        return np.asarray(self.geometry.px_per_mm, np.float32)[:, None] * margins_mm[None, :]

    @cached_property
    def regions(self) -> tuple[FaceRegion, ...]:
        """One ``FaceRegion`` per face, in face order."""
        return tuple(self._region(face) for face in range(len(self.geometry.px_per_mm)))

    def _region(self, face: int) -> FaceRegion:
        width, height = self.frame_size
        groups = self.area_groups
        scale = float(self.geometry.px_per_mm[face])
        margins = [round(m * scale) for m in groups.no_touch_margins_mm]
        fixed = to_fixed(self.geometry.area_points[face])
        pad = max(margins, default=0) + ROI_PAD_PX
        box = x0, y0, x1, y1 = _bounds(fixed, width, height, pad)
        fixed -= (x0 << SUBPIXEL_SHIFT, y0 << SUBPIXEL_SHIFT)  # into the region's coordinates
        polygons = tuple(map(fixed.__getitem__, groups.slices))
        shown = tuple(self.area_shown[face].tolist())
        mask = np.zeros((y1 - y0, x1 - x0), np.uint8)
        drawn = [(a, m) for a, m in zip(groups.no_touch, margins, strict=True) if shown[a]]
        if not mask.size or not drawn:
            return FaceRegion(face, box, fixed, polygons, mask, shown=shown)
        chosen = [polygons[a] for a, _ in drawn]
        cv2.fillPoly(mask, chosen, 1, cv2.LINE_8, SUBPIXEL_SHIFT)
        # Growing a polygon by m px = filling it and stroking its outline 2m px wide; one call per margin.
        for margin in sorted({m for _, m in drawn} - {0}):
            ring = [polygons[a] for a, m in drawn if m == margin]
            cv2.polylines(mask, ring, True, 1, 2 * margin + 1, cv2.LINE_8, SUBPIXEL_SHIFT)
        inner = _bounds(fixed[groups.no_touch_points], mask.shape[1], mask.shape[0], max(margins) + 2)
        return FaceRegion(face, box, fixed, polygons, mask, inner, shown)


class Annotator(Protocol):
    """What every overlay layer is: style in ``__init__``, then one call per frame reading only the record."""

    def annotate(self, scene: np.ndarray, data: SceneData) -> np.ndarray:
        """Draw on ``scene`` ``(H, W, 3) uint8`` BGR (in place) and return it."""
        ...


def frame_notes(data: SceneData) -> tuple[str, ...]:
    """What a person needs to know about a frame's faces before trusting its map: no face, the chosen face
    missing, the plan's face not fitting / too small / too turned, its areas out of the camera's sight, the
    other faces left without the plan."""
    faces = data.faces
    if len(faces) == 0:
        return ("No face found: face the camera in good light",)
    notes: list[str] = []
    plan_face = data.plan_face
    if data.chosen_face == PERSON_AWAY:
        notes.append("The plan's person is out of view: the plan is shown on none")
    elif plan_face is None:
        notes.append(f"Face {data.chosen_face} not found ({len(faces)} in view): the plan is shown on none")
    else:
        if not data.guided[plan_face]:
            notes.append("The map does not fit this face: no zones or strokes shown")
        quality = faces.quality[plan_face] if faces.quality else None
        if quality is not None and not quality.ok and quality.hint:
            issues = " and ".join(ISSUE_WORDS.get(code, code) for code in quality.issues)
            notes.append(f"Face {issues}: {quality.hint.lower()}")
        if data.guided[plan_face] and not data.stroked[plan_face]:
            notes.append("No strokes shown: the face is too small or turned to follow them")
        hidden = len(data.hidden_areas)
        if hidden:
            notes.append(f"{hidden} area{'s' if hidden > 1 else ''} out of sight: turn your head")
    others = len(faces) - (plan_face is not None)
    if others:
        notes.append(f"{others} other face{'s' if others > 1 else ''}: no plan")
    return tuple(notes)
