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
from zones.catalogue import Catalogue

IRIS_DIAMETER_MM = 11.7  # adult horizontal visible iris diameter
INTERPUPILLARY_MM = 63.0  # adult mean, the fallback scale
FOREHEAD_TOP, CHIN_BOTTOM = 10, 152  # the face's own "down" axis and its length (one face height)
EYE_OUTER_RIGHT, EYE_OUTER_LEFT = 33, 263  # fix which way "across" (towards the subject's left) points
REFERENCE_FACE = Path(__file__).resolve().parent / "reference_face.npy"
_PLAUSIBLE_IRIS_TO_IPD = (0.12, 0.30)  # iris diameter / pupil distance outside this: trust the pupils


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
    area_offsets: np.ndarray  # (A+1,) int32
    line_ids: tuple[str, ...]
    line_labels: tuple[str, ...]
    line_sides: tuple[str, ...]
    line_drains_to: tuple[str, ...]
    line_steps: np.ndarray  # (L,) int32
    control_index: np.ndarray  # (K,) intp, landmark per control point
    control_offset: np.ndarray  # (K, 2) float32, (across, down) in face heights
    weights: np.ndarray  # (Q, K) float32, resampling matrix
    line_offsets: np.ndarray  # (L+1,) int32 into Q
    segment_offsets: np.ndarray  # (L+1,) int32 into S
    segment_start: np.ndarray  # (S,) intp into Q
    segment_line: np.ndarray  # (S,) int32

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
    """

    index: GeometryIndex
    area_points: NDArray[np.float32]
    line_points: NDArray[np.float32]
    px_per_mm: NDArray[np.float32]
    boxes: NDArray[np.float32]

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
    """Gathered control points moved by their face-axis offsets: (F, 478, 2) -> (F, K, 2)."""
    across, down, height = face_axes(xy)
    shift = offset[None, :, 0:1] * across[:, None, :] + offset[None, :, 1:2] * down[:, None, :]
    return xy[:, index] + height[:, None, None] * shift


def face_geometry(faces: Faces | NDArray[np.floating[Any]], index: GeometryIndex) -> FaceGeometry:
    """Areas and resampled strokes of every face: ``Faces`` or ``(F, 478, 2|3)`` landmarks -> geometry.

    Raises ``ValueError`` for a wrong shape or non-finite coordinates.
    """
    xy = _check_landmarks(faces.landmarks if isinstance(faces, Faces) else faces)
    area_points = xy[:, index.area_index]
    controls = _control_points(xy, index.control_index, index.control_offset)
    line_points = np.einsum("qk,fkc->fqc", index.weights, controls).astype(np.float32)
    everything = np.concatenate([xy, line_points], axis=1)
    boxes = np.concatenate([everything.min(axis=1), everything.max(axis=1)], axis=1).astype(np.float32)
    return FaceGeometry(index, area_points, line_points, px_per_mm(xy), boxes)


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
    controls = _control_points(reference_landmarks(), control_index, control_offset)[0]
    bounds = np.cumsum([0] + [len(line.path) for line in lines])
    lengths = [np.linalg.norm(np.diff(controls[a:b], axis=0), axis=1) for a, b in itertools.pairwise(bounds)]
    weights, line_offsets, segment_offsets = _resampling(lengths, catalogue.defaults.stroke_spacing_mm)
    segment_line = np.repeat(np.arange(len(lines), dtype=np.int32), np.diff(segment_offsets))
    segment_start = (np.arange(int(segment_offsets[-1])) + segment_line).astype(np.intp)
    index = GeometryIndex(
        area_ids=tuple(a.id for a in areas),
        area_labels=tuple(a.label for a in areas),
        area_kinds=tuple(a.kind for a in areas),
        area_sides=tuple(a.side for a in areas),
        area_vessel_care=np.asarray([a.vessel_care for a in areas], bool),
        area_index=np.asarray([i for a in areas for i in a.outline], np.intp),
        area_offsets=np.cumsum([0, *outline_lengths]).astype(np.int32),
        line_ids=tuple(line.id for line in lines),
        line_labels=tuple(line.label for line in lines),
        line_sides=tuple(line.side for line in lines),
        line_drains_to=tuple(line.drains_to for line in lines),
        line_steps=np.asarray([line.step for line in lines], np.int32),
        control_index=control_index,
        control_offset=control_offset,
        weights=weights,
        line_offsets=line_offsets,
        segment_offsets=segment_offsets,
        segment_start=segment_start,
        segment_line=segment_line,
    )
    for array in vars(index).values():
        if isinstance(array, np.ndarray):
            array.setflags(write=False)
    return index
