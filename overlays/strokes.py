"""Massage strokes: safe segments green with arrowheads along the line, caution amber, no-touch left out."""

from __future__ import annotations

import functools
from dataclasses import dataclass

import cv2
import numpy as np

from overlays.paths import as_complex, head_shifts, neighbours, offset_vertices, stroke_shifts
from overlays.scene import SceneData
from overlays.style import CAUTION_AMBER, HALO, SAFE_GREEN, SUBPIXEL_SCALE, SUBPIXEL_SHIFT, Color
from zones.geometry import GeometryIndex, face_geometry, reference_landmarks
from zones.safety import CAUTION, NO_TOUCH, SAFE

DRAWN = (CAUTION, SAFE)  # drawing order: green on top
HEAD_WIDTH = 0.9  # arrowhead base width, in arrowhead lengths


@functools.lru_cache(maxsize=8)
def corner_points(index: GeometryIndex) -> np.ndarray:
    """``(Q,) bool``: resampled stroke points that are the catalogue's control points.

    Strokes are resampled linearly between control points, so drawing only the corners (plus the ends of
    each status run) gives the same picture with a fraction of the vertices.
    """
    return np.asarray((index.weights == 1.0).any(axis=1))


@functools.lru_cache(maxsize=8)
def arrow_segments(index: GeometryIndex, every: int) -> np.ndarray:
    """``(K,) intp`` segments that carry an arrowhead at their end: every ``every``-th segment of a line
    (counted from its start) and each line's last segment.

    Stroke points are resampled at an even spacing in millimetres, so a count of segments is a length.
    """
    offsets = np.asarray(index.segment_offsets)
    position = np.arange(index.num_segments) - offsets[index.segment_line]
    last = np.zeros(index.num_segments, bool)
    last[offsets[1:][np.diff(offsets) > 0] - 1] = True
    return np.flatnonzero(((position + 1) % max(every, 1) == 0) | last)


@functools.lru_cache(maxsize=8)
def stroke_neighbours(index: GeometryIndex) -> tuple[np.ndarray, np.ndarray]:
    """Previous and next stroke point of every resampled point, within its own line."""
    return neighbours(index.line_offsets, closed=False)


@functools.lru_cache(maxsize=8)
def segment_length_mm(index: GeometryIndex) -> float:
    """Typical length of one resampled stroke segment in millimetres, measured on the reference face."""
    reference = face_geometry(reference_landmarks(), index)  # the reference face is in millimetres
    start = index.segment_start
    lengths = np.linalg.norm(reference.line_points[0, start + 1] - reference.line_points[0, start], axis=1)
    return float(np.median(lengths)) if len(lengths) else 1.0


@dataclass(frozen=True)
class StrokePlan:
    """Everything that depends only on one face's segment statuses and the stroke width, cached on them.

    Strokes are painted as 1 px paths that snake along each run, shifted sideways a pixel per pass (the dark
    rim all around, then the coloured body); arrowheads are closed outlines (tip, base corners, tip) filled
    after their rim. All of them are the vertices of one ``offset_vertices`` call: ``gather`` and the shift
    of each vertex, ``shift_px + shift_per_length * arrowhead length``. ``halo`` / ``bodies[code]`` are
    slices of those vertices, one per polyline. ``heads`` is the slice of the arrowheads (4 vertices each,
    ``arrow_split`` caution ones first); ``arrow_starts`` / ``arrow_ends`` are point indices of the segments
    carrying them.
    """

    gather: np.ndarray
    shift_px: np.ndarray
    shift_per_length: np.ndarray
    halo: list[slice]
    bodies: dict[int, list[slice]]
    heads: slice
    arrow_starts: np.ndarray
    arrow_ends: np.ndarray
    arrow_split: int


