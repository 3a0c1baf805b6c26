"""The full overlay a person sees: zones, strokes, guide, labels, legend and HUD, in that order."""

from __future__ import annotations

import numpy as np

from overlays.areas import ZoneAnnotator
from overlays.guide import GuideAnnotator
from overlays.hud import HudAnnotator
from overlays.labels import LabelAnnotator
from overlays.legend import LegendAnnotator
from overlays.mesh import MeshAnnotator
from overlays.scene import SceneData
from overlays.sprites import paste
from overlays.strokes import StrokeAnnotator


class FaceZonesAnnotator:
    """Every layer of the live view in one annotator; each layer can be switched off.

    large_labels: the large-label mode for a practitioner's screen; opacity: strength of the area tints;
    mesh: the debug mesh under everything. Labels avoid the legend panel.
    """

    def __init__(
        self,
        *,
        large_labels: bool = False,
        opacity: float = 0.42,
        zones: bool = True,
        strokes: bool = True,
        guide: bool = True,
        labels: bool = True,
        legend: bool = True,
        hud: bool = True,
        mesh: bool = False,
    ) -> None:
        self.mesh = MeshAnnotator() if mesh else None
        self.zones = ZoneAnnotator(opacity=opacity) if zones else None
        self.strokes = StrokeAnnotator() if strokes else None
        self.guide = GuideAnnotator() if guide else None
        self.labels = LabelAnnotator(large=large_labels) if labels else None
        self.legend = LegendAnnotator(large=large_labels) if legend else None
        self.hud = HudAnnotator(size_px=24 if large_labels else 16) if hud else None

    def annotate(self, scene: np.ndarray, data: SceneData) -> np.ndarray:
        """Draw every enabled layer on ``scene`` (BGR uint8, in place) and return it."""
        if self.mesh is not None:
            self.mesh.annotate(scene, data.faces)
        if self.zones is not None:
            self.zones.annotate(scene, data)
        if self.strokes is not None:
            self.strokes.annotate(scene, data)
        if self.guide is not None:
            self.guide.annotate(scene, data)
        legend = self.legend.placed(data) if self.legend is not None else None
        if self.labels is not None:
            obstacles = None if legend is None else np.array([legend[1:]], np.float32)
            for face in range(len(data.geometry)):
                for sprite, x, y in self.labels.layout(data, face, obstacles):
                    paste(scene, sprite, x, y)
        if legend is not None:
            paste(scene, legend[0], legend[1], legend[2])
        if self.hud is not None:
            self.hud.annotate(scene, data)
        return scene
