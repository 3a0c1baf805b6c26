"""Where the catalogue's areas and massage lines fall on each face: one gather per frame, no Python loops.

``GeometryIndex`` turns the catalogue into numpy index tables once (all outlines concatenated with offsets,
all stroke control points likewise, and a fixed interpolation matrix that resamples every stroke into short
segments). ``face_geometry`` applies them to the landmarks of every face at once.
"""

from __future__ import annotations

import functools
import itertools
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from vision.faces import IRIS_LEFT, IRIS_RIGHT, NUM_LANDMARKS, Faces
from vision.visibility import MIN_FACING, landmark_facing
from zones.catalogue import Catalogue

IRIS_DIAMETER_MM = 11.7  # adult horizontal visible iris diameter
INTERPUPILLARY_MM = 63.0  # adult mean, the fallback scale
FOREHEAD_TOP, CHIN_BOTTOM = 10, 152  # the face's own "down" axis and its length (one face height)
EYE_OUTER_RIGHT, EYE_OUTER_LEFT = 33, 263  # fix which way "across" (towards the subject's left) points
REFERENCE_FACE = Path(__file__).resolve().parent / "reference_face.npy"
_PLAUSIBLE_IRIS_TO_IPD = (0.12, 0.30)  # iris diameter / pupil distance outside this: trust the pupils
# The face's outline, ordered (domain notes). A stroke point off the mesh (the neck) hangs from a landmark on
# it; when the camera cannot see that landmark (the far side of a turned head) the point hangs from the next
# visible one along the jaw towards the chin instead, so the far neck line starts from its own visible jaw.
FACE_OVAL = (
    10,
    338,
    297,
    332,
    284,
    251,
    389,
    356,
    454,
    323,
    361,
    288,
    397,
    365,
    379,
    378,
    400,
    377,
    152,
    148,
    176,
    149,
    150,
    136,
    172,
    58,
    132,
    93,
    234,
    127,
    162,
    21,
    54,
    103,
    67,
    109,
)
AREA_MIN_VISIBLE = 0.5  # share of an area's outline the camera must see for the area to be drawn
# the jaw's outline points are edge-on on a frontal face (cosine about 0, down to -0.12 at 10 degrees of
# yaw) and turned away on the far side of a turned head (-0.6): an off-mesh point may hang from them to this
ANCHOR_MIN_FACING = -0.3
INNER_FACE = 0.8  # a neck segment inside the face's outline shrunk by this about its centre crosses the face
POINT_MIN_VISIBLE = 0.5  # a resampled stroke point is seen when its controls' visibility, interpolated, is


@dataclass(frozen=True, eq=False)
class GeometryIndex:
    """Index tables built once per catalogue. A areas, P outline points, L lines, K control points,
    Q resampled stroke points, S segments (segment s joins stroke points ``segment_start[s]`` and ``+1``).

    Per-area and per-line labels, kinds, sides, steps are tuples/arrays in index order, so drawing code needs
    no dictionary look-up per frame.
    """

    area_ids: tuple[str, ...]
    area_labels: tuple[str, ...]
    area_kinds: tuple[str, ...]
    area_sides: tuple[str, ...]
    area_vessel_care: np.ndarray  # (A,) bool
    area_index: np.ndarray  # (P,) intp, landmark per outline point
    area_offset: np.ndarray  # (P, 2) float32, (across, down) in face heights (the forehead's top row)
    area_offsets: np.ndarray  # (A+1,) int32
    area_ring: np.ndarray  # (P, R) intp into P, each outline point's ring neighbours, nearest first
    line_ids: tuple[str, ...]
    line_labels: tuple[str, ...]
    line_sides: tuple[str, ...]
    line_drains_to: tuple[str, ...]
    line_steps: np.ndarray  # (L,) int32
    control_index: np.ndarray  # (K,) intp, landmark per control point
    control_offset: np.ndarray  # (K, 2) float32, (across, down) in face heights
    control_chain: np.ndarray  # (K, C) intp, landmarks an off-mesh control hangs from, first visible wins
    weights: np.ndarray  # (Q, K) float32, resampling matrix
    line_offsets: np.ndarray  # (L+1,) int32 into Q
    segment_offsets: np.ndarray  # (L+1,) int32 into S
    segment_start: np.ndarray  # (S,) intp into Q
    segment_line: np.ndarray  # (S,) int32
    segment_off_mesh: np.ndarray  # (S,) bool, segments of lines with points off the mesh (the neck)

    @classmethod
    def from_catalogue(cls, catalogue: Catalogue) -> GeometryIndex:
        """Build (or fetch the cached) index tables of ``catalogue``."""
        return _index_for(catalogue)

    @property
    def num_areas(self) -> int:
        return len(self.area_ids)

    @property
    def num_lines(self) -> int:
        return len(self.line_ids)

    @property
    def num_segments(self) -> int:
        return int(self.segment_offsets[-1])


