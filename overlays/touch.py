"""The touch guard on screen: touched no-touch areas flash red where they are drawn (the plan's face, what
the camera sees), fingertips get dots (``TouchAnnotator``), a banner names the touched areas
(``TouchBannerAnnotator``, a screen layer). Both read the record's ``touch`` report and draw nothing without
one (hands not tracked).

The flash is driven by the frame's time stamp (on for ``blink_ms``, off for ``blink_ms``, starting *on* the
moment a fingertip enters, so the first warning frame is never a dark one; all touched areas blink in step).
While off, the area keeps a strong outline, so a steady touch still reads as a warning between flashes.
"""

from __future__ import annotations

from functools import lru_cache

import cv2
import numpy as np

from overlays.areas import solid
from overlays.layout import NOTHING_TAKEN, Placed, paste_all
from overlays.scene import SceneData
from overlays.sprites import Sprite, panel_sprite
from overlays.style import CAUTION_AMBER, HALO, NO_TOUCH_RED, SUBPIXEL_SHIFT, WHITE, Color, to_fixed
from zones.touch import POINTS_PER_HAND, TouchReport

FINGERTIPS_PER_HAND = 5
MIN_BANNER_PX = 10  # smallest banner text height that still reads


@lru_cache(maxsize=64)
def banner_sprite(text: str, size_px: int, background: Color, ink: Color = WHITE) -> Sprite:
    """One opaque rounded banner per (text, size, colours): the text changes only with the touched set."""
    return panel_sprite(((text, None),), size_px, background=background, text=ink)


