"""Face detection independent of the landmarker: MediaPipe's full-range BlazeFace run in OpenCV's DNN module.

The landmarker's own detector is short-range (faces filling much of the frame): on group photos and small
faces it misses most of them. The full-range model (192x192 input in [-1, 1], one 48x48 anchor grid of stride
4, anchor centres at ``(i + 0.5) / 48``, as MediaPipe's ``SsdAnchorsCalculator`` builds them for
``face_detection_full_range_common.pbtxt``) finds faces down to about 12-16 px of its input, reliably from
20 px. The whole frame is letterboxed once; for faces smaller than that in big frames, overlapping square
tiles at a few scales are run as well, and everything goes through one weighted non-maximum suppression.

Each detection carries MediaPipe's six keypoints (subject's right eye, left eye, nose tip, mouth centre,
right ear tragion, left ear tragion): independent evidence to check a landmark mesh against.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from vision.assets import FACE_DETECTOR, ensure
from vision.frames import ColorOrder, to_rgb_uint8

INPUT_SIZE = 192
GRID = 48  # anchors per side: 192 / stride 4
NUM_KEYPOINTS = 6
KEYPOINT_NAMES = ("right_eye", "left_eye", "nose_tip", "mouth", "right_ear", "left_ear")
RIGHT_EYE, LEFT_EYE, NOSE_TIP, MOUTH = 0, 1, 2, 3
RAW_SCORE_LIMIT = 80.0  # as MediaPipe's tensors-to-detections calculator: keeps the sigmoid finite
# the smallest face width (model input pixels) found reliably: real faces pasted at random places into
# 192 px frames were found 40 of 40 times at 20 px, 35 at 16, 20 at 12
MODEL_MIN_FACE = 20.0
SMALL_FOR_LEVEL = 0.6  # below this share of MODEL_MIN_FACE (12 px) a coarse window leaves a face to the tiles
OVERLAP_MARGIN = 1.1  # tiles overlap by this many times the largest face they must hold whole
_LEVEL_CHOICES = 6  # pyramids of this many level counts (from the fewest that can be tiled) are compared
_ANCHORS = (
    np.stack(
        np.meshgrid((np.arange(GRID) + 0.5) / GRID, (np.arange(GRID) + 0.5) / GRID, indexing="xy"), axis=-1
    )
    .reshape(-1, 2)
    .astype(np.float32)
)  # (2304, 2) x, y centres in 0..1, row-major like the model's output


@dataclass(frozen=True)
class DetectorOptions:
    """How the detector runs. ``min_face_px`` is the smallest face width (frame pixels) to look for: frames
    big enough to hide such faces below the model's resolution are also searched in tiles.
    ``max_tiles`` caps the tiles per frame (huge photos keep a bounded cost; their smallest faces may be
    missed then). ``model_path`` None resolves the checksummed model from the asset store."""

    min_score: float = 0.5
    nms_threshold: float = 0.3
    min_face_px: float = 32.0
    max_tiles: int = 96
    model_path: str | os.PathLike[str] | None = None

    def __post_init__(self) -> None:
        if not 0.0 < self.min_score < 1.0 or not 0.0 < self.nms_threshold < 1.0:
            raise ValueError(
                f"min_score and nms_threshold must lie in (0, 1), got {self.min_score}, {self.nms_threshold}"
            )
        if self.min_face_px <= 0 or self.max_tiles < 0:
            raise ValueError(
                f"min_face_px must be > 0 and max_tiles >= 0, got {self.min_face_px}, {self.max_tiles}"
            )


@dataclass(frozen=True, eq=False)
class Detections:
    """Faces found in one frame, highest score first. Shapes (D detections):
    boxes (D, 4) float32 x0, y0, x1, y1 in frame pixels; keypoints (D, 6, 2) float32 in frame pixels
    (``KEYPOINT_NAMES`` order, subject's sides); scores (D,) float32 in 0..1."""

    boxes: np.ndarray
    keypoints: np.ndarray
    scores: np.ndarray
    image_size: tuple[int, int]  # (width, height)

    def __post_init__(self) -> None:
        count = self.boxes.shape[0] if self.boxes.ndim == 2 else -1
        if (
            self.boxes.shape != (count, 4)
            or self.keypoints.shape != (count, NUM_KEYPOINTS, 2)
            or self.scores.shape != (count,)
        ):
            raise ValueError(
                f"boxes {self.boxes.shape}, keypoints {self.keypoints.shape}, scores "
                f"{self.scores.shape} must be (D, 4), (D, 6, 2), (D,)"
            )

    @classmethod
    def empty(cls, width: int, height: int) -> Detections:
        return cls(
            np.zeros((0, 4), np.float32),
            np.zeros((0, NUM_KEYPOINTS, 2), np.float32),
            np.zeros(0, np.float32),
            (width, height),
        )

    def __len__(self) -> int:
        return int(self.scores.shape[0])

    @property
    def widths(self) -> np.ndarray:
        return self.boxes[:, 2] - self.boxes[:, 0]

    def select(self, keep: np.ndarray | list[int]) -> Detections:
        keep = np.asarray(keep)
        index = np.flatnonzero(keep) if keep.dtype == bool else keep.astype(np.intp)
        return Detections(self.boxes[index], self.keypoints[index], self.scores[index], self.image_size)


def decode(raw_boxes: np.ndarray, raw_scores: np.ndarray, min_score: float) -> tuple[np.ndarray, np.ndarray]:
    """The model's raw outputs -> candidates above ``min_score``, in model-input units (0..1).

    ``raw_boxes (2304, 16)``: centre offset, size, then six keypoint offsets, in input pixels relative to each
    anchor; ``raw_scores (2304,)`` logits. Returns ``data (C, 8, 2)`` (x0 y0, x1 y1, six keypoints) and
    ``scores (C,)``; boxes of non-positive size are dropped.
    """
    if raw_boxes.shape != (GRID * GRID, 4 + 2 * NUM_KEYPOINTS) or raw_scores.shape != (GRID * GRID,):
        raise ValueError(
            f"raw outputs must be (2304, 16) and (2304,), got {raw_boxes.shape}, {raw_scores.shape}"
        )
    scores = 1.0 / (1.0 + np.exp(-np.clip(raw_scores, -RAW_SCORE_LIMIT, RAW_SCORE_LIMIT)))
    keep = np.flatnonzero(scores > min_score)
    values = raw_boxes[keep].reshape(-1, 2 + NUM_KEYPOINTS, 2) / INPUT_SIZE
    anchors = _ANCHORS[keep][:, None, :]
    centre, half = values[:, :1] + anchors, values[:, 1:2] / 2
    data = np.concatenate([centre - half, centre + half, values[:, 2:] + anchors], axis=1)
    valid = (half > 0).all(axis=(1, 2))
    return data[valid].astype(np.float32), scores[keep][valid].astype(np.float32)


def weighted_nms(data: np.ndarray, scores: np.ndarray, threshold: float) -> tuple[np.ndarray, np.ndarray]:
    """MediaPipe's weighted non-maximum suppression: each cluster of boxes overlapping the best remaining one
    by more than ``threshold`` (intersection over union) is merged into their score-weighted mean.

    ``data (C, 8, 2)``, ``scores (C,)`` -> merged ``(D, 8, 2)``, ``(D,)`` (each with its best member's score),
    best first. One vectorised overlap row per output face.
    """
    order = np.argsort(-scores, kind="stable")
    data, scores = data[order], scores[order]
    boxes = data[:, :2].reshape(-1, 4)
    areas = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    remaining = np.arange(len(scores))
    merged, merged_scores = [], []
    while remaining.size:
        best = remaining[0]
        lo = np.maximum(boxes[remaining, :2], boxes[best, :2])
        hi = np.minimum(boxes[remaining, 2:], boxes[best, 2:])
        inter = np.prod(np.clip(hi - lo, 0.0, None), axis=1)
        iou = inter / np.maximum(areas[remaining] + areas[best] - inter, 1e-12)
        cluster = remaining[iou > threshold]
        if cluster.size == 0:
            cluster = remaining[:1]
        weights = scores[cluster]
        merged.append(np.einsum("c,ckj->kj", weights, data[cluster]) / weights.sum())
        merged_scores.append(scores[best])
        remaining = remaining[~np.isin(remaining, cluster)]
    if not merged:
        return np.zeros((0, 2 + NUM_KEYPOINTS, 2), np.float32), np.zeros(0, np.float32)
    return np.asarray(merged, np.float32), np.asarray(merged_scores, np.float32)


def windows(width: int, height: int, min_face_px: float, max_tiles: int) -> np.ndarray:
    """Square windows ``(N, 3) int`` (x0, y0, side) to run the model on: the whole frame first, then tiles.

    A face is found when it is at least ``MODEL_MIN_FACE`` input pixels wide, i.e. ``side * 20 / 192`` frame
    pixels in a window of ``side``. No tiles when the whole frame already resolves ``min_face_px``; else the
    finest tiles are just large enough for ``min_face_px`` (never below the model's input), and the levels
    between the frame and them shrink by one common ratio. Each level's tiles overlap by the largest face the
    next bigger level would miss (with a 10% margin), so every face fits whole in some tile of its level. The
    number of levels is the one giving the fewest windows. Levels are added, smallest tiles last, until
    ``max_tiles`` would be exceeded.
    """
    longest = max(width, height)
    out = [(0, 0, longest)]
    finest = max(min_face_px * INPUT_SIZE / MODEL_MIN_FACE, float(INPUT_SIZE))
    if longest <= finest:
        return np.asarray(out, np.int64)
    # tiles must overlap by less than their side: a bigger ratio between levels cannot be tiled
    steepest = INPUT_SIZE / (OVERLAP_MARGIN * MODEL_MIN_FACE)
    fewest = int(np.log(longest / finest) // np.log(steepest)) + 1
    plans = [
        _within(_levels(width, height, finest, n), max_tiles) for n in range(fewest, fewest + _LEVEL_CHOICES)
    ]
    # the plan reaching the finest tiles within the budget, and of those the one with the fewest windows
    for tiles in min(plans, key=lambda plan: (min((t[0][2] for t in plan), default=longest), _total(plan))):
        out.extend(tiles)
    return np.asarray(out, np.int64)


def _within(levels: list[list[tuple[int, int, int]]], budget: int) -> list[list[tuple[int, int, int]]]:
    """The coarsest levels whose tiles add up to at most ``budget``."""
    kept = []
    for tiles in levels:
        if len(tiles) > budget:
            break
        kept.append(tiles)
        budget -= len(tiles)
    return kept


def _total(levels: list[list[tuple[int, int, int]]]) -> int:
    return sum(map(len, levels))


def _levels(width: int, height: int, finest: float, count: int) -> list[list[tuple[int, int, int]]]:
    """``count`` levels of tiles from the frame's longer side down to ``finest``, coarsest first."""
    longest = max(width, height)
    ratio = (longest / finest) ** (1.0 / count)
    levels = []
    for level in range(1, count + 1):
        side = longest / ratio**level
        overlap = OVERLAP_MARGIN * ratio * side * MODEL_MIN_FACE / INPUT_SIZE
        starts_x, starts_y = _starts(width, side, overlap), _starts(height, side, overlap)
        levels.append([(x, y, round(side)) for y in starts_y for x in starts_x])
    return levels


def _starts(extent: int, side: float, overlap: float) -> list[int]:
    if side >= extent:
        return [0]
    count = int(np.ceil((extent - overlap) / (side - overlap)))
    return np.round(np.linspace(0, extent - side, max(count, 2))).astype(int).tolist()


class BlazeFaceDetector:
    """MediaPipe's full-range BlazeFace in OpenCV DNN (CPU). Not thread-safe: one per thread or stream."""

    def __init__(self, options: DetectorOptions | None = None) -> None:
        self.options = options or DetectorOptions()
        model = ensure(FACE_DETECTOR, self.options.model_path)
        # the default engine exposes only the first of the model's two outputs
        self._net = cv2.dnn.readNetFromTFLite(str(Path(model)), cv2.dnn.ENGINE_CLASSIC)
        names = self._net.getUnconnectedOutLayersNames()
        self._scores_name = next(n for n in names if "classifier" in n)
        self._boxes_name = next(n for n in names if "regressor" in n)
        self._input = np.zeros((INPUT_SIZE, INPUT_SIZE, 3), np.uint8)

    def _run(self, rgb: np.ndarray, window: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Candidates in the square ``window`` (x0, y0, side) of ``rgb``, in frame pixels ``(C, 8, 2)``."""
        x0, y0, side = (int(v) for v in window)
        scale = INPUT_SIZE / side
        patch = rgb[y0 : y0 + side, x0 : x0 + side]
        h, w = patch.shape[:2]
        size = (max(1, round(w * scale)), max(1, round(h * scale)))
        self._input[:] = 0  # letterbox: the part of the window beyond the frame stays black
        self._input[: size[1], : size[0]] = cv2.resize(patch, size, interpolation=cv2.INTER_AREA)
        blob = cv2.dnn.blobFromImage(self._input, 1.0 / 127.5, mean=(127.5, 127.5, 127.5))
        self._net.setInput(blob)
        raw_scores, raw_boxes = self._net.forward([self._scores_name, self._boxes_name])
        data, scores = decode(
            raw_boxes.reshape(GRID * GRID, -1), raw_scores.reshape(-1), self.options.min_score
        )
        data = data * side + np.array([x0, y0], np.float32)
        return data, scores

    def detect(self, image: np.ndarray, *, color: ColorOrder) -> Detections:
        """Every face in ``image`` ((H, W[, C]) in the named channel order), highest score first."""
        rgb = to_rgb_uint8(image, color)
        height, width = rgb.shape[:2]
        found_data, found_scores = [], []
        spans = windows(width, height, self.options.min_face_px, self.options.max_tiles)
        finest = int(spans[:, 2].min())
        for number, window in enumerate(spans):
            data, scores = self._run(rgb, window)
            x0, y0, side = (int(v) for v in window)
            box = data[:, :2].reshape(-1, 4)
            keep = np.ones(len(scores), bool)
            if side > finest:
                # a face below the model's reliable size here is left to the finer tiles: its keypoints
                # are rough and would pull the merged detection off
                keep &= (box[:, 2] - box[:, 0]) * INPUT_SIZE / side >= SMALL_FOR_LEVEL * MODEL_MIN_FACE
            if number > 0:
                # a face cut by a tile's inner edge is a fragment: the tile next to it, or a larger window,
                # holds it whole
                margin = 0.02 * side
                inner = np.array([x0 > 0, y0 > 0, x0 + side < width, y0 + side < height])
                cut = (box[:, :2] < np.array([x0, y0]) + margin) & inner[:2]
                cut |= (box[:, 2:] > np.array([x0, y0]) + side - margin) & inner[2:]
                keep &= ~cut.any(axis=1)
            data, scores = data[keep], scores[keep]
            found_data.append(data)
            found_scores.append(scores)
        data, scores = weighted_nms(
            np.concatenate(found_data), np.concatenate(found_scores), self.options.nms_threshold
        )
        if not len(scores):
            return Detections.empty(width, height)
        return Detections(data[:, :2].reshape(-1, 4).copy(), data[:, 2:].copy(), scores, (width, height))
