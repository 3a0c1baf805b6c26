"""Names on the faces: treated areas and the massage steps, laid out over every face of the frame at once.

Labels are sized to their face (``TEXT_MM`` of the face, within a legible floor and a ceiling), sit outside
the face on their zone's side where there is room, joined to the zone by a thin leader line, and never cover
another label, another face, a no-touch area, the zone they name or the frame's edge. The most important
claim space first: no-touch areas, caution areas, step badges, then safe areas. Labels that find no room,
and zones the camera cannot see, are listed instead: in a compact panel placed by the same layout, and in
``LabelLayout.unlabelled`` (the CLI's JSON, the app's status).

Text comes from cached sprites and is never flipped: a mirrored (selfie) frame is flipped before anything is
drawn, and a sided area keeps the subject's own side in its name ("Cheek (L)" is the subject's left cheek,
wherever it appears on screen); its label sits on the side of the face where that cheek appears.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import numpy as np

from overlays.layout import (
    NOTHING_TAKEN,
    ON_FACE,
    UNPLACED,
    Placed,
    boxes,
    choose_spots,
    covers_mask,
    frame_edges,
    label_spots,
    panel_spots,
    paste_all,
    place_panel,
    spot_costs,
)
from overlays.scene import SceneData
from overlays.sprites import Sprite, badge_sprite, font, panel_sprite, text_sprite
from overlays.style import CAUTION_AMBER, MIN_TEXT_PX, NO_TOUCH_RED, SAFE_GREEN, WHITE, Color
from zones.geometry import GeometryIndex
from zones.safety import CAUTION, NO_TOUCH, SAFE, STATUS_NAMES, SafetyMap

_SIDE = re.compile(r"\s*\((left|right)\)\s*$")
LARGE_SCALE = 1.7  # large-label mode, for a practitioner's screen across the room
LABEL_GAP_PX = 3
BADGE_SCALE = 0.85  # step badges a little smaller than names: they sit on the strokes
AREA_CHOICES = ("treated", "no_touch", "all", "none")
TEXT_MM = 5.5  # label text height, in millimetres of the face it names: sized to the face
LEGIBLE_PX = 11  # the smallest label on a frame whose short side is 720 px (scaled with that side)
CEILING = 2.0  # the largest label: this many times the smallest
REFERENCE_SIDE = 720
LEADER_MIN = 0.6  # a label farther than this many text heights from its anchor gets a leader line
PANEL_MARGIN = 10
PANEL_WIDTH = 0.45  # the list panel's rows are cut to this share of the frame's width (at least 220 px)
PANEL_TRIES = 4  # labels under the list panel give way at most this many times a frame
SPOT_GAP = float(LABEL_GAP_PX + 2)  # room between a face's box and the labels beside it
NOSE_TIP = 1  # landmark: a face's midline, for which side of the face a zone is on
MEMORY_SLOT = "labels"  # StreamMemory slot: a ``LabelMemory``
MEMORY_SIZE = 256  # label spots remembered per stream (forgotten all at once beyond this)
ZONE, STEP = "zone", "step"
NO_ROOM, HIDDEN = "no_room", "hidden"
# Claim order: no-touch names, caution names, step badges, safe names.
RANKS = {NO_TOUCH: 0, CAUTION: 1, SAFE: 3}
STEP_RANK = 2


def short_label(label: str) -> str:
    """``"Cheek (left)"`` -> ``"Cheek (L)"``: the subject's side, abbreviated; other labels unchanged."""
    return _SIDE.sub(lambda m: f" ({m.group(1)[0].upper()})", label)


def wait_text(seconds: float) -> str:
    """A wait left: ``"3 h"`` under a day, else whole days rounded up (``"12 d"``)."""
    if seconds < 86_400:
        return f"{max(1, int(np.ceil(seconds / 3600)))} h"
    return f"{int(np.ceil(seconds / 86_400))} d"