class TouchAnnotator:
    """Flashes touched no-touch areas and marks fingertips.

    fill_opacity: strength of the red fill while flashing; outline_thickness: the touched area's outline;
    blink_ms: half period of the flash; dot_radius: fingertip dots in px at a 640 px wide frame (scaled with
    the frame).
    """

    def __init__(
        self,
        fill_opacity: float = 0.6,
        outline_thickness: int = 4,
        blink_ms: float = 250.0,
        dot_radius: int = 5,
        flash_color: Color = (0, 0, 255),
        dot_color: Color = (110, 110, 110),
    ) -> None:
        if not 0.0 <= fill_opacity <= 1.0:
            raise ValueError(f"fill_opacity must be within 0..1, got {fill_opacity}")
        if blink_ms <= 0:
            raise ValueError(f"blink_ms must be > 0, got {blink_ms}")
        self.fill_opacity = fill_opacity
        self.outline_thickness = outline_thickness
        self.blink_ms = blink_ms
        self.dot_radius = dot_radius
        self.flash_color = flash_color
        self.dot_color = dot_color

    def annotate(self, scene: np.ndarray, data: SceneData) -> np.ndarray:
        """Draw the record's touch report on ``scene`` (BGR uint8, in place) and return it; the flash needs
        a face (its area outlines), the dots do not."""
        touch = data.touch
        if touch is None:
            return scene
        if len(data.faces) and touch.active.any():
            self._flash(scene, touch, data)
        self._dots(scene, touch)
        return scene

    def flash_on(self, touch: TouchReport) -> np.ndarray:
        """``(A,) bool``: the area is active and the flash is in its bright half.

        All touched areas blink together, in a rhythm restarted by the latest entry, so a newly touched area
        lights up at once and several areas never blink out of step.
        """
        if not touch.active.any():
            return touch.active.copy()
        since = touch.timestamp_ms - float(np.max(touch.entered_ms[touch.active]))
        return touch.active & bool(since // self.blink_ms % 2 == 0)

    def _flash(self, scene: np.ndarray, touch: TouchReport, data: SceneData) -> None:
        if tuple(data.geometry.area_ids) != touch.area_ids:
            raise ValueError("the touch report and the scene describe different catalogues")
        active = np.flatnonzero(touch.active).tolist()
        lit = np.flatnonzero(self.flash_on(touch)).tolist()
        for region in data.regions:  # on each face, only the areas drawn there
            roi = region.view(scene)
            face_active, face_lit = region.drawn(active), region.drawn(lit)
            if roi.size == 0 or not face_active:
                continue
            if face_lit:
                fill = np.zeros(roi.shape[:2], np.uint8)
                lit_outlines = [region.polygons_fixed[a] for a in face_lit]
                cv2.fillPoly(fill, lit_outlines, 1, cv2.LINE_8, SUBPIXEL_SHIFT)
                tinted = roi.copy()
                height, width = roi.shape[:2]
                cv2.copyTo(solid(height, width, self.flash_color), fill, tinted)
                cv2.addWeighted(tinted, self.fill_opacity, roi, 1.0 - self.fill_opacity, 0.0, dst=roi)
            outlines = [region.polygons_fixed[a] for a in face_active]
            cv2.polylines(roi, outlines, True, HALO, self.outline_thickness + 3, cv2.LINE_AA, SUBPIXEL_SHIFT)
            cv2.polylines(
                roi, outlines, True, self.flash_color, self.outline_thickness, cv2.LINE_AA, SUBPIXEL_SHIFT
            )

    def _dots(self, scene: np.ndarray, touch: TouchReport) -> None:
        if len(touch.points) == 0:
            return
        tips = np.arange(len(touch.points)) % POINTS_PER_HAND < FINGERTIPS_PER_HAND
        scale = scene.shape[1] / 640.0
        radius = max(2, round(self.dot_radius * scale))
        touching = touch.touching  # tips and pads
        # A zero-length segment drawn thick is a round dot: one call draws every dot of one colour.
        layers = (
            (tips | touching, WHITE, 2 * radius + 3),
            (tips & ~touching, self.dot_color, 2 * radius),
            (touching, self.flash_color, 2 * radius),
        )
        for chosen, color, size in layers:
            if chosen.any():
                dots = np.repeat(to_fixed(touch.points[chosen])[:, None, :], 2, axis=1)  # (N, 2, 2)
                cv2.polylines(scene, list(dots), False, color, size, cv2.LINE_AA, SUBPIXEL_SHIFT)


class TouchBannerAnnotator:
    """A banner across the top naming the touched no-touch areas (red), or saying the face is hidden (amber).

    banner_fraction: text height as a fraction of the frame width. It sits in the top strip between the
    panels already standing there, or under them when that span is too narrow to read.
    """

    def __init__(
        self,
        banner_fraction: float = 1 / 40,
        color: Color = NO_TOUCH_RED,
        hidden_color: Color = CAUTION_AMBER,
    ) -> None:
        self.banner_fraction = banner_fraction
        self.color = color
        self.hidden_color = hidden_color

    def place(self, data: SceneData, taken: np.ndarray) -> list[Placed]:
        """The banner, clear of ``taken`` ``(M, 4)`` x0 y0 x1 y1 (the legend); none without a warning."""
        touch = data.touch
        if touch is None:
            return []
        if touch.active.any():
            labels = touch.active_labels
            lead = "Fingertip in no-touch zone" if len(labels) == 1 else "Fingertips in no-touch zones"
            text, color, ink = f"{lead}: {', '.join(labels)}", self.color, WHITE
        elif touch.face_state == "hidden":
            text, color, ink = "Face hidden: no-touch zones cannot be checked", self.hidden_color, HALO
        else:
            return []
        avoid = np.asarray(taken, np.float32).reshape(-1, 4)
        width = data.frame_size[0]
        margin = max(4, round(width * 0.01))
        size = max(MIN_BANNER_PX, round(width * self.banner_fraction))
        sprite = banner_sprite(text, size, color, ink)
        # The top strip between the panels standing in it on the left and on the right; under the panels
        # when that span is too narrow to read.
        band = avoid[avoid[:, 1] < margin + sprite.height]
        left = float(band[band[:, 0] < width / 2, 2].max(initial=0.0)) + margin
        right = float(band[band[:, 0] >= width / 2, 0].min(initial=width)) - margin
        top = margin
        if right - left < 0.4 * width:
            left, right, top = margin, width - margin, round(float(band[:, 3].max())) + margin
        room = int(right - left)
        if sprite.width > room:  # many areas at once or little room: shrink the text rather than cut it off
            sprite = banner_sprite(text, max(MIN_BANNER_PX, size * room // sprite.width), color, ink)
        return [Placed(sprite, round(left + max(room - sprite.width, 0) / 2), top)]

    def annotate(self, scene: np.ndarray, data: SceneData) -> np.ndarray:
        """Draw on ``scene`` (BGR uint8, in place) and return it."""
        return paste_all(scene, self.place(data, NOTHING_TAKEN))
