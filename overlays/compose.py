"""The full overlay a person sees: the layer list, the options that switch its layers, and the annotator
that draws them.

Adding a layer is one file (an ``Annotator``; a ``ScreenLayer`` if it takes screen space) and one line in
``LAYERS``: its name becomes an ``OverlayOptions`` switch, and a screen layer gets its room from
``overlays.layout.arrange`` in the rank the line gives it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import cast

import numpy as np

from overlays.areas import ZoneAnnotator
from overlays.faces import FaceOutlineAnnotator
from overlays.guide import GuideAnnotator
from overlays.hud import HudAnnotator
from overlays.labels import LabelAnnotator, LabelLayout
from overlays.layout import NOTHING_TAKEN, Placed, ScreenLayer, arrange, boxes, paste_all
from overlays.legend import LegendAnnotator
from overlays.mesh import MeshAnnotator
from overlays.scene import Annotator, SceneData
from overlays.strokes import StrokeAnnotator
from overlays.touch import TouchAnnotator, TouchBannerAnnotator


@dataclass(frozen=True)
class Layer:
    """One entry of the layer list: the name that switches it, whether it is on by default, how it is built
    from the options, and (screen layers only) its rank in claiming screen space: lower ranks are placed
    first, and the later ones keep clear of them."""

    name: str
    build: Callable[[OverlayOptions], Annotator]
    default: bool = True
    claims: int | None = None


# Drawing order. Screen space goes to the legend, the HUD and the touch banner before the labels.
LAYERS: tuple[Layer, ...] = (
    Layer("mesh", lambda o: MeshAnnotator(), default=False),  # debug view of the raw face mesh
    Layer("zones", lambda o: ZoneAnnotator(opacity=o.opacity)),
    Layer("faces", lambda o: FaceOutlineAnnotator()),  # faces without guidance: outline and "no plan"
    Layer("strokes", lambda o: StrokeAnnotator()),
    Layer("guide", lambda o: GuideAnnotator()),
    Layer("labels", lambda o: LabelAnnotator(large=o.large_labels), claims=3),
    Layer("legend", lambda o: LegendAnnotator(large=o.large_labels), claims=0),
    Layer("hud", lambda o: HudAnnotator(size_px=24 if o.large_labels else 16), claims=1),
    Layer("touch", lambda o: TouchAnnotator()),  # the touch guard's flash and fingertip dots
    Layer("touch_banner", lambda o: TouchBannerAnnotator(), claims=2),
)
LAYER_NAMES = tuple(layer.name for layer in LAYERS)


@dataclass(frozen=True, init=False)
class OverlayOptions:
    """The overlay's configuration (immutable and hashable: part of ``pipeline.Settings``).

    large_labels: the large-label mode for a practitioner's screen; opacity: strength of the area tints;
    every name in ``LAYERS`` is a keyword switching that layer on or off (``OverlayOptions(guide=False,
    mesh=True)``); a layer not named keeps its default. ``layers`` holds the names drawn, in drawing order.
    """

    large_labels: bool
    opacity: float
    layers: tuple[str, ...]

    def __init__(self, *, large_labels: bool = False, opacity: float = 0.42, **shown: bool) -> None:
        unknown = sorted(set(shown) - set(LAYER_NAMES))
        if unknown:
            raise ValueError(f"unknown overlay layer {', '.join(unknown)}; layers: {', '.join(LAYER_NAMES)}")
        object.__setattr__(self, "large_labels", large_labels)
        object.__setattr__(self, "opacity", opacity)
        object.__setattr__(
            self, "layers", tuple(layer.name for layer in LAYERS if shown.get(layer.name, layer.default))
        )


class FaceZonesAnnotator:
    """Every layer of the live view that ``options`` switches on, drawn in ``LAYERS`` order.

    Layers that take screen space are placed together first (``overlays.layout.arrange``), so labels keep
    clear of the legend, the HUD and the touch banner, and the banner of the legend.
    """

    def __init__(self, options: OverlayOptions | None = None) -> None:
        self.options = options or OverlayOptions()
        chosen = [layer for layer in LAYERS if layer.name in self.options.layers]
        self.layers: dict[str, Annotator] = {layer.name: layer.build(self.options) for layer in chosen}
        ranked = sorted((layer.claims, layer.name) for layer in chosen if layer.claims is not None)
        self._screen = {name: cast(ScreenLayer, self.layers[name]) for _, name in ranked}

    def place(self, data: SceneData) -> dict[str, list[Placed]]:
        """Where each enabled screen layer's sprites go on this frame, by layer name."""
        return dict(zip(self._screen, arrange(list(self._screen.values()), data), strict=True))

    def label_layout(self, data: SceneData) -> LabelLayout:
        """This frame's labels as ``annotate`` draws them: where each sits, and the ones listed instead
        (empty with the labels layer off)."""
        labels = self.layers.get("labels")
        if not isinstance(labels, LabelAnnotator):
            return LabelLayout()
        before = list(self._screen)[: list(self._screen).index("labels")]
        taken = [boxes(p) for p in arrange([self._screen[name] for name in before], data)]
        return labels.layout(data, np.concatenate([NOTHING_TAKEN, *taken]))

    def annotate(self, scene: np.ndarray, data: SceneData) -> np.ndarray:
        """Draw every enabled layer on ``scene`` (BGR uint8, in place) and return it."""
        placed = self.place(data)
        for name, layer in self.layers.items():
            if name in placed:
                paste_all(scene, placed[name])
            else:
                layer.annotate(scene, data)
        return scene
