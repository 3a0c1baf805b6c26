"""One Euro filter (Casiez, Roussel, Vogel, CHI 2012) over every landmark of every face at once.

Still faces get a low cut-off (jitter removed), moving faces a higher one (little lag): the cut-off rises with
the filtered speed. Speed is measured in face widths per second, so one setting suits near and far faces.
Time comes from frame time stamps, so dropped frames and variable frame rates are handled.
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

    Call it once per frame with the time stamp in milliseconds. It restarts (passes the input through) after
    ``reset()``, on the first call, and whenever the shape changes (a face was lost or one appeared).
    """

    def __init__(self, config: OneEuroConfig | None = None) -> None:
        self.config = config or OneEuroConfig()
        self._value: np.ndarray | None = None
        self._speed: np.ndarray | None = None
        self._timestamp_ms: float | None = None

    def reset(self) -> None:
        """Forget the history: the next call returns its input unchanged."""
        self._value = self._speed = None
        self._timestamp_ms = None

    def __call__(
        self, values: np.ndarray, timestamp_ms: float, scale: np.ndarray | None = None
    ) -> np.ndarray:
        """Filter ``values`` ``(F, N, D)`` seen at ``timestamp_ms``; returns a new float32 array, same shape.

        ``scale`` ``(F,)`` (face widths in the values' units) turns speed into face widths per second; without
        it speed is in the values' own units per second.
        """
        values = np.asarray(values, dtype=np.float32)
        if values.ndim != 3:
            raise ValueError(f"values must be (F, N, D), got {values.shape}")
        if scale is not None and np.shape(scale) != (values.shape[0],):
            raise ValueError(f"scale must be ({values.shape[0]},), got {np.shape(scale)}")
        previous = self._value
        if previous is None or previous.shape != values.shape or self._timestamp_ms is None:
            self._start(values, timestamp_ms)
            return values.copy()
        dt_s = max(float(timestamp_ms - self._timestamp_ms), 1.0) / 1000.0
        speed = (values - previous) / dt_s
        if scale is not None:
            speed /= np.maximum(np.asarray(scale, np.float32), 1e-6)[:, None, None]
        speed = self._speed + _alpha(self.config.derivative_cutoff, dt_s) * (speed - self._speed)
        cutoff = self.config.min_cutoff + self.config.beta * np.abs(speed)
        filtered = previous + _alpha(cutoff, dt_s) * (values - previous)
        self._value, self._speed, self._timestamp_ms = filtered, speed, float(timestamp_ms)
        return filtered.copy()  # the caller may edit its copy; the history stays intact

    def _start(self, values: np.ndarray, timestamp_ms: float) -> None:
        self._value = values.copy()
        self._speed = np.zeros_like(values)
        self._timestamp_ms = float(timestamp_ms)
