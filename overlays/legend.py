"""Legend and status panel: what red, amber and green mean, and which area becomes safe next, and when."""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache
from typing import Literal

import numpy as np

from overlays.hud import Corner, corner_origin
from overlays.labels import LARGE_SCALE, short_label, wait_text
from overlays.layout import NOTHING_TAKEN, Placed, paste_all
from overlays.scene import SceneData
from overlays.sprites import Sprite, panel_sprite
from overlays.style import CAUTION_AMBER, NO_TOUCH_RED, SAFE_GREEN, Color, text_px
from zones.safety import CAUTION, NO_TOUCH, SafetyMap, next_safe
from zones.wording import format_day


def when_text(moment: datetime, now: datetime) -> str:
    """``"Thu 4 Dec (in 12 d)"``: the day a wait ends and how long until then."""
    return f"{format_day(moment)} (in {wait_text((moment - now).total_seconds())})"


@lru_cache(maxsize=64)
def status_rows(
    safety: SafetyMap,
    area_labels: tuple[str, ...],
    caution_segments: int = 0,
    shown: tuple[bool, ...] | None = None,
) -> tuple[tuple[str, Color | None], ...]:
    """The panel's rows: the colour key (when guidance is withheld, that first), how many stroke segments are
    caution in this frame, the next area to become safe (or that none is waiting), and how many areas are
    no-touch today among those drawn (``shown`` per area; None: all of them).

    Cached per safety map (one per plan), count and what is drawn, so a frame costs a dictionary look-up.
    """
    status = np.asarray(safety.area_status)
    rows: list[tuple[str, Color | None]] = []
    if safety.withheld:
        rows.append(("Guidance withheld: no strokes", NO_TOUCH_RED))
    rows += [
        ("No touch (with margin)", NO_TOUCH_RED),
        ("Caution: light pressure", CAUTION_AMBER),
    ]
    if not safety.withheld:  # no green anywhere while no stroke may be followed
        rows.append(("Safe stroke, follow arrows", SAFE_GREEN))
    if caution_segments:
        rows.append((f"{caution_segments} stroke segment{'s' if caution_segments > 1 else ''} caution", None))
    upcoming = next_safe(safety)
    if upcoming is not None:
        area_id, moment = upcoming
        label = short_label(area_labels[safety.area_ids.index(area_id)])
        rows.append((f"Next safe: {label}", None))
        rows.append((when_text(moment, safety.plan.moment), None))
    elif not (status == CAUTION).any():
        rows.append(("Nothing to avoid today", None))
    drawn = np.ones(len(status), bool) if shown is None else np.asarray(shown, bool)
    waiting = int(((status == NO_TOUCH) & drawn).sum())
    if waiting > 1:
        rows.append((f"{waiting} areas no-touch today", None))
    hidden = int(((status == NO_TOUCH) & ~drawn).sum())
    if hidden and drawn.any():
        rows.append((f"+{hidden} no-touch not in view", None))
    return tuple(rows)


AUTO_CORNERS: tuple[Corner, ...] = ("top-left", "top-right", "bottom-right")  # bottom-left is the HUD's


class LegendAnnotator:
    """An opaque rounded panel in a corner; rendered once per plan and pasted with one masked copy.

    size_px: text height on a 720 px high frame (scaled with the frame); large: the large-label mode;
    corner: where it sits, or "auto": the first of top-left, top-right, bottom-right that covers no face
    (else the one covering the least); margin: distance from the frame's edges.
    """

    def __init__(
        self,
        size_px: int = 14,
        large: bool = False,
        corner: Corner | Literal["auto"] = "auto",
        margin: int = 10,
    ) -> None:
        self.size_px = round(size_px * (LARGE_SCALE if large else 1.0))
        self.corner = corner
        self.margin = margin

    def sprite(self, data: SceneData) -> Sprite:
        """The panel for this frame's plan (cached on its text and size)."""
        size = text_px(self.size_px, data.frame_size[1])
        face = data.plan_face
        caution = int(np.count_nonzero(data.drawn_status[face] == CAUTION)) if face is not None else 0
        shown = tuple(data.area_shown[face].tolist()) if face is not None else None
        return panel_sprite(status_rows(data.safety, data.geometry.index.area_labels, caution, shown), size)

    def place(self, data: SceneData, taken: np.ndarray) -> list[Placed]:
        """The panel in the first allowed corner that covers no face and nothing ``taken`` ``(M, 4)``, else
        in the one covering the least."""
        sprite = self.sprite(data)
        width, height = sprite.width, sprite.height
        corners = AUTO_CORNERS if self.corner == "auto" else (self.corner,)
        covers = data.faces.boxes.tolist() + np.asarray(taken).tolist()
        best, least = (0, 0), float("inf")
        for corner in corners:  # at most three corners and a few faces: plain arithmetic
            x, y = corner_origin(data.frame_size, (width, height), corner, self.margin)
            box = (x, y, x + width, y + height)
            covered = sum(
                max(0.0, min(box[2], f[2]) - max(box[0], f[0]))
                * max(0.0, min(box[3], f[3]) - max(box[1], f[1]))
                for f in covers
            )
            if covered < least:
                best, least = (x, y), covered
            if covered == 0:
                break
        return [Placed(sprite, *best)]

    def annotate(self, scene: np.ndarray, data: SceneData) -> np.ndarray:
        """Draw on ``scene`` (BGR uint8, in place) and return it."""
        return paste_all(scene, self.place(data, NOTHING_TAKEN))
