"""Screen space: every layer that takes room on screen (legend, HUD, touch banner, labels) is placed here.

``ScreenLayer`` is the contract of such a layer: ``place(data, taken)`` says where its sprites go given the
boxes already taken, and ``arrange`` places the layers one after another, each around the boxes of those
before it (the order the layer list in ``overlays.compose`` gives). Drawing is then a paste of each
placement, in drawing order.

Labels use greedy placement: each label takes the first candidate spot that overlaps nothing placed before.
A handful of labels per frame, so the greedy loop runs over labels, each testing all its candidate spots
against all placed boxes in one vectorised step. The previous frame's choices are tried first and kept when
they still fit (one vectorised check), so labels stay put while a face moves and a frame rarely pays for the
greedy search.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from overlays.scene import Annotator, SceneData
from overlays.sprites import Sprite, paste

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


def paste_all(scene: np.ndarray, placed: Sequence[Placed]) -> np.ndarray:
    """Paste every placed sprite on ``scene`` (BGR uint8, in place) and return it."""
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
def _frame_edges(width: int, height: int) -> np.ndarray:
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
    taken = _frame_edges(*frame_size)
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
