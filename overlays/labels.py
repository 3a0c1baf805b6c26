"""Names on the face: treated areas and the massage steps, placed so that no two labels overlap.

Text comes from cached sprites and is never flipped: a mirrored (selfie) frame is flipped before anything is
drawn, and a sided area keeps the subject's own side in its name ("Cheek (L)" is the subject's left cheek,
wherever it appears on screen).
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

import numpy as np

from overlays.layout import NOTHING_TAKEN, Placed, paste_all, place_labels
from overlays.scene import SceneData
from overlays.sprites import Sprite, badge_sprite, text_sprite
from overlays.style import CAUTION_AMBER, SAFE_GREEN, WHITE, Color, text_px
from zones.geometry import GeometryIndex
from zones.safety import CAUTION, NO_TOUCH, SAFE, SafetyMap

_SIDE = re.compile(r"\s*\((left|right)\)\s*$")
LARGE_SCALE = 1.7  # large-label mode, for a practitioner's screen across the room
LABEL_GAP_PX = 3
BADGE_SCALE = 0.85  # step badges a little smaller than names: they sit on the strokes
AREA_CHOICES = ("treated", "no_touch", "all", "none")
MEMORY_SLOT = "labels"  # StreamMemory slot: (face, id of a LabelSet) -> (that LabelSet, spots chosen)
MEMORY_SIZE = 64  # label sets remembered per stream (a status pattern that comes back finds its spots)


def short_label(label: str) -> str:
    """``"Cheek (left)"`` -> ``"Cheek (L)"``: the subject's side, abbreviated; other labels unchanged."""
    return _SIDE.sub(lambda m: f" ({m.group(1)[0].upper()})", label)


def wait_text(seconds: float) -> str:
    """A wait left: ``"3 h"`` under a day, else whole days rounded up (``"12 d"``)."""
    if seconds < 86_400:
        return f"{max(1, int(np.ceil(seconds / 3600)))} h"
    return f"{int(np.ceil(seconds / 86_400))} d"


@dataclass(frozen=True)
class LabelSet:
    """The labels of one plan and status pattern: sprites in priority order and what each is anchored to.

    Labels are in the order they claim space: no-touch area names, step badges (where each step's first line
    becomes touchable), then the other area names. ``anchors (N, Q + P) float32`` maps one face's stroke
    points followed by its outline points to each label's anchor (a badge's stroke point, an area's mean
    outline point) in one product; ``sizes (N, 2)`` the space each label takes.
    """

    sprites: tuple[Sprite, ...]
    sizes: np.ndarray
    anchors: np.ndarray


def area_texts(safety: SafetyMap, labels: tuple[str, ...], areas: np.ndarray) -> list[str]:
    """Label text per chosen area: its short name, plus the wait left while it is no-touch."""
    now = safety.plan.moment
    texts = []
    for a in areas:
        verdict = safety.verdicts[a]
        text = short_label(labels[a])
        if verdict.status == NO_TOUCH and verdict.safe_from is not None:
            text += f" · {wait_text((verdict.safe_from - now).total_seconds())}"
        texts.append(text)
    return texts


