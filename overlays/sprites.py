"""Text as cached sprites: rendered once per (text, style) with Pillow, pasted per frame with a mask.

``cv2.putText`` per frame is slow and ugly at small sizes; a sprite is rendered once with a dark halo
(readable on any skin tone), kept in an LRU cache, and pasted with one masked copy. Sprites are never
flipped: the frame is mirrored before anything is drawn, so text always reads left to right.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

from overlays.style import HALO, PANEL_BG, WHITE, Color

_FONT_FILE = "DejaVuSans-Bold.ttf"
_SYSTEM_FONT_DIRS = (Path("/usr/share/fonts/truetype/dejavu"),)


@dataclass(frozen=True)
class Sprite:
    """A pre-rendered picture to paste: ``pixels (h, w, 3) uint8`` BGR and ``mask (h, w) uint8`` (0 or 1)."""

    pixels: np.ndarray
    mask: np.ndarray

    @property
    def width(self) -> int:
        return int(self.pixels.shape[1])

    @property
    def height(self) -> int:
        return int(self.pixels.shape[0])


def _font_path() -> Path | None:
    """DejaVu Sans Bold from matplotlib's data (a MediaPipe dependency) or the system, else None."""
    spec = importlib.util.find_spec("matplotlib")
    packages = (spec.submodule_search_locations or []) if spec else []
    candidates = [Path(p) / "mpl-data" / "fonts" / "ttf" / _FONT_FILE for p in packages]
    candidates += [d / _FONT_FILE for d in _SYSTEM_FONT_DIRS]
    return next((c for c in candidates if c.is_file()), None)


@lru_cache(maxsize=32)
def font(size_px: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    """A bold sans font at ``size_px``; Pillow's built-in font when no TrueType file is found."""
    path = _font_path()
    if path is not None:
        return ImageFont.truetype(str(path), size_px)
    return ImageFont.load_default(size=size_px)


@lru_cache(maxsize=512)
def text_sprite(text: str, size_px: int, color: Color = WHITE, halo: Color = HALO) -> Sprite:
    """``text`` in ``color`` with a dark halo ``max(2, size/7)`` px wide; cached per argument tuple."""
    halo_px = max(2, size_px // 7)
    face = font(size_px)
    left, top, right, bottom = face.getbbox(text, stroke_width=halo_px)
    width, height = max(1, int(right - left)), max(1, int(bottom - top))
    canvas = Image.new("RGBA", (width, height), (*halo[::-1], 0))
    ImageDraw.Draw(canvas).text(
        (-left, -top),
        text,
        font=face,
        fill=(*color[::-1], 255),
        stroke_width=halo_px,
        stroke_fill=(*halo[::-1], 255),
    )
    rgba = np.asarray(canvas)
    return Sprite(
        pixels=np.ascontiguousarray(rgba[:, :, 2::-1]), mask=(rgba[:, :, 3] >= 128).astype(np.uint8)
    )


@lru_cache(maxsize=64)
def badge_sprite(text: str, size_px: int, color: Color, text_color: Color = HALO) -> Sprite:
    """A filled disc in ``color`` with a dark rim and ``text`` (a step number) in its middle; cached."""
    diameter = round(size_px * 1.45) | 1
    canvas = Image.new("RGB", (diameter, diameter), HALO[::-1])
    mask = Image.new("L", (diameter, diameter), 0)
    ImageDraw.Draw(mask).ellipse((0, 0, diameter - 1, diameter - 1), fill=255)
    draw = ImageDraw.Draw(canvas)
    draw.ellipse((0, 0, diameter - 1, diameter - 1), fill=HALO[::-1])
    draw.ellipse((2, 2, diameter - 3, diameter - 3), fill=color[::-1])
    draw.text((diameter / 2, diameter / 2), text, font=font(size_px), fill=text_color[::-1], anchor="mm")
    rgb = np.asarray(canvas)
    return Sprite(
        pixels=np.ascontiguousarray(rgb[:, :, ::-1]), mask=(np.asarray(mask) >= 128).astype(np.uint8)
    )


@lru_cache(maxsize=64)
def panel_sprite(
    rows: tuple[tuple[str, Color | None], ...],
    size_px: int,
    *,
    width: int | None = None,
    background: Color = PANEL_BG,
    text: Color = WHITE,
) -> Sprite:
    """A rounded dark panel, one row per ``(text, swatch colour or None)``; opaque, so it reads anywhere."""
    face = font(size_px)
    pad, gap = size_px // 2, size_px // 3
    swatch = size_px
    line_h = size_px + gap
    widths = [int(face.getbbox(t)[2]) + (swatch + gap if c is not None else 0) for t, c in rows]
    panel_w = width or (max(widths, default=0) + 2 * pad)
    panel_h = len(rows) * line_h - gap + 2 * pad
    canvas = Image.new("RGB", (panel_w, panel_h), background[::-1])
    mask = Image.new("L", (panel_w, panel_h), 0)
    ImageDraw.Draw(mask).rounded_rectangle((0, 0, panel_w - 1, panel_h - 1), radius=pad, fill=255)
    draw = ImageDraw.Draw(canvas)
    for row, (label, swatch_color) in enumerate(rows):
        y = pad + row * line_h
        x = pad
        if swatch_color is not None:
            draw.rounded_rectangle(
                (x, y, x + swatch, y + swatch), radius=swatch // 4, fill=swatch_color[::-1]
            )
            x += swatch + gap
        draw.text((x, y + size_px // 2), label, font=face, fill=text[::-1], anchor="lm")
    rgb = np.asarray(canvas)
    return Sprite(
        pixels=np.ascontiguousarray(rgb[:, :, ::-1]), mask=(np.asarray(mask) >= 128).astype(np.uint8)
    )


def paste(scene: np.ndarray, sprite: Sprite, x: int, y: int) -> None:
    """Copy ``sprite`` into ``scene`` with its top-left corner at ``(x, y)``, clipped, in place."""
    height, width = scene.shape[:2]
    rows, cols = sprite.mask.shape
    if x >= 0 and y >= 0 and x + cols <= width and y + rows <= height:  # the usual case: all of it shows
        cv2.copyTo(sprite.pixels, sprite.mask, scene[y : y + rows, x : x + cols])  # writes into the view
        return
    x0, y0 = max(x, 0), max(y, 0)
    x1, y1 = min(x + cols, width), min(y + rows, height)
    if x0 >= x1 or y0 >= y1:
        return
    part = (slice(y0 - y, y1 - y), slice(x0 - x, x1 - x))
    cv2.copyTo(sprite.pixels[part], sprite.mask[part], scene[y0:y1, x0:x1])
