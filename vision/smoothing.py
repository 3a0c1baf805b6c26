"""One Euro filter (Casiez, Roussel, Vogel, CHI 2012) over every landmark of every face at once.

Still faces get a low cut-off (jitter removed), moving faces a higher one (little lag): the cut-off rises with
the filtered speed. Speed is measured in face widths per second, so one setting suits near and far faces.
Time comes from frame time stamps, so dropped frames and variable frame rates are handled. ``FaceSmoother``
keeps one history per face, matched from frame to frame by where the face is, whatever its place in the list.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class OneEuroConfig:
    """Filter settings: ``min_cutoff`` Hz when still, ``beta`` Hz added per face width per second of speed,
    ``derivative_cutoff`` Hz for the speed estimate itself."""

    min_cutoff: float = 1.0
    beta: float = 6.0
    derivative_cutoff: float = 1.0

    def __post_init__(self) -> None:
        if self.min_cutoff <= 0 or self.derivative_cutoff <= 0 or self.beta < 0:
            raise ValueError(f"cut-offs must be > 0 and beta >= 0, got {self}")


def _alpha(cutoff_hz: np.ndarray | float, dt_s: float) -> np.ndarray | float:
    """Smoothing factor of an exponential low-pass with the given cut-off, for a step of ``dt_s``."""
    tau = 1.0 / (2.0 * np.pi * cutoff_hz)
    return 1.0 / (1.0 + tau / dt_s)


class OneEuroFilter:
    """Vectorised One Euro filter for ``(F, N, D) float32`` arrays (F faces, N points, D coordinates).

    Call it once per frame with the time stamp in milliseconds. Each row (face) has its own history: it
    restarts (passes the input through) on the first call, for a row that continues no row of the last call
    (``rows``), and for every row when the shape changes without ``rows``.
    """

    def __init__(self, config: OneEuroConfig | None = None) -> None:
        self.config = config or OneEuroConfig()
        self._value: np.ndarray | None = None
        self._speed: np.ndarray | None = None
        self._timestamp_ms: float | None = None

    def __call__(
        self,
        values: np.ndarray,
        timestamp_ms: float,
        scale: np.ndarray | None = None,
        rows: np.ndarray | None = None,
    ) -> np.ndarray:
        """Filter ``values`` ``(F, N, D)`` seen at ``timestamp_ms``; returns a new float32 array, same shape.

        ``scale`` ``(F,)`` (face widths in the values' units) turns speed into face widths per second; without
        it speed is in the values' own units per second. ``rows`` ``(F,) intp`` names the row of the last call
        each face continues (-1: a face new to the filter, passed through); without it the faces continue the
        last call's rows in order when their shape is the same, else all restart. Rows no face continues are
        forgotten.
        """
        values = np.asarray(values, dtype=np.float32)
        if values.ndim != 3:
            raise ValueError(f"values must be (F, N, D), got {values.shape}")
        count = values.shape[0]
        if scale is not None and np.shape(scale) != (count,):
            raise ValueError(f"scale must be ({count},), got {np.shape(scale)}")
        previous, previous_speed, last_ms = self._value, self._speed, self._timestamp_ms
        if previous is None or previous_speed is None or last_ms is None:
            previous = previous_speed = np.zeros((0, *values.shape[1:]), np.float32)
            last_ms = float(timestamp_ms)
        if rows is None:
            rows = np.arange(count) if previous.shape == values.shape else np.full(count, -1)
        rows = np.asarray(rows, np.intp)
        if rows.shape != (count,) or (rows >= len(previous)).any():
            raise ValueError(f"rows must be ({count},) indices below {len(previous)} or -1, got {rows}")
        if previous.shape[1:] != values.shape[1:] and (rows >= 0).any():
            raise ValueError(f"values {values.shape} cannot continue rows of {previous.shape}")
        filtered, speed = values.copy(), np.zeros_like(values)
        going_on = np.flatnonzero(rows >= 0)
        if going_on.size:
            dt_s = max(float(timestamp_ms - last_ms), 1.0) / 1000.0
            continued = rows[going_on]
            past, past_speed, current = previous[continued], previous_speed[continued], values[going_on]
            moved = (current - past) / dt_s
            if scale is not None:
                moved /= np.maximum(np.asarray(scale, np.float32)[going_on], 1e-6)[:, None, None]
            step = past_speed + _alpha(self.config.derivative_cutoff, dt_s) * (moved - past_speed)
            cutoff = self.config.min_cutoff + self.config.beta * np.abs(step)
            filtered[going_on] = past + _alpha(cutoff, dt_s) * (current - past)
            speed[going_on] = step
        self._value, self._speed, self._timestamp_ms = filtered, speed, float(timestamp_ms)
        return filtered.copy()  # the caller may edit its copy; the history stays intact


SAME_FACE_DISTANCE = 0.5  # a box whose centre moved less than this many face widths since the last frame ...
SAME_FACE_SIZE = 1.5  # ... and whose width changed by less than this factor shows the same face


def same_faces(previous: np.ndarray, current: np.ndarray) -> np.ndarray:
    """For each box of ``current (F, 4)``, the row of ``previous (K, 4)`` (boxes x0 y0 x1 y1 of the last
    frame) showing the same face, or -1: ``(F,) intp``. Nearest centres first (in face widths), each row used
    once; a pair further apart than ``SAME_FACE_DISTANCE`` or resized by more than ``SAME_FACE_SIZE`` is
    none."""
    before, now = np.asarray(previous, np.float32), np.asarray(current, np.float32)
    out = np.full(len(now), -1, np.intp)
    if len(before) == 0 or len(now) == 0:
        return out
    widths_before = np.maximum(before[:, 2] - before[:, 0], 1e-6)
    widths_now = np.maximum(now[:, 2] - now[:, 0], 1e-6)
    centres_before = (before[:, :2] + before[:, 2:]) / 2
    centres_now = (now[:, :2] + now[:, 2:]) / 2
    width = np.maximum(widths_now[:, None], widths_before[None, :])  # (F, K)
    distance = np.linalg.norm(centres_now[:, None] - centres_before[None], axis=2) / width
    ratio = width / np.minimum(widths_now[:, None], widths_before[None, :])
    distance[ratio >= SAME_FACE_SIZE] = np.inf
    used = np.zeros(len(before), bool)
    for flat in np.argsort(distance, axis=None).tolist():  # F x K pairs: a handful of faces
        face, row = divmod(flat, len(before))
        if distance[face, row] >= SAME_FACE_DISTANCE:
            break
        if out[face] < 0 and not used[row]:
            out[face], used[row] = row, True
    return out


class FaceSmoother:
    """One Euro smoothing of a stream's faces, each face with its own history however the list is ordered.

    A face continues the history of the face of the last frame at its place (``same_faces``: box centre and
    size); a face with none starts afresh (passed through). A face missing from a frame is forgotten, so one
    lost and found again, or seeded somewhere else, starts afresh too.
    """

    def __init__(self, config: OneEuroConfig | None = None) -> None:
        self._filter = OneEuroFilter(config)
        self._boxes = np.zeros((0, 4), np.float32)

    def __call__(self, landmarks: np.ndarray, boxes: np.ndarray, timestamp_ms: float) -> np.ndarray:
        """Smoothed ``landmarks (F, N, 3) float32`` px of the faces with boxes ``(F, 4)`` (x0 y0 x1 y1) seen
        at ``timestamp_ms``; same shape, a new array."""
        boxes = np.asarray(boxes, np.float32).reshape(-1, 4)
        rows = same_faces(self._boxes, boxes)
        smoothed = self._filter(landmarks, timestamp_ms, scale=boxes[:, 2] - boxes[:, 0], rows=rows)
        self._boxes = boxes.copy()
        return smoothed