class LabelAnnotator:
    """Area names at their centres and a number badge where each massage step starts, without overlaps.

    size_px: text height on a 720 px high frame (scaled with the frame); large: the large-label mode (x1.7);
    areas: which area names to show ("treated": no-touch areas and treated areas still in caution,
    "no_touch", "all", "none"); steps: one badge per step, where its first line becomes touchable.
    Labels that find no free spot are left out rather than drawn over one another; on a stream (the record
    carries its ``StreamMemory``) a label keeps its spot from frame to frame while it still fits.
    """

    def __init__(
        self,
        size_px: int = 15,
        large: bool = False,
        areas: str = "treated",
        steps: bool = True,
        text_color: Color = WHITE,
        no_touch_color: Color = WHITE,
        caution_color: Color = CAUTION_AMBER,
        step_color: Color = SAFE_GREEN,
    ) -> None:
        if areas not in AREA_CHOICES:
            raise ValueError(f"areas must be one of {', '.join(AREA_CHOICES)}, got {areas!r}")
        self.size_px = round(size_px * (LARGE_SCALE if large else 1.0))
        self.areas = areas
        self.steps = steps
        self.colors = {SAFE: text_color, CAUTION: caution_color, NO_TOUCH: no_touch_color}
        self.step_color = step_color

    def chosen_areas(self, safety: SafetyMap) -> np.ndarray:
        """Area indices to label, most important first (no-touch, then caution, then safe)."""
        status = np.asarray(safety.area_status)
        treated = np.array([v.rule is not None for v in safety.verdicts], bool)
        wanted = {
            "treated": (status == NO_TOUCH) | ((status == CAUTION) & treated),
            "no_touch": status == NO_TOUCH,
            "all": np.ones(len(status), bool),
            "none": np.zeros(len(status), bool),
        }[self.areas]
        chosen = np.flatnonzero(wanted)
        return chosen[np.argsort(-status[chosen].astype(np.int16), kind="stable")]

    def label_set(self, data: SceneData, face: int) -> LabelSet:
        """The labels of this frame's plan and statuses (cached on them)."""
        size = text_px(self.size_px, data.frame_size[1])
        return self._label_set(data.geometry.index, data.safety, data.segment_status[face].tobytes(), size)

    @functools.lru_cache(maxsize=32)  # noqa: B019 - keyed on (style, plan, statuses, size); small and bounded
    def _label_set(self, index: GeometryIndex, safety: SafetyMap, status_bytes: bytes, size: int) -> LabelSet:
        stroke_points = len(index.weights)
        lines = badge_points = np.zeros(0, np.intp)
        if self.steps:
            shown = np.frombuffer(status_bytes, np.uint8) != NO_TOUCH
            segments = np.flatnonzero(shown)
            lines_shown, first = np.unique(index.segment_line[segments], return_index=True)
            _, one_per_step = np.unique(index.line_steps[lines_shown], return_index=True)
            lines = lines_shown[np.sort(one_per_step)]
            badge_points = index.segment_start[segments[first][np.sort(one_per_step)]]
        areas = self.chosen_areas(safety)
        status = np.asarray(safety.area_status)
        badge = round(size * BADGE_SCALE)
        sprites = [badge_sprite(str(int(index.line_steps[line])), badge, self.step_color) for line in lines]
        sprites += [
            text_sprite(text, size, self.colors[int(status[a])])
            for a, text in zip(areas, area_texts(safety, index.area_labels, areas), strict=True)
        ]
        anchors = np.zeros((len(sprites), stroke_points + int(index.area_offsets[-1])), np.float32)
        anchors[np.arange(len(lines)), badge_points] = 1.0
        for row, area in enumerate(areas.tolist(), start=len(lines)):
            start, stop = int(index.area_offsets[area]), int(index.area_offsets[area + 1])
            anchors[row, stroke_points + start : stroke_points + stop] = 1.0 / (stop - start)
        sizes = np.array([(s.width + LABEL_GAP_PX, s.height + LABEL_GAP_PX) for s in sprites], np.float32)
        order = np.argsort(
            np.r_[np.ones(len(lines)), np.where(status[areas] == NO_TOUCH, 0, 2)], kind="stable"
        )
        return LabelSet(
            tuple(sprites[i] for i in order.tolist()), sizes.reshape(-1, 2)[order], anchors[order]
        )

    def layout(self, data: SceneData, face: int, obstacles: np.ndarray | None = None) -> list[Placed]:
        """One face's labels that found a spot, in drawing order, clear of ``obstacles`` ``(M, 4)``.

        With a stream's memory on the record, last frame's spots are tried first and this frame's kept.
        """
        labels = self.label_set(data, face)
        if not labels.sprites:
            return []
        geometry = data.geometry
        points = np.concatenate([geometry.line_points[face], geometry.area_points[face]])
        spots = {} if data.memory is None else data.memory.slots.setdefault(MEMORY_SLOT, {})
        key = (face, id(labels))  # the entry holds the set itself: its id cannot be reused while kept
        last = spots.get(key)
        previous = last[1] if last is not None and last[0] is labels else None
        corners, choices = place_labels(
            labels.anchors @ points, labels.sizes, data.frame_size, obstacles, previous
        )
        if len(spots) > MEMORY_SIZE:
            spots.clear()
        spots[key] = (labels, choices)
        return [
            Placed(s, int(x), int(y))
            for s, (x, y) in zip(labels.sprites, corners.tolist(), strict=True)
            if x >= 0
        ]

    def place(self, data: SceneData, taken: np.ndarray) -> list[Placed]:
        """Every face's labels, clear of ``taken`` ``(M, 4)`` (a face's labels also clear of each other)."""
        return [item for face in range(len(data.geometry)) for item in self.layout(data, face, taken)]

    def annotate(self, scene: np.ndarray, data: SceneData) -> np.ndarray:
        """Draw on ``scene`` (BGR uint8, in place) and return it."""
        return paste_all(scene, self.place(data, NOTHING_TAKEN))
