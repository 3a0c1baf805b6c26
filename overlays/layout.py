"""Screen space: every layer that takes room on screen (legend, HUD, touch banner, labels) is placed here.

``ScreenLayer`` is the contract of such a layer: ``place(data, taken)`` says where its sprites go given the
boxes already taken, and ``arrange`` places the layers one after another, each around the boxes of those
before it (the order the layer list in ``overlays.compose`` gives). Drawing is then a paste of each
placement, in drawing order (leader lines first, one OpenCV call per colour, then the sprites).

Face labels (``label_spots``, ``choose_spots``): every label of every face in the frame gets the same fixed
table of candidate spots, laid out on its own face's box (columns beside the face, rows above and below it,
then spots next to its anchor on the face as the last resort), so a spot's index means the same place from
frame to frame. Everything that does not move while labels are placed (the frame's edges, every other face,
the layers placed before, the label's own zone, the no-touch areas) is tested for all candidates of all
labels at once; the greedy loop then runs over labels in priority order, each testing its candidates
against the labels placed before it in one vectorised step. A label's spot of the previous frame is kept
while it is still free, so labels stay put while a face moves. ``place_labels`` is the simpler placer of
the printable chart: spots around each anchor only.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import cv2
import numpy as np

from overlays.scene import Annotator, FaceRegion, SceneData
from overlays.sprites import Sprite, paste
from overlays.style import HALO, WHITE, Color

# Candidate offsets of a label's centre from its anchor, in units of (label width, label height):
# centred, above, below, right, left, then the four diagonals and farther above/below.
CANDIDATES = np.array(
    [
        [0, 0],
        [0, -1.1],
        [0, 1.1],
        [0.6, 0],
        [-0.6, 0],
        [0.6, -1.1],
        [-0.6, -1.1],
        [0.6, 1.1],
        [-0.6, 1.1],
        [0, -2.2],
        [0, 2.2],
    ],
    np.float32,
)
UNPLACED = -1
NOTHING_TAKEN = np.zeros((0, 4), np.float32)
NOTHING_TAKEN.setflags(write=False)


@dataclass(frozen=True)
class Placed:
    """A sprite and the top-left pixel it is pasted at."""

    sprite: Sprite
    x: int
    y: int
    leader: tuple[float, float] | None = None  # a thin line joins the sprite to this point (a label's zone)
    color: Color = WHITE  # the leader line's colour

    @property
    def box(self) -> tuple[int, int, int, int]:
        """x0 y0 x1 y1 the sprite covers."""
        return self.x, self.y, self.x + self.sprite.width, self.y + self.sprite.height


class ScreenLayer(Annotator, Protocol):
    """A layer that takes screen space: its ``annotate`` pastes ``place(data, NOTHING_TAKEN)``."""

    def place(self, data: SceneData, taken: np.ndarray) -> list[Placed]:
        """Where this frame's sprites go, keeping clear of ``taken`` ``(M, 4) float32`` x0 y0 x1 y1."""
        ...


def boxes(placed: Sequence[Placed]) -> np.ndarray:
    """``(N, 4) float32`` the boxes of ``placed``."""
    return np.array([p.box for p in placed], np.float32).reshape(-1, 4)


def arrange(layers: Sequence[ScreenLayer], data: SceneData) -> list[list[Placed]]:
    """Place ``layers`` in the order given, each around every box the layers before it took."""
    taken, placements = NOTHING_TAKEN, []
    for layer in layers:
        placed = layer.place(data, taken)
        if placed:
            taken = np.concatenate([taken, boxes(placed)])
        placements.append(placed)
    return placements


LEADER_PX = 1  # leader line width (a dark halo 2 px wider on each side keeps it readable on any skin)


def draw_leaders(scene: np.ndarray, placed: Sequence[Placed]) -> None:
    """Thin lines from each placed sprite with a ``leader`` to that point, ending in a dot on it: one
    polyline call for all halos, one per colour for the lines (``scene`` BGR uint8, in place)."""
    joined = [p for p in placed if p.leader is not None]
    if not joined:
        return
    ends = np.array([p.leader for p in joined], np.float32)
    boxes_ = boxes(joined)
    starts = np.clip(ends, boxes_[:, :2], boxes_[:, 2:] - 1)  # the box's point nearest its anchor
    lines = np.rint(np.stack([starts, ends], axis=1) * 16).astype(np.int32)  # (K, 2, 2), 4 bits subpixel
    dots = lines[:, 1:]  # a one-point polyline drawn thick is a dot
    colors = [p.color for p in joined]
    cv2.polylines(scene, list(lines), False, HALO, LEADER_PX + 2, cv2.LINE_AA, 4)
    cv2.polylines(scene, list(dots), False, HALO, LEADER_PX + 5, cv2.LINE_AA, 4)
    for color in dict.fromkeys(colors):
        chosen = [i for i, c in enumerate(colors) if c == color]
        cv2.polylines(scene, [lines[i] for i in chosen], False, color, LEADER_PX, cv2.LINE_AA, 4)
        cv2.polylines(scene, [dots[i] for i in chosen], False, color, LEADER_PX + 2, cv2.LINE_AA, 4)