@dataclass(frozen=True, eq=False)
class FaceGeometry:
    """Areas and strokes of F faces in pixels of the frame as shown.

    area_points (F, P, 2) float32 (area a is ``[area_offsets[a], area_offsets[a+1])``), line_points (F, Q, 2)
    float32 in drawing order (line l is ``[line_offsets[l], line_offsets[l+1])``, its segments
    ``[segment_offsets[l], segment_offsets[l+1])``), px_per_mm (F,) float32, boxes (F, 4) float32 x0 y0 x1 y1
    around face and neck strokes.

    What the camera sees: landmark_visible (F, 478) bool, area_visible_fraction (F, A) float32 (share of each
    outline's points seen), segment_visible (F, S) bool (a stroke segment over hidden mesh, or a neck segment
    that would cross the face, is not seen). An outline point the camera cannot see sits on its nearest seen
    neighbour along the outline, so a partly hidden area covers only its visible part. Landmarks without
    depth (2 columns) count as all visible.
    """

    index: GeometryIndex
    area_points: NDArray[np.float32]
    line_points: NDArray[np.float32]
    px_per_mm: NDArray[np.float32]
    boxes: NDArray[np.float32]
    landmark_visible: NDArray[np.bool_]
    area_visible_fraction: NDArray[np.float32]
    segment_visible: NDArray[np.bool_]

    @property
    def area_visible(self) -> NDArray[np.bool_]:
        """(F, A) bool: areas seen well enough to be drawn (``AREA_MIN_VISIBLE`` of their outline)."""
        return self.area_visible_fraction >= AREA_MIN_VISIBLE

    @property
    def area_ids(self) -> tuple[str, ...]:
        return self.index.area_ids

    @property
    def area_offsets(self) -> np.ndarray:
        return self.index.area_offsets

    @property
    def line_ids(self) -> tuple[str, ...]:
        return self.index.line_ids

    @property
    def line_offsets(self) -> np.ndarray:
        return self.index.line_offsets

    @property
    def segment_offsets(self) -> np.ndarray:
        return self.index.segment_offsets

    def __len__(self) -> int:
        return int(self.area_points.shape[0])

    def polygons(self, face: int) -> list[NDArray[np.float32]]:
        """Outlines of one face as a list of (n, 2) arrays (for cv2.polylines/fillPoly)."""
        return np.split(self.area_points[face], self.index.area_offsets[1:-1])

    def strokes(self, face: int) -> list[NDArray[np.float32]]:
        """Resampled strokes of one face as a list of (n, 2) arrays in drawing order."""
        return np.split(self.line_points[face], self.index.line_offsets[1:-1])

    def segment_midpoints(self) -> NDArray[np.float32]:
        """(F, S, 2) float32 midpoints of every stroke segment."""
        start = self.index.segment_start
        return 0.5 * (self.line_points[:, start] + self.line_points[:, start + 1])


def _check_landmarks(landmarks: NDArray[Any]) -> NDArray[np.float32]:
    array = np.asarray(landmarks)
    if array.ndim != 3 or array.shape[1] != NUM_LANDMARKS or array.shape[2] not in (2, 3):
        raise ValueError(f"landmarks must be (F, 478, 2|3), got {array.shape}")
    if not np.issubdtype(array.dtype, np.number):
        raise ValueError(f"landmarks must be numeric, got {array.dtype}")
    xy = array[..., :2].astype(np.float32)
    if not np.isfinite(xy).all():
        raise ValueError("landmarks contain NaN or infinite coordinates")
    if np.abs(xy).max(initial=0.0) > 1e7:
        raise ValueError("landmark coordinates beyond 1e7 px: not pixel coordinates")
    return xy


