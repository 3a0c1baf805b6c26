"""What one frame needs to be drawn (``SceneData``) and the per-face pieces several annotators share.

Style lives in each annotator's constructor; everything that changes with the frame, the face or the plan
lives here. Shared per-frame work (each face's region of interest, its no-touch mask) is computed once, on
first use, and kept on the frozen ``SceneData`` so the zone and stroke annotators do not repeat it.
"""

from __future__ import annotations

import functools
import itertools
from dataclasses import dataclass
from functools import cached_property

import cv2
import numpy as np

from overlays.style import SUBPIXEL_SHIFT, to_fixed
from vision.faces import Faces
from zones.catalogue import Catalogue
from zones.geometry import FaceGeometry, GeometryIndex, face_geometry
from zones.plan import Plan
from zones.safety import CAUTION, NO_TOUCH, SAFE, SafetyMap, evaluate, segment_status

ROI_PAD_PX = 6  # room around the areas (grown by their margins) for outlines


@functools.lru_cache(maxsize=8)
def _area_slices(index: GeometryIndex) -> tuple[tuple[int, int], ...]:
    """``(start, stop)`` of every area's outline in the concatenated points (slicing beats np.split)."""
    offsets = index.area_offsets.tolist()
    return tuple(itertools.pairwise(offsets))


@dataclass(frozen=True, eq=False)
class AreaGroups:
    """Per plan: the area indices of each status (Python lists, for building polygon lists) and the
    no-touch margins in millimetres."""

    safe: list[int]
    caution: list[int]
    no_touch: list[int]
    no_touch_margins_mm: np.ndarray


@functools.lru_cache(maxsize=32)
def area_groups(safety: SafetyMap) -> AreaGroups:
    """The ``AreaGroups`` of a safety map (cached on it: one per plan)."""
    status = np.asarray(safety.area_status)
    no_touch = np.flatnonzero(status == NO_TOUCH)
    return AreaGroups(
        safe=np.flatnonzero(status == SAFE).tolist(),
        caution=np.flatnonzero(status == CAUTION).tolist(),
        no_touch=no_touch.tolist(),
        no_touch_margins_mm=np.asarray(safety.margins_mm, np.float32)[no_touch],
    )


@dataclass(frozen=True, eq=False)
class FaceRegion:
    """One face's treated-area region: ``box`` x0 y0 x1 y1 (int, clipped to the frame) around every area
    outline grown by the largest no-touch margin, and the no-touch mask inside it.

    ``polygons (A,)`` each area's outline in frame pixels, OpenCV fixed point (``SUBPIXEL_SHIFT``);
    ``area_boxes (A, 4)`` their integer bounds in the region's coordinates; ``no_touch_mask (y1-y0, x1-x0)
    uint8`` is 1 inside every no-touch area grown by its margin, ``no_touch_box`` (in the region's
    coordinates) bounds where it may be set.
    """

    face: int
    box: tuple[int, int, int, int]
    polygons: tuple[np.ndarray, ...]
    area_boxes: np.ndarray
    no_touch_mask: np.ndarray
    no_touch_box: tuple[int, int, int, int] = (0, 0, 0, 0)

    def view(self, scene: np.ndarray) -> np.ndarray:
        """The region of ``scene`` as a writable numpy view."""
        x0, y0, x1, y1 = self.box
        return scene[y0:y1, x0:x1]

    @property
    def offset(self) -> tuple[int, int]:
        """The fixed-point offset that moves frame polygons into the region (``cv2.fillPoly``'s offset)."""
        return -self.box[0] << SUBPIXEL_SHIFT, -self.box[1] << SUBPIXEL_SHIFT

    @cached_property
    def polygons_fixed(self) -> tuple[np.ndarray, ...]:
        """Each area's outline in the region's coordinates, OpenCV fixed point."""
        shift = np.array(self.offset, np.int32)
        return tuple(polygon + shift for polygon in self.polygons)

    def bounds(self, areas: list[int], pad: int = 2) -> tuple[int, int, int, int]:
        """Integer box (region coordinates, clipped to it) around the outlines of ``areas``."""
        boxes = self.area_boxes[areas]
        x0, y0 = boxes[:, :2].min(axis=0).tolist()
        x1, y1 = boxes[:, 2:].max(axis=0).tolist()
        width, height = self.box[2] - self.box[0], self.box[3] - self.box[1]
        return max(x0 - pad, 0), max(y0 - pad, 0), min(x1 + pad, width), min(y1 + pad, height)