def paste_all(scene: np.ndarray, placed: Sequence[Placed]) -> np.ndarray:
    """Draw the leader lines, then paste every placed sprite on ``scene`` (BGR uint8, in place); return it."""
    draw_leaders(scene, placed)
    for item in placed:
        paste(scene, item.sprite, item.x, item.y)
    return scene


_CORNERS = CANDIDATES - 0.5  # the same spots as top-left corners, in label sizes


def _boxes(anchors: np.ndarray, sizes: np.ndarray, choices: np.ndarray) -> np.ndarray:
    """x0 y0 x1 y1 of labels ``sizes`` at candidate spots ``choices`` around ``anchors``."""
    corners = anchors + _CORNERS[choices] * sizes
    return np.concatenate([corners, corners + sizes], axis=-1)


def _overlap(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``(N, 4)``, ``(M, 4)`` boxes -> ``(N, M) bool`` whether they overlap (touching edges do not): on both
    axes, each starts before the other ends."""
    both = (a[:, None, :2] < b[None, :, 2:]) & (b[None, :, :2] < a[:, None, 2:])
    return both[..., 0] & both[..., 1]


@functools.lru_cache(maxsize=8)
def frame_edges(width: int, height: int) -> np.ndarray:
    """``(4, 4)`` boxes just outside each edge of the frame: a label overlaps one iff it sticks out."""
    far = 1e9
    edges = np.array(
        [[-far, -far, 0, far], [width, -far, far, far], [-far, -far, far, 0], [-far, height, far, far]],
        np.float32,
    )
    edges.setflags(write=False)  # shared by every call for this frame size
    return edges


def place_labels(
    anchors: np.ndarray,
    sizes: np.ndarray,
    frame_size: tuple[int, int],
    obstacles: np.ndarray | None = None,
    previous: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Top-left corners for labels so that no two overlap and each lies inside the frame.

    anchors   (N, 2) float: where each label wants its centre, in priority order (first placed first)
    sizes     (N, 2) float: width, height of each label in pixels
    frame_size: (width, height)
    obstacles (M, 4) float x0 y0 x1 y1 or None: boxes already taken (e.g. the legend)
    previous  (N,) int or None: candidate chosen per label last frame (``UNPLACED`` for none)
    Returns ``(corners (N, 2) int32, choices (N,) int)``; a label with no free spot gets corner (-1, -1) and
    choice ``UNPLACED``, and is not drawn.
    """
    anchors = np.asarray(anchors, np.float32).reshape(-1, 2)
    sizes = np.asarray(sizes, np.float32).reshape(-1, 2)
    if anchors.shape != sizes.shape:
        raise ValueError(f"anchors {anchors.shape} and sizes {sizes.shape} must both be (N, 2)")
    count = len(anchors)
    taken = frame_edges(*frame_size)
    if obstacles is not None:
        taken = np.concatenate([taken, np.asarray(obstacles, np.float32).reshape(-1, 4)])
    kept = None
    if previous is not None and len(previous) == count:
        # Keep last frame's spots when, together, they still fit: one vectorised check for all of them.
        previous = np.asarray(previous, np.intp)
        kept = previous != UNPLACED
        candidate = _boxes(anchors, sizes, previous)[kept]
        clash = _overlap(candidate, np.concatenate([candidate, taken]))
        if np.count_nonzero(clash) != clash.trace():  # a box meets something other than itself
            kept = None
        elif len(candidate) == count:
            return np.floor(candidate[:, :2]).astype(np.int32), previous
    choices = np.full(count, UNPLACED, np.intp)
    boxes = np.zeros((count, 4), np.float32)
    if kept is not None and previous is not None:
        choices[kept], boxes[kept] = previous[kept], candidate
    placed = choices != UNPLACED
    taken = np.concatenate([taken, boxes[placed]])
    for i in np.flatnonzero(~placed).tolist():  # a few labels: the greedy search, each one vectorised
        spots = _boxes(anchors[i], sizes[i], np.arange(len(CANDIDATES)))
        free = np.flatnonzero(~_overlap(spots, taken).any(axis=1))
        if free.size:
            choices[i], boxes[i] = free[0], spots[free[0]]
            taken = np.concatenate([taken, spots[free[0]][None]])
    corners = np.where((choices != UNPLACED)[:, None], np.floor(boxes[:, :2]), -1).astype(np.int32)
    return corners, choices


# Face labels: one fixed table of candidate spots per label, laid out on its own face's box.
SIDE_ROWS = np.linspace(-0.15, 1.05, 25)  # label centres beside the face, in face heights from its top
ACROSS = np.linspace(-0.8, 0.8, 9)  # label centres above/below the face, in face widths from its middle
SIDE_PENALTY = 0.6  # in face widths: a label across the face from its zone (its leader crosses the face)
ON_FACE_PENALTY = 1.5  # in face widths: a label on the face, where it hides what is under it
LEADER_PENALTY = 1.0  # in face widths: a leader line across another face


def _recipes() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each candidate spot's top-left corner as weights ``(C, 5)`` of (face x0, face x1, label width, gap,
    anchor x) for x and of (face y0, face y1, label height, gap, anchor y) for y, and ``(C,) bool`` which
    candidates lie on the face. Order: a column left of the face and one right of it (``SIDE_ROWS``), two
    rows above and one below it (``ACROSS``, then starting at the anchor's x leftwards and rightwards), then
    ``CANDIDATES`` around the anchor (first: centred on it)."""
    beside = [[1 - t, t, -0.5, 0, 0] for t in SIDE_ROWS]
    xs = [[1, 0, -1, -1, 0]] * len(beside) + [[0, 1, 0, 1, 0]] * len(beside)
    ys = beside + beside
    along = [[0.5 - u, 0.5 + u, -0.5, 0, 0] for u in ACROSS] + [[0, 0, -0.9, 0, 1], [0, 0, -0.1, 0, 1]]
    for row in ([1, 0, -1, -1, 0], [1, 0, -2, -2, 0], [0, 1, 0, 1, 0]):
        xs += along
        ys += [row] * len(along)
    on_face = np.r_[np.zeros(len(xs), bool), np.ones(len(_CORNERS), bool)]
    xs += [[0, 0, cx, 0, 1] for cx in _CORNERS[:, 0]]
    ys += [[0, 0, cy, 0, 1] for cy in _CORNERS[:, 1]]
    tables = np.array(xs, np.float32), np.array(ys, np.float32), on_face
    for table in tables:
        table.setflags(write=False)
    return tables


SPOT_X, SPOT_Y, ON_FACE = _recipes()
SPOT_XY = np.stack([SPOT_X, SPOT_Y], axis=2)  # (C, 5, 2): both recipes, for one product over x and y
SPOT_XY.setflags(write=False)


def label_spots(
    anchors: np.ndarray, sizes: np.ndarray, faces: np.ndarray, gap: float, columns: np.ndarray | None = None
) -> np.ndarray:
    """Candidate boxes of every label: ``(N, K, 4) float32`` x0 y0 x1 y1, every candidate (K = C =
    ``len(ON_FACE)``) or those of ``columns (N, K)``.

    anchors (N, 2): the point each label names (its zone, a step's start); sizes (N, 2): width, height;
    faces (N, 4): the box of each label's own face; gap: room kept between a face and the labels beside it.
    Each spot is a fixed weighting of these (``SPOT_X``, ``SPOT_Y``): one product for all of them.
    """
    anchors, sizes, faces = (np.asarray(a, np.float32) for a in (anchors, sizes, faces))
    count = len(anchors)
    if anchors.shape != (count, 2) or sizes.shape != (count, 2) or faces.shape != (count, 4):
        raise ValueError(
            f"anchors {anchors.shape}, sizes {sizes.shape}, faces {faces.shape}: want (N, 2) (N, 4)"
        )
    terms = np.empty((count, 5, 2), np.float32)  # (x, y) of: face start, face end, label size, gap, anchor
    terms[:, 0], terms[:, 1], terms[:, 2] = faces[:, :2], faces[:, 2:], sizes
    terms[:, 3], terms[:, 4] = gap, anchors
    if columns is None:
        corners = np.einsum("nfd,cfd->ncd", terms, SPOT_XY)
    else:
        corners = np.einsum("nfd,nkfd->nkd", terms, SPOT_XY[columns])
    return np.concatenate([corners, corners + sizes[:, None, :]], axis=2)


def spot_costs(
    spots: np.ndarray,
    anchors: np.ndarray,
    owner: np.ndarray,
    faces: np.ndarray,
    midlines: np.ndarray,
    steps: np.ndarray,
) -> np.ndarray:
    """``(N, C) float32`` how poor each candidate of ``label_spots`` is (lower is better; inf: not allowed).

    spots (N, C, 4); anchors (N, 2); owner (N,) each label's face, an index into faces (F, 4) and midlines
    (F,) (x of each face's nose); steps (N,) bool: step badges. A zone's label costs the length of its
    leader line, plus ``SIDE_PENALTY`` face widths across the midline from a zone off the midline, plus
    ``LEADER_PENALTY`` when its leader crosses another face, plus ``ON_FACE_PENALTY`` on the face: outside
    the face on the zone's own side wins where there is room. A badge sits on its stroke: only spots around
    the anchor, nearest first.
    """
    anchors = np.asarray(anchors, np.float32)[:, None, :]
    own = faces[owner]
    nearest = np.clip(anchors, spots[..., :2], spots[..., 2:])
    leader = np.linalg.norm(nearest - anchors, axis=2)
    width = (own[:, 2] - own[:, 0])[:, None]
    centre_x = (spots[..., 0] + spots[..., 2]) / 2
    middle = np.asarray(midlines, np.float32)[owner][:, None]
    offset = anchors[..., 0] - middle
    across = (np.abs(offset) > 0.1 * width) & (np.sign(centre_x - middle) != np.sign(offset))
    crossing = segments_cross(np.broadcast_to(anchors, nearest.shape), nearest, faces)  # (N, C, F)
    crossing[np.arange(len(owner)), :, owner] = False
    penalty = (
        SIDE_PENALTY * across + LEADER_PENALTY * crossing.any(axis=2) + ON_FACE_PENALTY * ON_FACE[None, :]
    )
    cost = leader + width * penalty
    centred = np.linalg.norm((spots[..., :2] + spots[..., 2:]) / 2 - anchors, axis=2)
    badge = np.where(ON_FACE[None, :], centred, np.inf)
    return np.where(np.asarray(steps, bool)[:, None], badge, cost).astype(np.float32)


def segments_cross(starts: np.ndarray, ends: np.ndarray, others: np.ndarray) -> np.ndarray:
    """``(..., 2)`` segments ``starts`` -> ``ends`` against ``(F, 4)`` boxes -> ``(..., F) bool`` whether each
    segment passes through each box (slab test, all at once)."""
    a = np.asarray(starts, np.float32)[..., None, :]
    d = np.asarray(ends, np.float32)[..., None, :] - a
    lo, hi = others[:, :2], others[:, 2:]
    flat = np.abs(d) < 1e-6
    safe = np.where(flat, 1.0, d)
    t1, t2 = (lo - a) / safe, (hi - a) / safe
    inside = (a > lo) & (a < hi)  # a segment parallel to a slab is in it throughout, or never
    enter = np.where(flat, np.where(inside, -np.inf, np.inf), np.minimum(t1, t2)).max(axis=-1)
    leave = np.where(flat, np.where(inside, np.inf, -np.inf), np.maximum(t1, t2)).min(axis=-1)
    return (enter < leave) & (leave > 0) & (enter < 1)


def overlaps_any(spots: np.ndarray, others: np.ndarray) -> np.ndarray:
    """``(..., 4)`` boxes against ``(M, 4)`` boxes -> ``(...) bool`` whether each overlaps any of them."""
    others = np.asarray(others, np.float32).reshape(-1, 4)
    if not len(others):
        return np.zeros(spots.shape[:-1], bool)
    hits = np.any(_overlap(spots.reshape(-1, 4), others), axis=1)
    return np.asarray(hits).reshape(spots.shape[:-1])


def outside_frame(spots: np.ndarray, frame_size: tuple[int, int]) -> np.ndarray:
    """``(..., 4)`` boxes -> ``(...) bool`` whether each sticks out of a ``(width, height)`` frame."""
    return (
        (spots[..., 0] < 0)
        | (spots[..., 1] < 0)
        | (spots[..., 2] > frame_size[0])
        | (spots[..., 3] > frame_size[1])
    )


FEW_BOXES = 8  # up to this many boxes look at a mask's pixels themselves; more use its integral image


def _pixels(start: float, stop: float, origin: int, size: int) -> slice:
    """Mask pixels ``[floor(start), ceil(stop))`` of a frame span, in a mask at ``origin``, ``size`` long."""
    return slice(min(max(math.floor(start) - origin, 0), size), min(max(math.ceil(stop) - origin, 0), size))


def covers_mask(spots: np.ndarray, region: FaceRegion) -> np.ndarray:
    """``(M, 4)`` boxes in frame pixels -> ``(M,) bool`` whether each covers a set pixel of ``region``'s
    no-touch mask (the pixels from each box's floor to its ceil): none when the mask's ``no_touch_box`` is
    empty; a few boxes (a stream's kept labels) count their own pixels, more (a search's candidates) use the
    mask's integral image, four look-ups a box."""
    nx0, ny0, nx1, ny1 = region.no_touch_box
    if nx0 >= nx1 or ny0 >= ny1:
        return np.zeros(len(spots), bool)
    mask = region.no_touch_mask
    height, width = mask.shape
    ox, oy = region.box[:2]
    if len(spots) <= FEW_BOXES:
        covered = [
            cv2.countNonZero(mask[_pixels(y0, y1, oy, height), _pixels(x0, x1, ox, width)]) > 0
            for x0, y0, x1, y1 in spots.tolist()
        ]
        return np.array(covered, bool).reshape(-1)
    x0, y0 = np.clip(np.floor(spots[:, :2]) - (ox, oy), 0, (width, height)).astype(np.intp).T
    x1, y1 = np.clip(np.ceil(spots[:, 2:]) - (ox, oy), 0, (width, height)).astype(np.intp).T
    integral = region.no_touch_integral
    return (integral[y1, x1] - integral[y0, x1] - integral[y1, x0] + integral[y0, x0]) > 0


def choose_spots(
    spots: np.ndarray, costs: np.ndarray, previous: np.ndarray, placed: np.ndarray = NOTHING_TAKEN
) -> np.ndarray:
    """Greedy, in label order (first is most important): each label takes its cheapest finite-cost spot that
    overlaps neither ``placed (M, 4)`` nor a label placed before it, or last frame's spot (``previous
    (N,)``, ``UNPLACED`` for none) while that is still free. ``spots (N, C, 4)``, ``costs (N, C)`` ->
    choices ``(N,) intp`` (``UNPLACED``: no free spot)."""
    count = len(spots)
    choices = np.full(count, UNPLACED, np.intp)
    used = len(placed)
    placed = np.concatenate([np.asarray(placed, np.float32).reshape(-1, 4), np.zeros((count, 4), np.float32)])
    for i in range(count):  # a few dozen labels: one vectorised test of all candidates per label
        free = np.isfinite(costs[i])
        if used:
            free &= ~_overlap(spots[i], placed[:used]).any(axis=1)
        last = int(previous[i])
        if last != UNPLACED and free[last]:
            choice = last
        elif free.any():
            choice = int(np.argmin(np.where(free, costs[i], np.inf)))
        else:
            continue
        choices[i] = choice
        placed[used] = spots[i, choice]
        used += 1
    return choices


def panel_spots(size: tuple[int, int], frame_size: tuple[int, int], margin: int) -> np.ndarray:
    """``(8, 4) float32`` boxes for a list panel ``size`` (w, h), in order of preference: the bottom corners
    and the middle of the bottom edge, the top corners and the top middle, then the middle of each side."""
    (w, h), (width, height) = size, frame_size
    left, right, middle_x = margin, width - w - margin, (width - w) // 2
    top, bottom, middle_y = margin, height - h - margin, (height - h) // 2
    corners = [
        (right, bottom),
        (left, bottom),
        (middle_x, bottom),
        (right, top),
        (left, top),
        (middle_x, top),
        (right, middle_y),
        (left, middle_y),
    ]
    xy = np.array(corners, np.float32)
    return np.concatenate([xy, xy + np.array([w, h], np.float32)], axis=1)


def place_panel(
    spots: np.ndarray, frame_size: tuple[int, int], keep_clear: np.ndarray, labels: np.ndarray, previous: int
) -> tuple[int, np.ndarray]:
    """Which of ``spots (S, 4)`` a panel takes: inside the frame and clear of ``keep_clear (M, 4)`` (faces,
    layers placed before), and of ``labels (K, 4)`` if it can (last frame's spot ``previous`` first); else
    the spot covering fewest labels, which then give way. Returns ``(spot or UNPLACED, (K,) bool labels
    that give way)``."""
    allowed = ~outside_frame(spots, frame_size) & ~overlaps_any(spots, keep_clear)
    under = _overlap(spots, np.asarray(labels, np.float32).reshape(-1, 4))  # (S, K)
    covered = np.where(allowed, under.sum(axis=1), np.iinfo(np.int32).max)
    if not allowed.any():
        return UNPLACED, np.zeros(len(labels), bool)
    if 0 <= previous < len(spots) and covered[previous] == 0:
        return previous, np.zeros(len(labels), bool)
    best = int(np.argmin(covered))  # the first of the fewest
    return best, under[best]