def face_axes(
    xy: NDArray[np.float32],
) -> tuple[NDArray[np.float32], NDArray[np.float32], NDArray[np.float32]]:
    """The face's own axes from ``(F, 478, 2)`` landmarks: across (F, 2) unit vector towards the subject's
    left, down (F, 2) unit vector from forehead (10) to chin (152), and the face height (F,) in pixels.

    A degenerate face (forehead on the chin) falls back to the image axes with height 0.
    """
    down = xy[:, CHIN_BOTTOM] - xy[:, FOREHEAD_TOP]
    height = np.linalg.norm(down, axis=1)
    valid = height > 1e-6
    down = np.where(
        valid[:, None], down / np.where(valid, height, 1.0)[:, None], np.array([0.0, 1.0], np.float32)
    )
    across = np.stack([-down[:, 1], down[:, 0]], axis=1)
    eyes = xy[:, EYE_OUTER_LEFT] - xy[:, EYE_OUTER_RIGHT]
    sign = np.where(np.einsum("fc,fc->f", across, eyes) < 0, -1.0, 1.0).astype(np.float32)
    return (across * sign[:, None]).astype(np.float32), down.astype(np.float32), height.astype(np.float32)


def px_per_mm(xy: NDArray[np.float32]) -> NDArray[np.float32]:
    """Pixels per millimetre of each face, ``(F, 478, 2)`` -> ``(F,)`` float32.

    The horizontal iris diameter (about 11.7 mm in adults; irises are landmarks 468-477) averaged over both
    eyes; when it is implausible against the pupil distance, the pupil distance (63 mm) is used instead.
    """
    right, left = xy[:, IRIS_RIGHT], xy[:, IRIS_LEFT]  # centre then rim points (2 and 4 are horizontal)
    iris = 0.5 * (
        np.linalg.norm(right[:, 1] - right[:, 3], axis=1) + np.linalg.norm(left[:, 1] - left[:, 3], axis=1)
    )
    pupils = np.linalg.norm(right[:, 0] - left[:, 0], axis=1)
    ratio = iris / np.maximum(pupils, 1e-6)
    plausible = (ratio > _PLAUSIBLE_IRIS_TO_IPD[0]) & (ratio < _PLAUSIBLE_IRIS_TO_IPD[1])
    return np.where(plausible, iris / IRIS_DIAMETER_MM, pupils / INTERPUPILLARY_MM).astype(np.float32)


def _control_points(xy: np.ndarray, index: np.ndarray, offset: np.ndarray) -> np.ndarray:
    """Gathered points moved by their face-axis offsets: (F, 478, 2), index (K,) or (F, K) -> (F, K, 2)."""
    across, down, height = face_axes(xy)
    shift = offset[None, :, 0:1] * across[:, None, :] + offset[None, :, 1:2] * down[:, None, :]
    gathered = xy[:, index] if index.ndim == 1 else np.take_along_axis(xy, index[..., None], axis=1)
    return gathered + height[:, None, None] * shift


def _inside(points: np.ndarray, polygons: np.ndarray) -> np.ndarray:
    """Even-odd test of ``points (F, N, 2)`` against one closed polygon per face ``(F, V, 2)`` -> (F, N)."""
    a = polygons[:, None, :, :]
    b = np.roll(polygons, -1, axis=1)[:, None, :, :]
    p = points[:, :, None, :]
    straddles = (a[..., 1] > p[..., 1]) != (b[..., 1] > p[..., 1])
    dy = np.where(b[..., 1] == a[..., 1], 1e-12, b[..., 1] - a[..., 1])
    x_cross = a[..., 0] + (p[..., 1] - a[..., 1]) * (b[..., 0] - a[..., 0]) / dy
    return ((straddles & (p[..., 0] < x_cross)).sum(axis=2) % 2).astype(bool)