def legible_px(frame_size: tuple[int, int], scale: float = 1.0, floor_px: int = LEGIBLE_PX) -> int:
    """The smallest label height for this frame: ``floor_px`` on a 720 px short side, scaled with it (never
    below ``MIN_TEXT_PX``), times ``scale`` (the large-label mode)."""
    return round(max(MIN_TEXT_PX, floor_px * min(frame_size) / REFERENCE_SIDE) * scale)


def label_px(
    px_per_mm: float,
    frame_size: tuple[int, int],
    scale: float = 1.0,
    text_mm: float = TEXT_MM,
    floor_px: int = LEGIBLE_PX,
) -> int:
    """Label text height for a face of ``px_per_mm``: ``text_mm`` of the face, at least ``legible_px`` and
    at most ``CEILING`` times that (``scale``: the large-label mode)."""
    floor = legible_px(frame_size, scale, floor_px)
    return round(min(max(text_mm * scale * px_per_mm, floor), CEILING * floor))


class _Label(NamedTuple):
    """One label of a ``LabelSet``: what it names (kind, id), its text, status code, sprite and colour."""

    kind: str
    id: str
    text: str
    status: int
    sprite: Sprite | None = None
    color: Color = WHITE


@dataclass(frozen=True, eq=False)
class LabelSet:
    """One face's labels for one plan, status pattern, visibility and size, in the order they were built.

    Each label's anchor is the mean of some of the face's stroke points followed by its outline points (a
    badge: its stroke's first point; a name: its area's outline): ``anchor_points (K,) intp`` lists them,
    label after label, from ``anchor_starts (N,) intp``, ``anchor_counts (N, 1) float32`` of each
    (``anchors``). ``sizes (N, 2)`` the room each label takes (sprite plus ``LABEL_GAP_PX``); ``areas (N,)``
    the area a name labels (-1 for a badge); ``ranks (N,)`` claim order. ``hidden`` lists the chosen areas
    the camera cannot see: ``(area id, text, status)``; ``steps (N,) bool`` which are badges.
    """

    labels: tuple[_Label, ...]
    sizes: np.ndarray
    anchor_points: np.ndarray
    anchor_starts: np.ndarray
    anchor_counts: np.ndarray
    areas: np.ndarray
    ranks: np.ndarray
    steps: np.ndarray
    hidden: tuple[_Label, ...]

    def anchors(self, points: np.ndarray) -> np.ndarray:
        """``(N, 2) float32`` each label's anchor from the face's ``points (Q + P, 2)``: its stroke points,
        then its outline points (one gather and one sum per label, no matrix product: a BLAS call this small
        costs more in waking its threads than it computes)."""
        picked = np.asarray(points, np.float32)[self.anchor_points]
        return np.add.reduceat(picked, self.anchor_starts, axis=0) / self.anchor_counts

    @property
    def sprites(self) -> tuple[Sprite | None, ...]:
        return tuple(label.sprite for label in self.labels)

    @property
    def kinds(self) -> tuple[str, ...]:
        return tuple(label.kind for label in self.labels)

    @property
    def ids(self) -> tuple[str, ...]:
        return tuple(label.id for label in self.labels)


class LabelSpot(NamedTuple):
    """A label on the image: its face, what it names (``kind`` ``"zone"`` or ``"step"``, ``id``), its text
    and status, its box x0 y0 x1 y1 and the anchor its leader line joins, in pixels of the image as shown."""

    face: int
    kind: str
    id: str
    text: str
    status: str
    box: tuple[int, int, int, int]
    anchor: tuple[float, float]

    def as_json(self) -> dict[str, Any]:
        return {
            "face": self.face,
            "text": self.text,
            "box": list(self.box),
            "anchor": [round(self.anchor[0], 1), round(self.anchor[1], 1)],
            "kind": self.kind,
            "id": self.id,
            "status": self.status,
        }


