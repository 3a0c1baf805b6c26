"""Faces that carry no guidance: a neutral outline and a short tag, so nobody reads them as mapped.

A face the plan does not apply to (everyone but the plan's face) gets a thin grey outline and "no plan"; the
plan's face whose mesh does not fit its detection gets an amber outline and "map unsure". Neither carries a
zone or a stroke (``SceneData.guided``).
"""

from __future__ import annotations

import cv2
import numpy as np

from overlays.layout import Placed, paste_all
from overlays.scene import SceneData
from overlays.sprites import text_sprite
from overlays.style import CAUTION_AMBER, SUBPIXEL_SHIFT, Color, text_px, to_fixed
from zones.geometry import FACE_OVAL

NEUTRAL_GREY: Color = (190, 190, 190)


class FaceOutlineAnnotator:
    """Outline and tag on every face without guidance.

    size_px: tag text height on a 720 px high frame (scaled with the frame, and never taller than a quarter
    of the face); no_plan / unsure: the tags; colours: grey for faces without the plan, amber for the plan's
    face when its map does not fit.
    """

    def __init__(
        self,
        size_px: int = 14,
        no_plan: str = "no plan",
        unsure: str = "map unsure",
        neutral_color: Color = NEUTRAL_GREY,
        unsure_color: Color = CAUTION_AMBER,
    ) -> None:
        self.size_px = size_px
        self.no_plan = no_plan
        self.unsure = unsure
        self.neutral_color = neutral_color
        self.unsure_color = unsure_color

    def place(self, data: SceneData) -> list[Placed]:
        """Each tag, centred above its face's box."""
        placed = []
        for face in np.flatnonzero(~data.guided).tolist():
            text, color = self._tag(data, face)
            x0, y0, x1, _ = data.faces.boxes[face].tolist()
            size = min(text_px(self.size_px, data.frame_size[1]), max(10, round((x1 - x0) / 4)))
            sprite = text_sprite(text, size, color)
            placed.append(Placed(sprite, round((x0 + x1 - sprite.width) / 2), round(y0 - sprite.height - 2)))
        return placed

    def _tag(self, data: SceneData, face: int) -> tuple[str, Color]:
        if face == data.plan_face:
            return self.unsure, self.unsure_color
        return self.no_plan, self.neutral_color

    def annotate(self, scene: np.ndarray, data: SceneData) -> np.ndarray:
        """Draw on ``scene`` (BGR uint8, in place) and return it."""
        faces = np.flatnonzero(~data.guided)
        if faces.size == 0:
            return scene
        outlines = np.ascontiguousarray(to_fixed(data.faces.landmarks[faces][:, list(FACE_OVAL), :2]))
        for face, outline in zip(faces.tolist(), outlines, strict=True):
            color = self._tag(data, face)[1]
            cv2.polylines(scene, [outline], True, color, 1, cv2.LINE_AA, SUBPIXEL_SHIFT)
        return paste_all(scene, self.place(data))