def status_runs(
    status: np.ndarray, segment_line: np.ndarray, segment_start: np.ndarray, corners: np.ndarray
) -> tuple[list[np.ndarray], np.ndarray]:
    """Split strokes into runs of equal status and return each run's drawing vertices.

    status (S,) uint8, segment_line (S,) int, segment_start (S,) int (point index of each segment's start),
    corners (Q,) bool. Returns ``(point indices per run, run status (R,) uint8)``; a run keeps its first and
    last point and the corners between them.
    """
    count = len(status)
    if count == 0:
        return [], np.zeros(0, np.uint8)
    new_run = np.r_[True, (status[1:] != status[:-1]) | (segment_line[1:] != segment_line[:-1])]
    first_segment = np.flatnonzero(new_run)
    last_segment = np.r_[first_segment[1:], count] - 1
    first_point = segment_start[first_segment]
    last_point = segment_start[last_segment] + 1
    sizes = last_point - first_point + 1
    run_of = np.repeat(np.arange(len(sizes)), sizes)
    flat = first_point[run_of] + np.arange(int(sizes.sum())) - np.repeat(np.cumsum(sizes) - sizes, sizes)
    keep = corners[flat] | (flat == first_point[run_of]) | (flat == last_point[run_of])
    kept_sizes = np.bincount(run_of[keep], minlength=len(sizes))
    return np.split(flat[keep], np.cumsum(kept_sizes)[:-1]), status[first_segment]


@functools.lru_cache(maxsize=64)
def stroke_plan(index: GeometryIndex, status_bytes: bytes, arrow_every: int, width: int) -> StrokePlan:
    """The ``StrokePlan`` of one face's statuses (``(S,) uint8`` as bytes) at a stroke ``width`` in px."""
    status = np.frombuffer(status_bytes, np.uint8)
    runs, run_status = status_runs(status, index.segment_line, index.segment_start, corner_points(index))
    rim = (width + 1) / 2
    pieces: list[np.ndarray] = []
    shifts: list[np.ndarray] = []
    cursor = 0

    def take(offsets: list[float], chosen: list[np.ndarray], *, close: bool = False) -> list[slice]:
        """One polyline per run that snakes along it once per sideways offset (back and forth), so a
        thick stroke is one path; ``close`` returns to the start (a rim all around the run)."""
        nonlocal cursor
        slices = []
        for run in chosen:
            start = cursor
            for k, offset in enumerate(offsets):
                path = run if k % 2 == 0 else run[::-1]
                pieces.append(path)
                shifts.append(np.full(len(path), offset, np.float32))
                cursor += len(path)
            if close:
                pieces.append(run[:1])
                shifts.append(np.full(1, offsets[0], np.float32))
                cursor += 1
            slices.append(slice(start, cursor))
        return slices

    shown = [r for r, c in zip(runs, run_status, strict=True) if c != NO_TOUCH]
    halo = take([-rim, rim], shown, close=True)
    body = stroke_shifts(width).tolist()
    bodies = {
        code: take(body, [r for r, c in zip(runs, run_status, strict=True) if c == code]) for code in DRAWN
    }
    arrows = arrow_segments(index, arrow_every)
    ordered = np.concatenate([arrows[status[arrows] == code] for code in DRAWN])
    starts = index.segment_start[ordered]
    point_of = np.concatenate(pieces) if pieces else np.zeros(0, np.intp)
    path_shift = np.concatenate(shifts) * np.complex64(1j) if shifts else np.zeros(0, np.complex64)
    before, after = stroke_neighbours(index)
    tips = np.repeat(starts + 1, 4)  # each head: 4 vertices from its tip along its segment
    head_shift = np.tile(head_shifts(1.0, HEAD_WIDTH), len(starts))
    return StrokePlan(
        gather=np.concatenate([after[point_of], tips, before[point_of], tips - 1, point_of, tips]),
        shift_px=np.concatenate([path_shift, np.zeros_like(head_shift)]),
        shift_per_length=np.concatenate([np.zeros_like(path_shift), head_shift]),
        halo=halo,
        bodies=bodies,
        heads=slice(len(point_of), len(point_of) + len(head_shift)),
        arrow_starts=starts,
        arrow_ends=starts + 1,
        arrow_split=int((status[arrows] == CAUTION).sum()),
    )