class Unlabelled(NamedTuple):
    """A label listed beside the image instead: ``reason`` ``"no_room"`` or ``"hidden"`` (a zone the camera
    cannot see: turn the head)."""

    face: int
    kind: str
    id: str
    text: str
    status: str
    reason: str

    def as_json(self) -> dict[str, Any]:
        return {
            "face": self.face,
            "text": self.text,
            "kind": self.kind,
            "id": self.id,
            "status": self.status,
            "reason": self.reason,
        }


@dataclass(frozen=True)
class LabelLayout:
    """One frame's labels: what is pasted (``placed``: labels, then the list panel), the labels drawn and
    the ones listed instead."""

    placed: tuple[Placed, ...] = ()
    labels: tuple[LabelSpot, ...] = ()
    unlabelled: tuple[Unlabelled, ...] = ()

    def as_json(self) -> dict[str, list[dict[str, Any]]]:
        """``{"labels": [...], "unlabelled": [...]}``, the CLI's top-level fields."""
        return {
            "labels": [s.as_json() for s in self.labels],
            "unlabelled": [u.as_json() for u in self.unlabelled],
        }


@dataclass(eq=False)
class LabelMemory:
    """Per stream: the candidate spot each label took last frame (keyed by face, kind and id), each face's
    text size (kept while the face's size wobbles by a pixel) and the list panel's spot."""

    spots: dict[tuple[int, str, str], int] = field(default_factory=dict)
    sizes: dict[int, int] = field(default_factory=dict)
    panel: int = UNPLACED


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


