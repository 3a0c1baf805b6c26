"""Colours and sizes shared by every annotator: one place decides what red, amber and green mean.

Colours are BGR uint8 triples (OpenCV's order): no-touch red, caution amber, safe-stroke green, a dark halo
behind text and strokes so they read on any skin.
"""

from __future__ import annotations

import numpy as np

Color = tuple[int, int, int]

SAFE_GREEN: Color = (60, 200, 40)
CAUTION_AMBER: Color = (0, 170, 255)
NO_TOUCH_RED: Color = (40, 30, 225)
HALO: Color = (20, 20, 20)
WHITE: Color = (255, 255, 255)
PANEL_BG: Color = (32, 32, 32)
SAFE_OUTLINE: Color = (215, 225, 215)  # pale, so a safe area never reads as a green stroke

SUBPIXEL_SHIFT = 4  # OpenCV fixed-point bits: polygons drawn at 1/16 px for smooth anti-aliased edges
SUBPIXEL_SCALE = float(1 << SUBPIXEL_SHIFT)


def to_fixed(points: np.ndarray) -> np.ndarray:
    """Float pixel coordinates ``(..., 2)`` to OpenCV fixed-point int32 for ``shift=SUBPIXEL_SHIFT``."""
    return np.rint(np.asarray(points, np.float32) * SUBPIXEL_SCALE).astype(np.int32)


REFERENCE_HEIGHT = 720  # text sizes are given for a 720 px high frame and scale with the frame
MIN_TEXT_PX = 10


def text_px(size_px: int, frame_height: int) -> int:
    """A text size given for a 720 px high frame, scaled to ``frame_height`` (never below 10 px)."""
    return max(MIN_TEXT_PX, round(size_px * frame_height / REFERENCE_HEIGHT))
