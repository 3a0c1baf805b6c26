"""Treated areas on the face: no-touch red with hatching and an outline, caution amber, safe unobtrusive."""

from __future__ import annotations

from functools import lru_cache

import cv2
import numpy as np

from overlays.scene import AreaGroups, FaceRegion, SceneData
from overlays.style import CAUTION_AMBER, NO_TOUCH_RED, SAFE_OUTLINE, SUBPIXEL_SHIFT, Color

_HALF_PX = 1 << (SUBPIXEL_SHIFT - 1)
_OUTLINE_STEPS = (0, _HALF_PX, -_HALF_PX, 2 * _HALF_PX)  # fixed-point offsets of successive outline copies


@lru_cache(maxsize=8)
def solid(height: int, width: int, color: Color) -> np.ndarray:
    """A cached frame-sized ``(height, width, 3) uint8`` image of one colour, sliced for masked copies."""
    return np.full((height, width, 3), color, np.uint8)


@lru_cache(maxsize=8)
def hatched(height: int, width: int, color: Color, stripe: Color, spacing: int, thickness: int) -> np.ndarray:
    """A cached frame-sized ``(height, width, 3) uint8`` image of ``color`` crossed by diagonal ``stripe``
    lines ``thickness`` px wide every ``spacing`` px (none when ``spacing`` is 0).

    No-touch areas blend it in one pass, tint and hatching together; the stripes are anchored to the frame,
    so they never swim as the face moves.
    """
    image = np.full((height, width, 3), color, np.uint8)
    if spacing > 0:
        ys, xs = np.ogrid[:height, :width]
        image[(xs + ys) % spacing < thickness] = stripe
    return image


class ZoneAnnotator:
    """Tints areas by status inside each face's box only.

    opacity: strength of the red and amber tints (0..1); hatch_spacing / hatch_thickness / hatch_color: the
    diagonal stripes over no-touch areas (0 spacing turns them off), blended like the tint, dark so they read
    as darker lines on any skin; show_safe: a thin pale outline around safe areas
    (pale rather than green, so it never reads as a stroke). No-touch areas are tinted with their margin.
    """

    def __init__(
        self,
        opacity: float = 0.42,
        outline_thickness: int = 2,
        hatch_spacing: int = 9,
        hatch_thickness: int = 2,
        hatch_color: Color = (10, 5, 50),
        show_safe: bool = True,
        no_touch_color: Color = NO_TOUCH_RED,
        caution_color: Color = CAUTION_AMBER,
        safe_color: Color = SAFE_OUTLINE,
    ) -> None:
        if not 0.0 <= opacity <= 1.0:
            raise ValueError(f"opacity must be within 0..1, got {opacity}")
        if not 1 <= outline_thickness <= len(_OUTLINE_STEPS):
            raise ValueError(f"outline_thickness must be 1..{len(_OUTLINE_STEPS)}, got {outline_thickness}")
        self.opacity = opacity
        self.outline_thickness = outline_thickness
        self.hatch_spacing = hatch_spacing
        self.hatch_thickness = hatch_thickness
        self.hatch_color = hatch_color
        self.show_safe = show_safe
        self.no_touch_color = no_touch_color
        self.caution_color = caution_color
        self.safe_color = safe_color

    def annotate(self, scene: np.ndarray, data: SceneData) -> np.ndarray:
        """Draw on ``scene`` (BGR uint8, in place) and return it."""
        groups = data.area_groups
        for region in data.regions:
            if region.no_touch_mask.size:
                self._draw_region(scene, region, groups)
        return scene

    def _draw_region(self, scene: np.ndarray, region: FaceRegion, groups: AreaGroups) -> None:
        polygons = region.polygons_fixed
        no_touch_areas = region.drawn(groups.no_touch)
        no_touch = [polygons[a] for a in no_touch_areas]
        caution = [polygons[a] for a in region.drawn(groups.caution)]
        roi = region.view(scene)
        self._fill(scene, region, groups, caution, no_touch)
        safe = [polygons[a] for a in region.drawn(groups.safe)]
        if self.show_safe and safe:  # faint: no need for anti-aliasing
            cv2.polylines(roi, safe, True, self.safe_color, 1, cv2.LINE_8, SUBPIXEL_SHIFT)
        if caution:
            cv2.polylines(roi, caution, True, self.caution_color, 1, cv2.LINE_AA, SUBPIXEL_SHIFT)
        if no_touch:
            # A thick AA line is OpenCV's slow path: 1 px AA copies, half a pixel apart, look the same.
            copies = list(no_touch)
            for step in _OUTLINE_STEPS[1 : self.outline_thickness]:
                shifted = region.points + step
                copies += [shifted[groups.slices[a]] for a in no_touch_areas]
            cv2.polylines(roi, copies, True, self.no_touch_color, 1, cv2.LINE_AA, SUBPIXEL_SHIFT)

    def _fill(
        self,
        scene: np.ndarray,
        region: FaceRegion,
        groups: AreaGroups,
        caution: list[np.ndarray],
        no_touch: list[np.ndarray],
    ) -> None:
        """Caution areas tinted amber; no-touch areas grown by their margins tinted red and hatched (both
        painted in a scratch copy of their box, then copied in under the mask: red wins over amber)."""
        frame_h, frame_w = scene.shape[:2]
        roi = region.view(scene)
        nx0, ny0, nx1, ny1 = region.no_touch_box
        no_touch_shown = bool(no_touch) and nx1 > nx0 and ny1 > ny0
        if no_touch_shown:
            bx, by = region.box[:2]
            style = (self.no_touch_color, self.hatch_color, self.hatch_spacing, self.hatch_thickness)
            tint = hatched(frame_h, frame_w, *style)[by + ny0 : by + ny1, bx + nx0 : bx + nx1]
            painted = cv2.addWeighted(tint, self.opacity, roi[ny0:ny1, nx0:nx1], 1.0 - self.opacity, 0.0)
        x0, y0, x1, y1 = region.bounds(groups.caution_points) if caution else (0, 0, 0, 0)
        if x1 > x0 and y1 > y0:
            target = roi[y0:y1, x0:x1]
            tinted = target.copy()
            offset = (-x0 << SUBPIXEL_SHIFT, -y0 << SUBPIXEL_SHIFT)
            cv2.fillPoly(tinted, caution, self.caution_color, cv2.LINE_8, SUBPIXEL_SHIFT, offset)
            cv2.addWeighted(tinted, self.opacity, target, 1.0 - self.opacity, 0.0, dst=target)
        if no_touch_shown:
            cv2.copyTo(painted, region.no_touch_mask[ny0:ny1, nx0:nx1], roi[ny0:ny1, nx0:nx1])