def face_geometry(faces: Faces | NDArray[np.floating[Any]], index: GeometryIndex) -> FaceGeometry:
    """Areas and resampled strokes of every face, and what of them the camera sees: ``Faces`` or
    ``(F, 478, 2|3)`` landmarks -> geometry.

    Raises ``ValueError`` for a wrong shape or non-finite coordinates.
    """
    raw = np.asarray(faces.landmarks if isinstance(faces, Faces) else faces)
    xy = _check_landmarks(raw)
    count = xy.shape[0]
    visible = np.ones((count, NUM_LANDMARKS), bool)
    anchorable = visible
    if raw.shape[2] == 3 and count:
        depth = raw[..., 2].astype(np.float32)
        usable = (np.isfinite(depth) & (np.abs(depth) < 1e7)).all(axis=1)  # else: no depth, all seen
        if usable.any():
            facing, occluded = landmark_facing(np.concatenate([xy[usable], depth[usable, :, None]], axis=2))
            visible, anchorable = visible.copy(), visible.copy()
            visible[usable] = (facing > MIN_FACING) & ~occluded
            anchorable[usable] = (facing > ANCHOR_MIN_FACING) & ~occluded
    # a hidden outline point moves onto its nearest seen neighbour along the outline
    seen_outline = visible[:, index.area_index]
    seen_ring = seen_outline[:, index.area_ring]  # (F, P, R)
    nearest = index.area_ring[np.arange(len(index.area_ring))[None, :], np.argmax(seen_ring, axis=2)]
    outline_points = _control_points(xy, index.area_index, index.area_offset)
    area_points = np.take_along_axis(outline_points, nearest[..., None], axis=1)
    # an off-mesh control hangs from the first landmark of its chain the camera sees
    seen_chain = anchorable[:, index.control_chain]  # (F, K, C)
    first = np.argmax(seen_chain, axis=2)
    anchors = index.control_chain[np.arange(len(index.control_chain))[None, :], first]  # (F, K)
    controls = _control_points(xy, anchors, index.control_offset)
    control_seen = seen_chain.any(axis=2).astype(np.float32)
    line_points = np.einsum("qk,fkc->fqc", index.weights, controls).astype(np.float32)
    point_seen = np.einsum("qk,fk->fq", index.weights, control_seen) >= POINT_MIN_VISIBLE
    start = index.segment_start
    segment_visible = point_seen[:, start] & point_seen[:, start + 1]
    if index.segment_off_mesh.any() and count:
        # a neck segment never crosses the face: one whose midpoint lies inside the face's outline (shrunk a
        # little, as the neck starts just inside the jaw's curve below the ear) is hidden
        off = np.flatnonzero(index.segment_off_mesh)
        middle = 0.5 * (line_points[:, start[off]] + line_points[:, start[off] + 1])
        oval = xy[:, list(FACE_OVAL)]
        centre = oval.mean(axis=1, keepdims=True)
        segment_visible[:, off] &= ~_inside(middle, centre + INNER_FACE * (oval - centre))
    fraction = np.add.reduceat(seen_outline.astype(np.float32), index.area_offsets[:-1], axis=1) / np.diff(
        index.area_offsets
    )
    everything = np.concatenate([xy, line_points, area_points], axis=1)
    boxes = np.concatenate([everything.min(axis=1), everything.max(axis=1)], axis=1).astype(np.float32)
    return FaceGeometry(
        index,
        area_points,
        line_points,
        px_per_mm(xy),
        boxes,
        visible,
        fraction.astype(np.float32).reshape(count, index.num_areas),
        segment_visible,
    )


def reference_landmarks() -> NDArray[np.float32]:
    """A frontal reference face, ``(1, 478, 2)`` float32 in millimetres, used to plan stroke resampling.

    Made from the landmarks of samples/grace_hopper.jpg, scaled by its iris and averaged with its mirror image
    so that left and right strokes get the same number of segments.
    """
    return np.load(REFERENCE_FACE).astype(np.float32).reshape(1, NUM_LANDMARKS, 2)