@dataclass(frozen=True, eq=False)
class SceneData:
    """Everything that changes per frame or per plan, for every annotator.

    geometry: areas and lines of every face in frame pixels; safety: the plan's verdict per area;
    segment_status (F, S) uint8: status of every stroke segment; faces: the detection (quality hints,
    mirroring); timestamp_s drives animation; current_line: id of the line a guided session is on (None:
    the guide cycles through the safe lines); fps: measured frame rate for the HUD (None hides it).
    """

    geometry: FaceGeometry
    safety: SafetyMap
    segment_status: np.ndarray
    faces: Faces
    timestamp_s: float = 0.0
    current_line: str | None = None
    fps: float | None = None

    def __post_init__(self) -> None:
        faces, segments = len(self.geometry.px_per_mm), int(self.geometry.segment_offsets[-1])
        if self.segment_status.shape != (faces, segments):
            raise ValueError(f"segment_status must be ({faces}, {segments}), got {self.segment_status.shape}")

    @classmethod
    def build(
        cls,
        faces: Faces,
        catalogue: Catalogue,
        plan: Plan,
        *,
        timestamp_s: float = 0.0,
        current_line: str | None = None,
        fps: float | None = None,
    ) -> SceneData:
        """The whole zones chain for one frame: geometry (one gather), the plan's safety map (cached per
        plan) and every segment's status. ``faces`` may be empty (nothing but the HUD gets drawn)."""
        geometry = face_geometry(faces, GeometryIndex.from_catalogue(catalogue))
        safety = evaluate(plan, catalogue)
        return cls(geometry, safety, segment_status(geometry, safety), faces, timestamp_s, current_line, fps)

    @property
    def frame_size(self) -> tuple[int, int]:
        return self.faces.image_size

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
        groups = area_groups(self.safety)
        scale = float(self.geometry.px_per_mm[face])
        margins = np.rint(groups.no_touch_margins_mm * scale).astype(int).tolist()
        fixed = to_fixed(self.geometry.area_points[face])
        offsets = self.geometry.area_offsets[:-1]
        corners = np.concatenate(
            [np.minimum.reduceat(fixed, offsets), np.maximum.reduceat(fixed, offsets)], axis=1
        )
        pad = max(margins, default=0) + ROI_PAD_PX
        low = (corners[:, :2].min(axis=0) >> SUBPIXEL_SHIFT).tolist()
        high = ((corners[:, 2:].max(axis=0) >> SUBPIXEL_SHIFT) + 1).tolist()
        x0, y0 = min(max(low[0] - pad, 0), width), min(max(low[1] - pad, 0), height)
        box = (x0, y0, max(min(high[0] + pad, width), x0), max(min(high[1] + pad, height), y0))
        area_boxes = (corners >> SUBPIXEL_SHIFT) + np.array([-box[0], -box[1], 1 - box[0], 1 - box[1]])
        polygons = tuple(fixed[a:b] for a, b in _area_slices(self.geometry.index))
        mask = np.zeros((box[3] - box[1], box[2] - box[0]), np.uint8)
        region = FaceRegion(face, box, polygons, area_boxes, mask)
        if not mask.size or not groups.no_touch:
            return region
        chosen = [polygons[a] for a in groups.no_touch]
        cv2.fillPoly(mask, chosen, 1, cv2.LINE_8, SUBPIXEL_SHIFT, region.offset)
        # Growing a polygon by m px = filling it and stroking its outline 2m px wide; one call per margin.
        shift = np.array(region.offset, np.int32)
        for margin in sorted(set(margins) - {0}):
            ring = [p + shift for p, m in zip(chosen, margins, strict=True) if m == margin]
            cv2.polylines(mask, ring, True, 1, 2 * margin + 1, cv2.LINE_8, SUBPIXEL_SHIFT)
        inner = region.bounds(groups.no_touch, pad=max(margins) + 2)
        return FaceRegion(face, box, polygons, area_boxes, mask, inner)