def face_flags(data: SceneData) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Which faces get labels ``(F,) bool`` (the plan's face, when its mesh fits: ``SceneData.guided``) and
    which of their areas ``(F, A) bool`` and stroke segments ``(F, S) bool`` the camera sees."""
    geometry = data.geometry
    return data.guided, np.asarray(geometry.area_visible, bool), np.asarray(geometry.segment_visible, bool)


@functools.lru_cache(maxsize=64)
def list_rows(
    entries: tuple[tuple[int, str, int, str, str], ...], per_face: bool, size_px: int, max_width: int
) -> tuple[tuple[str, Color | None], ...]:
    """The list panel's rows from ``(face, kind, status, text, reason)`` entries: one row per group
    (no-touch, caution, safe, steps, hidden; per face when ``per_face``), e.g. ``"+4 more no-touch: Lips · 12
    d, ..."``, each cut with an ellipsis to ``max_width`` px."""
    face_font = font(size_px)
    groups: dict[tuple[int, int], list[str]] = {}
    for face, kind, status, text, reason in entries:
        group = 4 if reason == HIDDEN else 3 if kind == STEP else {NO_TOUCH: 0, CAUTION: 1, SAFE: 2}[status]
        groups.setdefault((face if per_face else 0, group), []).append(text)
    heads = ("more no-touch", "more caution", "more", "more steps")
    swatches: tuple[Color | None, ...] = (NO_TOUCH_RED, CAUTION_AMBER, None, SAFE_GREEN, None)
    rows: list[tuple[str, Color | None]] = []
    for (face, group), texts in sorted(groups.items()):
        prefix = f"Face {face + 1}: " if per_face else ""
        head = "Turn your head to see" if group == 4 else f"+{len(texts)} {heads[group]}"
        text = f"{prefix}{head}: {', '.join(texts)}"
        room = max_width - (size_px + size_px // 3 if swatches[group] is not None else 0) - size_px
        if face_font.getlength(text) > room:
            while len(text) > 1 and face_font.getlength(text + "…") > room:
                text = text[:-1]
            text = text.rstrip(", ") + "…"
        rows.append((text, swatches[group]))
    return tuple(rows)


class LabelAnnotator:
    """Area names beside their faces with leader lines, a number badge where each massage step starts, and
    a list of what found no room; one layout over every face of the frame.

    text_mm / floor_px: label height in millimetres of the face, at least ``floor_px`` on a 720 px short side
    (see ``label_px``); large: the large-label mode (x1.7); areas: which area names to show ("treated":
    no-touch areas and treated areas still in caution, "no_touch", "all", "none"); steps: one badge per step,
    where its first line becomes touchable. On a stream (the record carries its ``StreamMemory``) a label
    keeps its spot from frame to frame while it stays free.
    """

    def __init__(
        self,
        text_mm: float = TEXT_MM,
        floor_px: int = LEGIBLE_PX,
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
        self.text_mm = text_mm
        self.floor_px = floor_px
        self.scale = LARGE_SCALE if large else 1.0
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

    def text_size(self, data: SceneData, face: int, memory: LabelMemory | None = None) -> int:
        """This face's label height in pixels; on a stream, last frame's while it differs by a pixel only."""
        size = label_px(
            float(data.geometry.px_per_mm[face]), data.frame_size, self.scale, self.text_mm, self.floor_px
        )
        if memory is None:
            return size
        last = memory.sizes.get(face)
        if last is not None and abs(last - size) <= 1:
            return last
        memory.sizes[face] = size
        return size

    @functools.lru_cache(maxsize=64)  # noqa: B019 - keyed on (style, plan, statuses, visibility, size); bounded
    def _label_set(
        self,
        index: GeometryIndex,
        safety: SafetyMap,
        shown_bytes: bytes,
        visible_bytes: bytes,
        size: int,
        badge: int,
    ) -> LabelSet:
        stroke_points = len(index.weights)
        lines = badge_points = np.zeros(0, np.intp)
        if self.steps:
            segments = np.flatnonzero(np.frombuffer(shown_bytes, bool))
            lines_shown, first = np.unique(index.segment_line[segments], return_index=True)
            _, one_per_step = np.unique(index.line_steps[lines_shown], return_index=True)
            lines = lines_shown[np.sort(one_per_step)]
            badge_points = index.segment_start[segments[first][np.sort(one_per_step)]]
        chosen = self.chosen_areas(safety)
        status = np.asarray(safety.area_status)
        texts = area_texts(safety, index.area_labels, chosen)
        seen = np.frombuffer(visible_bytes, bool)[chosen]
        areas = chosen[seen]
        hidden = tuple(
            _Label(ZONE, index.area_ids[a], text, int(status[a]))
            for a, text, ok in zip(chosen.tolist(), texts, seen.tolist(), strict=True)
            if not ok
        )
        area_text = [t for t, ok in zip(texts, seen.tolist(), strict=True) if ok]
        labels = [
            _Label(
                STEP,
                index.line_ids[line],
                f"Step {step}",
                SAFE,
                badge_sprite(str(step), badge, self.step_color),
                self.step_color,
            )
            for line in lines.tolist()
            for step in (int(index.line_steps[line]),)
        ]
        for area, text in zip(areas.tolist(), area_text, strict=True):
            color = self.colors[int(status[area])]
            labels.append(
                _Label(
                    ZONE, index.area_ids[area], text, int(status[area]), text_sprite(text, size, color), color
                )
            )
        offsets = np.asarray(index.area_offsets)
        outlines = [np.arange(offsets[a], offsets[a + 1]) + stroke_points for a in areas.tolist()]
        counts = np.array([1] * len(lines) + [len(o) for o in outlines], np.intp)
        sizes = [
            (label.sprite.width + LABEL_GAP_PX, label.sprite.height + LABEL_GAP_PX)
            for label in labels
            if label.sprite
        ]
        return LabelSet(
            labels=tuple(labels),
            sizes=np.array(sizes, np.float32).reshape(-1, 2),
            anchor_points=np.concatenate([badge_points.astype(np.intp), *outlines]).astype(np.intp),
            anchor_starts=np.r_[0, np.cumsum(counts)[:-1]].astype(np.intp),
            anchor_counts=counts.astype(np.float32)[:, None],
            areas=np.r_[np.full(len(lines), -1, np.intp), areas].astype(np.intp),
            ranks=np.array(
                [STEP_RANK if label.kind == STEP else RANKS[label.status] for label in labels], np.int8
            ),
            steps=np.array([label.kind == STEP for label in labels], bool),
            hidden=hidden,
        )

    def label_set(self, data: SceneData, face: int, memory: LabelMemory | None = None) -> LabelSet:
        """One face's labels for this frame's plan, statuses, visibility and size (cached on them)."""
        _, area_visible, _ = face_flags(data)
        shown = data.drawn_status[face] != NO_TOUCH  # step badges only where strokes are drawn
        size = self.text_size(data, face, memory)
        badge = max(round(size * BADGE_SCALE), legible_px(data.frame_size, self.scale, self.floor_px))
        return self._label_set(
            data.geometry.index, data.safety, shown.tobytes(), area_visible[face].tobytes(), size, badge
        )

    def layout(self, data: SceneData, taken: np.ndarray = NOTHING_TAKEN) -> LabelLayout:
        """Every face's labels, clear of ``taken`` ``(M, 4)`` and of each other, and the list of the rest.

        On a stream, each label whose spot of last frame is still free keeps it (one vectorised check of
        all of them); only the others search their candidates.
        """
        memory = None if data.memory is None else data.memory.slots.setdefault(MEMORY_SLOT, LabelMemory())
        labelled, _, _ = face_flags(data)
        sets = [(face, self.label_set(data, face, memory)) for face in np.flatnonzero(labelled).tolist()]
        hidden = [(face, label) for face, labels in sets for label in labels.hidden]
        sets = [(face, labels) for face, labels in sets if labels.labels]
        taken = np.asarray(taken, np.float32).reshape(-1, 4)
        faces = face_boxes(data)
        keep_clear = np.concatenate([taken, faces])
        if not sets:
            return self._with_panel(data, memory, keep_clear, [], [], hidden)
        geometry = data.geometry
        batch = _batch(tuple(sets))
        anchors = np.concatenate(
            [s.anchors(np.concatenate([geometry.line_points[f], geometry.area_points[f]])) for f, s in sets]
        )
        order = batch.order
        context = _Context(data, taken, faces, batch.owner, batch.areas, anchors, batch.sizes)
        previous = np.array(
            [UNPLACED if memory is None else memory.spots.get(k, UNPLACED) for k in batch.keys], np.intp
        )
        boxes_ = context.spots(previous)
        choices = context.kept(previous, order, boxes_)
        search = order[choices[order] == UNPLACED]
        if len(search):
            kept_boxes = boxes_[choices != UNPLACED]
            choices[search] = context.search(search, batch.steps, previous, kept_boxes)
            lost = search[choices[search] == UNPLACED]
            ranks = batch.ranks
            if len(lost) and len(kept_boxes) and ranks[lost].min() < ranks[choices != UNPLACED].max():
                # a label that kept its spot would now crowd out a more important one: lay out afresh
                choices = np.full(len(choices), UNPLACED, np.intp)
                choices[order] = context.search(order, batch.steps, previous, NOTHING_TAKEN)
            boxes_ = context.spots(choices)
        if memory is not None:
            if len(memory.spots) > MEMORY_SIZE:
                memory.spots.clear()
            memory.spots.update(zip(batch.keys, choices.tolist(), strict=True))
        # Where each sprite goes, and whether its anchor is far enough from it for a leader line.
        corners = (boxes_[:, :2] + LABEL_GAP_PX / 2).astype(np.intp)
        extent = batch.sizes.astype(np.float64) - LABEL_GAP_PX  # each sprite's width and height
        points = anchors.astype(np.float64)
        reach = np.maximum(np.maximum(corners - points, 0.0), points - corners - extent)
        far = (reach**2).sum(axis=1) > (LEADER_MIN * extent[:, 1]) ** 2
        drawn: list[tuple[int, _Label, Placed, tuple[float, float]]] = []
        missing: list[tuple[int, _Label]] = []
        for i, choice, (x, y), anchor, leader in zip(
            order.tolist(),
            choices[order].tolist(),
            corners[order].tolist(),
            map(tuple, points[order].tolist()),
            far[order].tolist(),
            strict=True,
        ):
            face, label = batch.labels[i]
            if choice == UNPLACED or label.sprite is None:
                missing.append((face, label))
                continue
            placed = Placed(label.sprite, x, y, anchor if leader else None, label.color)
            drawn.append((face, label, placed, anchor))
        return self._with_panel(data, memory, keep_clear, drawn, missing, hidden)

    def _with_panel(
        self,
        data: SceneData,
        memory: LabelMemory | None,
        keep_clear: np.ndarray,
        drawn: list[tuple[int, _Label, Placed, tuple[float, float]]],
        missing: list[tuple[int, _Label]],
        hidden: list[tuple[int, _Label]],
    ) -> LabelLayout:
        """The layout with the list panel of ``missing`` and ``hidden`` labels placed clear of ``keep_clear``
        ``(M, 4)``; labels under the only spot the panel has give way to it and join the list."""
        width = data.frame_size[0]
        size = legible_px(data.frame_size, self.scale, self.floor_px)
        max_width = max(1, min(width - 2 * PANEL_MARGIN, max(220, round(PANEL_WIDTH * width))))
        panel: Placed | None = None
        previous = UNPLACED if memory is None else memory.panel
        for _ in range(PANEL_TRIES):
            if not missing and not hidden:
                break
            entries = tuple(
                (f, u.kind, u.status, u.text[5:] if u.kind == STEP else u.text, NO_ROOM) for f, u in missing
            ) + tuple((f, u.kind, u.status, u.text, HIDDEN) for f, u in hidden)
            per_face = len({f for f, _ in missing} | {f for f, _ in hidden}) > 1
            sprite = panel_sprite(list_rows(entries, per_face, size, max_width), size)
            spots = panel_spots((sprite.width, sprite.height), data.frame_size, PANEL_MARGIN)
            under = boxes([p for _, _, p, _ in drawn])
            spot, give_way = place_panel(spots, data.frame_size, keep_clear, under, previous)
            if spot == UNPLACED:
                break
            if not give_way.any():
                panel = Placed(sprite, int(spots[spot, 0]), int(spots[spot, 1]))
                if memory is not None:
                    memory.panel = spot
                break
            previous = spot
            missing = missing + [(f, u) for (f, u, _, _), gone in zip(drawn, give_way, strict=True) if gone]
            drawn = [item for item, gone in zip(drawn, give_way, strict=True) if not gone]
        placed = tuple(p for _, _, p, _ in drawn) + (() if panel is None else (panel,))
        spots_drawn = tuple(
            LabelSpot(f, u.kind, u.id, u.text, STATUS_NAMES[u.status], p.box, anchor)
            for f, u, p, anchor in drawn
        )
        unlabelled = tuple(
            Unlabelled(f, u.kind, u.id, u.text, STATUS_NAMES[u.status], NO_ROOM) for f, u in missing
        ) + tuple(
            Unlabelled(f, u.kind, u.id, f"{u.text}: turn your head", STATUS_NAMES[u.status], HIDDEN)
            for f, u in hidden
        )
        return LabelLayout(placed, spots_drawn, unlabelled)

    def place(self, data: SceneData, taken: np.ndarray) -> list[Placed]:
        """Every face's labels and the list panel, clear of ``taken`` ``(M, 4)`` and of each other."""
        return list(self.layout(data, taken).placed)

    def annotate(self, scene: np.ndarray, data: SceneData) -> np.ndarray:
        """Draw on ``scene`` (BGR uint8, in place) and return it."""
        return paste_all(scene, self.place(data, NOTHING_TAKEN))


class _Batch(NamedTuple):
    """Every labelled face's labels of a frame, in ``LabelSet`` order face after face: ``labels`` and their
    memory ``keys`` (face, kind, id), each label's face ``owner (N,)``, ``sizes (N, 2)``, named area
    ``areas (N,)``, claim rank ``ranks (N,)``, ``steps (N,) bool`` (badges) and the claim ``order (N,)``
    (rank, then face, then as built)."""

    labels: tuple[tuple[int, _Label], ...]
    keys: tuple[tuple[int, str, str], ...]
    owner: np.ndarray
    sizes: np.ndarray
    areas: np.ndarray
    ranks: np.ndarray
    steps: np.ndarray
    order: np.ndarray


@functools.lru_cache(maxsize=16)
def _batch(sets: tuple[tuple[int, LabelSet], ...]) -> _Batch:
    """The ``_Batch`` of ``(face, LabelSet)`` pairs (cached on the sets: the same from frame to frame while
    plan, statuses, visibility and sizes hold)."""
    labels = tuple((face, label) for face, labels in sets for label in labels.labels)
    owner = np.array([face for face, _ in labels], np.intp)
    ranks = np.concatenate([s.ranks for _, s in sets])
    batch = _Batch(
        labels=labels,
        keys=tuple((face, label.kind, label.id) for face, label in labels),
        owner=owner,
        sizes=np.concatenate([s.sizes for _, s in sets]),
        areas=np.concatenate([s.areas for _, s in sets]),
        ranks=ranks,
        steps=np.concatenate([s.steps for _, s in sets]),
        order=np.lexsort((np.arange(len(owner)), owner, ranks)),
    )
    for array in batch[2:]:
        array.setflags(write=False)  # shared by every frame with these sets
    return batch


def face_boxes(data: SceneData) -> np.ndarray:
    """``(F, 4) float32`` each face's box: its landmarks and strokes, and its no-touch areas grown by their
    margins (what no label of another face may cover)."""
    geometry = data.geometry
    regions = np.array([r.box for r in data.regions], np.float32).reshape(-1, 4)
    return np.concatenate(
        [
            np.minimum(geometry.boxes[:, :2], regions[:, :2]),
            np.maximum(geometry.boxes[:, 2:], regions[:, 2:]),
        ],
        axis=1,
    ).astype(np.float32)


@dataclass(eq=False)
class _Context:
    """One frame's labels while they are laid out: their faces, anchors and sizes, and what no label may
    cover (the frame's edge, ``taken``, other faces; on its own face, its zone and the no-touch areas)."""

    data: SceneData
    taken: np.ndarray
    faces: np.ndarray
    owner: np.ndarray
    areas: np.ndarray
    anchors: np.ndarray
    sizes: np.ndarray

    @functools.cached_property
    def obstacles(self) -> np.ndarray:
        """``(4 + M + F, 4)`` what no label may cover (its own face aside): boxes just outside the frame's
        edges, ``taken`` and every face."""
        return np.concatenate([frame_edges(*self.data.frame_size), self.taken, self.faces])

    def spots(self, columns: np.ndarray) -> np.ndarray:
        """``(N, 4)`` the box of every label at its candidate ``columns (N,)`` (UNPLACED: any)."""
        picked = np.maximum(columns, 0)[:, None]
        return label_spots(self.anchors, self.sizes, self.faces[self.owner], SPOT_GAP, picked)[:, 0]

    def blocked(self, spots: np.ndarray, columns: np.ndarray, rows: np.ndarray) -> np.ndarray:
        """``(R, K) bool``: candidates ``spots (R, K, 4)`` (candidate indices ``columns (R, K)``) of labels
        ``rows (R,)`` that stick out of the frame or cover ``taken``, another face, or on their own face
        their zone or a no-touch area (``covers_own``)."""
        hits = _overlap_each(spots, self.obstacles)  # (R, K, 4 + M + F)
        hits[np.arange(len(rows)), :, len(self.obstacles) - len(self.faces) + self.owner[rows]] = False
        blocked = np.asarray(hits.any(axis=2))
        on_face = ON_FACE[columns] & ~blocked
        if on_face.any():
            blocked[on_face] = self.covers_own(
                spots[on_face], np.broadcast_to(rows[:, None], on_face.shape)[on_face]
            )
        return blocked

    def covers_own(self, boxes: np.ndarray, rows: np.ndarray) -> np.ndarray:
        """``(M,) bool``: which of ``boxes (M, 4)`` of labels ``rows (M,)`` cover their own zone (its
        outline's box) or a no-touch area of their face (the mask grown by the margins, ``covers_mask``)."""
        covers = np.zeros(len(rows), bool)
        owner, areas = self.owner[rows], self.areas[rows]
        geometry = self.data.geometry
        offsets = np.asarray(geometry.index.area_offsets)[:-1]
        for face in set(owner.tolist()):  # the labelled faces: a few
            mine = owner == face
            covers[mine] |= covers_mask(boxes[mine], self.data.regions[face])
            named = mine & (areas >= 0)
            if named.any():
                points = geometry.area_points[face]
                zones = np.concatenate(
                    [
                        np.minimum.reduceat(points, offsets, axis=0),
                        np.maximum.reduceat(points, offsets, axis=0),
                    ],
                    axis=1,
                )
                zone, box = zones[areas[named]], boxes[named]
                covers[named] |= ((box[:, :2] < zone[:, 2:]) & (zone[:, :2] < box[:, 2:])).all(axis=1)
        return covers

    def kept(self, previous: np.ndarray, order: np.ndarray, spots: np.ndarray) -> np.ndarray:
        """``(N,) intp``: last frame's spot of each label that is still free (clear of everything and of
        the more important labels that keep theirs), else ``UNPLACED``; ``spots (N, 4)`` are the boxes of
        those spots."""
        choices = np.full(len(previous), UNPLACED, np.intp)
        rows = order[previous[order] != UNPLACED]  # in priority order
        if not len(rows):
            return choices
        boxes_ = spots[rows][:, None]
        free = ~self.blocked(boxes_, previous[rows][:, None], rows)[:, 0]
        after = np.arange(len(rows))
        clash = _overlap_each(boxes_, boxes_[:, 0])[:, 0] & (after[:, None] > after[None, :])  # i after j
        free &= ~(clash & free[None, :]).any(axis=1)
        choices[rows[free]] = previous[rows[free]]
        return choices

    def search(
        self, rows: np.ndarray, steps: np.ndarray, previous: np.ndarray, placed: np.ndarray
    ) -> np.ndarray:
        """Choices for labels ``rows`` (in priority order) among all their candidates, clear of ``placed``
        ``(M, 4)`` and of each other (``choose_spots``)."""
        owner = self.owner[rows]
        spots = label_spots(self.anchors[rows], self.sizes[rows], self.faces[owner], SPOT_GAP)
        columns = np.broadcast_to(np.arange(spots.shape[1]), spots.shape[:2])
        midlines = self._midlines()
        costs = spot_costs(spots, self.anchors[rows], owner, self.faces, midlines, steps[rows])
        costs[self.blocked(spots, columns, rows)] = np.inf
        return choose_spots(spots, costs, previous[rows], placed)

    def _midlines(self) -> np.ndarray:
        """``(F,)`` x of each face's nose tip (its box's middle when the record has no landmarks for it)."""
        faces = self.data.faces
        if len(faces) == len(self.faces):
            return faces.landmarks[:, NOSE_TIP, 0]
        return self.faces[:, 0::2].mean(axis=1)


def _overlap_each(spots: np.ndarray, faces: np.ndarray) -> np.ndarray:
    """``(N, K, 4)`` spots against ``(F, 4)`` boxes -> ``(N, K, F) bool`` which overlaps which."""
    a, b = spots[:, :, None, :], faces[None, None, :, :]
    return (
        (a[..., 0] < b[..., 2]) & (b[..., 0] < a[..., 2]) & (a[..., 1] < b[..., 3]) & (b[..., 1] < a[..., 3])
    )