def _resampling(lengths: list[np.ndarray], spacing: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Interpolation weights splitting each control segment into pieces about ``spacing`` long.

    ``lengths[l]`` holds the control-segment lengths of line l. Returns weights (Q, K), line offsets (L+1,)
    into Q and segment offsets (L+1,) into S.
    """
    rows: list[np.ndarray] = []
    line_offsets, segment_offsets = [0], [0]
    column = 0
    total_controls = sum(len(seg) + 1 for seg in lengths)
    for seg in lengths:
        pieces = np.maximum(1, np.rint(seg / spacing)).astype(int)
        start = np.repeat(np.arange(len(seg)), pieces)
        fraction = np.concatenate([np.arange(n) / n for n in pieces])
        block = np.zeros((len(start) + 1, total_controls), np.float32)
        block[np.arange(len(start)), column + start] = 1.0 - fraction
        block[np.arange(len(start)), column + start + 1] = fraction
        block[-1, column + len(seg)] = 1.0
        rows.append(block)
        column += len(seg) + 1
        line_offsets.append(line_offsets[-1] + len(block))
        segment_offsets.append(segment_offsets[-1] + len(block) - 1)
    return np.concatenate(rows), np.asarray(line_offsets, np.int32), np.asarray(segment_offsets, np.int32)


@functools.lru_cache(maxsize=8)
def _index_for(catalogue: Catalogue) -> GeometryIndex:
    areas, lines = catalogue.areas, catalogue.lines
    outline_lengths = [len(a.outline) for a in areas]
    control_index = np.asarray([p.landmark for line in lines for p in line.path], np.intp)
    control_offset = np.asarray([p.offset for line in lines for p in line.path], np.float32).reshape(-1, 2)
    control_chain = _chains(control_index, control_offset)
    area_offset = np.asarray(
        [dict(a.offsets).get(i, (0.0, 0.0)) for a in areas for i in a.outline], np.float32
    ).reshape(-1, 2)
    controls = _control_points(reference_landmarks(), control_index, control_offset)[0]
    bounds = np.cumsum([0] + [len(line.path) for line in lines])
    lengths = [np.linalg.norm(np.diff(controls[a:b], axis=0), axis=1) for a, b in itertools.pairwise(bounds)]
    weights, line_offsets, segment_offsets = _resampling(lengths, catalogue.defaults.stroke_spacing_mm)
    segment_line = np.repeat(np.arange(len(lines), dtype=np.int32), np.diff(segment_offsets))
    segment_start = (np.arange(int(segment_offsets[-1])) + segment_line).astype(np.intp)
    off_mesh_lines = np.asarray([any(p.offset != (0.0, 0.0) for p in line.path) for line in lines], bool)
    index = GeometryIndex(
        area_ids=tuple(a.id for a in areas),
        area_labels=tuple(a.label for a in areas),
        area_kinds=tuple(a.kind for a in areas),
        area_sides=tuple(a.side for a in areas),
        area_vessel_care=np.asarray([a.vessel_care for a in areas], bool),
        area_index=np.asarray([i for a in areas for i in a.outline], np.intp),
        area_offset=area_offset,
        area_ring=_rings(outline_lengths),
        area_offsets=np.cumsum([0, *outline_lengths]).astype(np.int32),
        line_ids=tuple(line.id for line in lines),
        line_labels=tuple(line.label for line in lines),
        line_sides=tuple(line.side for line in lines),
        line_drains_to=tuple(line.drains_to for line in lines),
        line_steps=np.asarray([line.step for line in lines], np.int32),
        control_index=control_index,
        control_offset=control_offset,
        control_chain=control_chain,
        weights=weights,
        line_offsets=line_offsets,
        segment_offsets=segment_offsets,
        segment_start=segment_start,
        segment_line=segment_line,
        segment_off_mesh=off_mesh_lines[segment_line],
    )
    for array in vars(index).values():
        if isinstance(array, np.ndarray):
            array.setflags(write=False)
    return index


def _chains(control_index: np.ndarray, control_offset: np.ndarray) -> np.ndarray:
    """``(K, C) intp``: per control point, the landmarks it may hang from, in order. A point off the mesh
    whose landmark is on the face's outline may move along the outline towards the chin (the shorter way);
    any other point keeps its own landmark (the row repeats it)."""
    oval = list(FACE_OVAL)
    chin = oval.index(CHIN_BOTTOM)
    chains: list[list[int]] = []
    for landmark, offset in zip(control_index.tolist(), control_offset.tolist(), strict=True):
        if offset == [0.0, 0.0] or landmark not in oval:
            chains.append([landmark])
            continue
        at = oval.index(landmark)
        forward = (chin - at) % len(oval)
        step = 1 if forward <= len(oval) - forward else -1
        count = min(forward, len(oval) - forward)
        chains.append([oval[(at + step * k) % len(oval)] for k in range(count + 1)])
    width = max(len(chain) for chain in chains)
    return np.asarray([chain + [chain[-1]] * (width - len(chain)) for chain in chains], np.intp)


def _rings(lengths: list[int]) -> np.ndarray:
    """``(P, R) intp``: for each outline point, the points of its own outline by distance along the ring
    (itself, then one step either way, ...), padded with the farthest; R is the longest outline."""
    width = max(lengths)
    rows: list[list[int]] = []
    start = 0
    for n in lengths:
        steps = [0] + [d for k in range(1, n // 2 + 1) for d in (-k, k)]
        for i in range(n):
            ring = list(dict.fromkeys(start + (i + d) % n for d in steps))
            rows.append(ring + [ring[-1]] * (width - len(ring)))
        start += n
    return np.asarray(rows, np.intp)
