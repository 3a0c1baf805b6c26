"""Heads-up display: frame rate and the face-quality hint ("move closer", "turn to the camera", ...)."""

from __future__ import annotations

from typing import Literal

import numpy as np

from overlays.layout import NOTHING_TAKEN, Placed, paste_all
from overlays.scene import SceneData
from overlays.sprites import text_sprite
from overlays.style import CAUTION_AMBER, MIN_TEXT_PX, WHITE, Color, text_px

Corner = Literal["top-left", "top-right", "bottom-left", "bottom-right"]


def corner_origin(
    frame_size: tuple[int, int], size: tuple[int, int], corner: Corner, margin: int
) -> tuple[int, int]:
    """Top-left pixel of a ``size`` (w, h) box placed in ``corner`` of a ``frame_size`` (w, h) frame."""
    width, height = frame_size
    box_w, box_h = size
    x = margin if corner.endswith("left") else width - box_w - margin
    y = margin if corner.startswith("top") else height - box_h - margin
    return x, y


class HudAnnotator:
    """Small text in a corner: fps (white) above what the frame's notes say was not found or is not drawn
    (amber: no face, the map not fitting, a face too small or turned, areas out of sight, faces without
    the plan; up to ``max_notes`` of them).

    size_px is the text height on a frame whose short side is 720 px (scaled with that side); rows too wide
    for the frame (a tall portrait, a long note) are set smaller until they fit, never below ``MIN_TEXT_PX``.

    Sprites are cached per text, and fps is rounded to whole frames, so a frame costs two masked copies.
    """

    def __init__(
        self,
        size_px: int = 16,
        corner: Corner = "bottom-left",
        margin: int = 10,
        color: Color = WHITE,
        hint_color: Color = CAUTION_AMBER,
        show_fps: bool = True,
        max_notes: int = 3,
    ) -> None:
        self.size_px = size_px
        self.corner = corner
        self.margin = margin
        self.color = color
        self.hint_color = hint_color
        self.show_fps = show_fps
        self.max_notes = max_notes

    def place(self, data: SceneData, taken: np.ndarray) -> list[Placed]:
        """The rows stacked in the HUD's corner (its own corner: ``taken`` does not move it)."""
        del taken
        frame_size = data.frame_size
        texts = [(note, self.hint_color) for note in data.notes[: self.max_notes]]
        if self.show_fps and data.fps is not None:
            texts.insert(0, (f"{data.fps:.0f} fps", self.color))
        if not texts:
            return []
        size = text_px(self.size_px, min(frame_size))
        rows = [text_sprite(text, size, color) for text, color in texts]
        room = frame_size[0] - 2 * self.margin
        widest = max(s.width for s in rows)
        if widest > room and size > MIN_TEXT_PX:
            size = max(MIN_TEXT_PX, size * room // widest)
            rows = [text_sprite(text, size, color) for text, color in texts]
        gap = size // 3
        width = max(s.width for s in rows)
        height = sum(s.height for s in rows) + gap * (len(rows) - 1)
        x, y = corner_origin(frame_size, (width, height), self.corner, self.margin)
        placed = []
        for sprite in rows:
            placed.append(Placed(sprite, x, y))
            y += sprite.height + gap
        return placed

    def annotate(self, scene: np.ndarray, data: SceneData) -> np.ndarray:
        """Draw on ``scene`` (BGR uint8, in place) and return it."""
        return paste_all(scene, self.place(data, NOTHING_TAKEN))