class StrokeAnnotator:
    """Anti-aliased strokes along the massage lines, sized from the face's millimetre scale.

    thickness_mm / min_thickness_px: stroke width; arrow_spacing_mm: one arrowhead per this much line (and
    one at every line's end); arrow_length_mm: arrowhead size; halo: a dark rim under strokes and arrowheads
    so they read on any skin. No-touch segments are left out, and nothing is drawn inside a no-touch area
    grown by its margin (those pixels are restored after drawing).
    """

    def __init__(
        self,
        thickness_mm: float = 1.6,
        min_thickness_px: int = 2,
        arrow_spacing_mm: float = 24.0,
        arrow_length_mm: float = 6.0,
        halo: bool = True,
        safe_color: Color = SAFE_GREEN,
        caution_color: Color = CAUTION_AMBER,
        halo_color: Color = HALO,
    ) -> None:
        self.thickness_mm = thickness_mm
        self.min_thickness_px = min_thickness_px
        self.arrow_spacing_mm = arrow_spacing_mm
        self.arrow_length_mm = arrow_length_mm
        self.halo = halo
        self.safe_color = safe_color
        self.caution_color = caution_color
        self.halo_color = halo_color

    def sizes(self, px_per_mm: float) -> tuple[int, float]:
        """``(thickness px, arrowhead length px)`` at a face scale."""
        thickness = max(self.min_thickness_px, round(self.thickness_mm * px_per_mm))
        return thickness, max(3.5 * thickness, self.arrow_length_mm * px_per_mm)

    def plan(self, data: SceneData, face: int) -> StrokePlan:
        """The cached drawing plan of one face's segment statuses at its stroke width."""
        index = data.geometry.index
        every = max(1, round(self.arrow_spacing_mm / segment_length_mm(index)))
        width = self.sizes(float(data.geometry.px_per_mm[face]))[0]
        return stroke_plan(index, data.drawn_status[face].tobytes(), every, width)

    def annotate(self, scene: np.ndarray, data: SceneData) -> np.ndarray:
        """Draw on ``scene`` (BGR uint8, in place) and return it."""
        for region in data.regions:
            x0, y0, x1, y1 = region.no_touch_box
            guarded = region.view(scene)[y0:y1, x0:x1]
            guard = guarded.copy() if guarded.size else None
            self._draw(scene, data, region.face)
            if guard is not None:
                cv2.copyTo(guard, region.no_touch_mask[y0:y1, x0:x1], guarded)
        return scene

    def vertices(self, data: SceneData, face: int, plan: StrokePlan) -> np.ndarray:
        """``(V, 2) int32`` fixed point: the vertices of the plan's paths and arrowhead outlines."""
        length = self.sizes(float(data.geometry.px_per_mm[face]))[1]
        shifts = plan.shift_per_length * np.float32(length)
        shifts += plan.shift_px
        moved = offset_vertices(as_complex(data.geometry.line_points[face]), plan.gather, shifts)
        moved *= SUBPIXEL_SCALE  # to OpenCV fixed point, in place
        return np.rint(moved.view(np.float32), out=moved.view(np.float32)).astype(np.int32).reshape(-1, 2)

    def _draw(self, scene: np.ndarray, data: SceneData, face: int) -> None:
        plan = self.plan(data, face)
        vertices = self.vertices(data, face, plan)
        heads = vertices[plan.heads].reshape(-1, 4, 2)
        if self.halo and plan.halo:  # the dark rim of every run...
            rims = list(map(vertices.__getitem__, plan.halo))
            cv2.polylines(scene, rims, False, self.halo_color, 1, cv2.LINE_8, SUBPIXEL_SHIFT)
        if self.halo and len(heads):  # ...and of every arrowhead (its closed outline, one path each)
            cv2.polylines(scene, heads, False, self.halo_color, 1, cv2.LINE_8, SUBPIXEL_SHIFT)  # type: ignore[call-overload]
        split = plan.arrow_split
        layers = ((CAUTION, self.caution_color, heads[:split]), (SAFE, self.safe_color, heads[split:]))
        for code, color, filled in layers:
            if plan.bodies[code]:
                lines = list(map(vertices.__getitem__, plan.bodies[code]))
                cv2.polylines(scene, lines, False, color, 1, cv2.LINE_AA, SUBPIXEL_SHIFT)
            if len(filled):  # 8-connected: the dark rim under the edge hides its steps, at half the cost
                cv2.fillPoly(scene, filled, color, cv2.LINE_8, SUBPIXEL_SHIFT)  # type: ignore[call-overload]
