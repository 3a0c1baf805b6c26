"""Vectorised geometry of massage strokes: sideways offsets and arrowheads for all segments at once."""

from __future__ import annotations

import numpy as np


def as_complex(points: np.ndarray) -> np.ndarray:
    """``(N, 2)`` float px -> ``(N,) complex64`` ``x + iy`` (a view when already float32 and contiguous).

    In complex form a quarter turn is a product with ``1j``: sideways offsets and arrowhead corners take a
    few whole-array operations.
    """
    if np.ndim(points) != 2 or np.shape(points)[1] != 2:
        raise ValueError(f"points must be (N, 2), got {np.shape(points)}")
    return np.ascontiguousarray(points, np.float32).view(np.complex64)[:, 0]


def offset_vertices(points: np.ndarray, gather: np.ndarray, shifts: np.ndarray) -> np.ndarray:
    """Points moved along the local direction of their path: ``(V,) complex64``.

    points (Q,) complex; gather (3V,) intp holds, for every vertex, the point it ends and starts its
    direction at (``after``, ``before``), then the point it moves from; shifts (V,) complex: vertex g is
    ``points[gather[2V + g]] + shifts[g] * unit(points[gather[g]] - points[gather[V + g]])``. An imaginary
    shift moves sideways (several 1 px anti-aliased copies, 1 px apart, make a thick stroke far faster than
    OpenCV's thick-line path), a real one along the path (arrowhead corners). A zero-length direction leaves
    the point where it is.
    """
    if len(gather) != 3 * len(shifts):
        raise ValueError(f"gather must be (3V,) for shifts (V,) = {np.shape(shifts)}, got {np.shape(gather)}")
    after, before, start = points[gather].reshape(3, -1)
    chord = after - before
    chord /= np.maximum(np.abs(chord), 1e-6)
    chord *= shifts
    chord += start
    return chord


def head_shifts(length: float, width: float) -> np.ndarray:
    """``(4,) complex64`` shifts (for ``offset_vertices``, from the tip along its segment) of a closed
    arrowhead outline: tip, left base corner, right base corner, tip again."""
    return np.array([0, -length + 0.5j * width, -length - 0.5j * width, 0], np.complex64)


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


def stroke_shifts(width_px: float) -> np.ndarray:
    """Sideways shifts of the 1 px copies that together paint a stroke ``width_px`` wide (1 px apart)."""
    count = max(1, round(width_px))
    return np.linspace(-(count - 1) / 2, (count - 1) / 2, count, dtype=np.float32)
