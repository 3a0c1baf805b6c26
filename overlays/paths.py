"""Vectorised geometry of massage strokes: arrowhead triangles for all segments at once."""

from __future__ import annotations

import numpy as np


def arrowheads(starts: np.ndarray, ends: np.ndarray, length: float, width: float) -> np.ndarray:
    """Filled arrowhead triangles whose tips sit on ``ends``, pointing from ``starts`` towards ``ends``.

    starts, ends (N, 2) float px -> ``(N, 3, 2) float32``: tip, left base corner, right base corner.
    Degenerate (zero-length) segments get a triangle collapsed onto the tip (draws nothing visible).
    """
    starts = np.asarray(starts, np.float32)
    ends = np.asarray(ends, np.float32)
    if starts.shape != ends.shape or starts.ndim != 2 or starts.shape[1] != 2:
        raise ValueError(f"starts and ends must both be (N, 2), got {starts.shape} and {ends.shape}")
    direction = ends - starts
    norm = np.hypot(direction[:, 0], direction[:, 1])[:, None]
    unit = direction / np.maximum(norm, 1e-6) * (norm > 1e-6)  # per-row arithmetic, no Python per row
    base = ends - unit * length
    side = unit[:, ::-1] * np.array([-width / 2, width / 2], np.float32)  # the unit normal, half a width long
    triangles = np.empty((len(ends), 3, 2), np.float32)
    triangles[:, 0] = ends
    triangles[:, 1] = base + side
    triangles[:, 2] = base - side
    return triangles


def neighbours(offsets: np.ndarray, *, closed: bool) -> tuple[np.ndarray, np.ndarray]:
    """Previous and next point of every point of concatenated polylines (or rings, when ``closed``).

    offsets (L+1,) int: polyline l owns points ``[offsets[l], offsets[l+1])``. An open polyline's ends are
    their own outer neighbour; a ring wraps around. Returns ``(prev (N,), next (N,)) intp``.
    """
    offsets = np.asarray(offsets, np.intp)
    counts = np.diff(offsets)
    owner = np.repeat(np.arange(len(counts)), counts)
    first, last = offsets[:-1][owner], offsets[1:][owner] - 1
    points = np.arange(int(offsets[-1]))
    if closed:
        return np.where(points == first, last, points - 1), np.where(points == last, first, points + 1)
    return np.maximum(points - 1, first), np.minimum(points + 1, last)


def vertex_normals(points: np.ndarray, prev: np.ndarray, following: np.ndarray) -> np.ndarray:
    """Unit normals ``(N, 2) float32`` at the vertices whose neighbours are ``prev``/``following`` (N,)
    indices into ``points (Q, 2)``, from the chord between those neighbours.

    Offsetting a polyline by ``k * normals`` draws a parallel copy ``k`` px to one side: several 1 px
    anti-aliased copies make a thick anti-aliased stroke far faster than OpenCV's thick-line path.
    """
    chord = points[following] - points[prev]
    length = np.maximum(np.hypot(chord[:, 0], chord[:, 1]), 1e-6)[:, None]
    return (chord[:, ::-1] * _QUARTER_TURN / length).astype(np.float32, copy=False)


_QUARTER_TURN = np.array([-1.0, 1.0], np.float32)  # (y, x) * (-1, 1) = (-y, x): the chord turned a quarter


def stroke_shifts(width_px: float) -> np.ndarray:
    """Sideways shifts of the 1 px copies that together paint a stroke ``width_px`` wide (1 px apart)."""
    count = max(1, round(width_px))
    return np.linspace(-(count - 1) / 2, (count - 1) / 2, count, dtype=np.float32)
