"""MediaPipe HandLandmarker in IMAGE mode (stills) and VIDEO mode (clips, webcam), results as numpy.

The touch guard needs to know where a person's fingertips are while they massage; this module only finds
hands, it knows nothing of zones. Same shape as ``vision.landmarker``: an options dataclass, one class per
running mode, context managers that close the native graph deterministically.
"""

from __future__ import annotations

import concurrent.futures.thread  # noqa: F401 - registers its exit hook before ours (see below)
import os
from dataclasses import dataclass, field, replace

import mediapipe as mp
import numpy as np
from mediapipe.tasks.python import BaseOptions
from mediapipe.tasks.python import vision as mp_vision

from vision.assets import HAND_LANDMARKER, ensure
from vision.frames import ColorOrder, to_rgb_uint8
from vision.tasks import WARM_UP_TIMESTAMP_MS, OwnedTask, StrictClock, start_quietly

NUM_HAND_LANDMARKS = 21
FINGER_NAMES = ("thumb", "index", "middle", "ring", "pinky")
FINGERTIPS = np.array([4, 8, 12, 16, 20], np.intp)  # thumb .. pinky tips
FINGER_PADS = np.array([3, 7, 11, 15, 19], np.intp)  # the joint just below each tip: the pad touches first
TOUCH_LANDMARKS = np.concatenate([FINGERTIPS, FINGER_PADS])  # (10,) the points tested against no-touch areas


@dataclass(frozen=True)
class HandOptions:
    """What to ask MediaPipe for. ``model_path`` None resolves the checksummed model from the asset store.

    ``stride`` (VIDEO mode only) runs the model on every ``stride``-th frame and repeats the last hands in
    between, so hand and face tracking together fit the live frame budget.
    """

    max_hands: int = 2
    min_detection_confidence: float = 0.5
    min_presence_confidence: float = 0.5
    min_tracking_confidence: float = 0.5
    stride: int = 1
    model_path: str | os.PathLike[str] | None = None

    def __post_init__(self) -> None:
        if not 1 <= self.max_hands <= 4:
            raise ValueError(f"max_hands must be 1..4, got {self.max_hands}")
        if self.stride < 1:
            raise ValueError(f"stride must be >= 1, got {self.stride}")


@dataclass(frozen=True)
class Hands:
    """All hands found in one frame.

    Shapes (H hands):
      landmarks   (H, 21, 3) float32: x, y in pixels of the frame as shown; z in pixels, relative to the wrist
      scores      (H,) float32: MediaPipe's handedness confidence
      handedness  H labels, "Left" or "Right", as MediaPipe reports them
    """

    landmarks: np.ndarray
    scores: np.ndarray
    handedness: tuple[str, ...]
    image_size: tuple[int, int]  # (width, height)
    timestamp_ms: int | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        if self.landmarks.ndim != 3 or self.landmarks.shape[1:] != (NUM_HAND_LANDMARKS, 3):
            raise ValueError(f"landmarks must be (H, 21, 3), got {self.landmarks.shape}")
        count = self.landmarks.shape[0]
        if self.scores.shape != (count,) or len(self.handedness) != count:
            raise ValueError(
                f"scores {self.scores.shape} / handedness ({len(self.handedness)}) do not match {count} hands"
            )

    @classmethod
    def empty(cls, width: int, height: int) -> Hands:
        landmarks = np.zeros((0, NUM_HAND_LANDMARKS, 3), np.float32)
        return cls(landmarks, np.zeros(0, np.float32), (), (width, height))

    def __len__(self) -> int:
        return int(self.landmarks.shape[0])

    @property
    def width(self) -> int:
        return self.image_size[0]

    def mirror(self) -> Hands:
        """The same hands seen in a horizontally flipped frame (selfie view): x becomes ``width - x``.

        ``handedness`` keeps naming the physical hand, as face ids keep naming the subject's own side.
        """
        landmarks = self.landmarks.copy()
        landmarks[..., 0] = self.width - landmarks[..., 0]
        return replace(self, landmarks=landmarks)

    def touch_points(self) -> np.ndarray:
        """``(H * 10, 2) float32``: each hand's five fingertips then its five finger pads, hand by hand."""
        return self.landmarks[:, TOUCH_LANDMARKS, :2].reshape(-1, 2)


def hands_from_result(
    result: mp_vision.HandLandmarkerResult, width: int, height: int, timestamp_ms: int | None = None
) -> Hands:
    """Convert MediaPipe's per-landmark objects to ``Hands`` in pixel coordinates (one pass per hand)."""
    count = len(result.hand_landmarks)
    if count == 0:
        return replace(Hands.empty(width, height), timestamp_ms=timestamp_ms)
    normalised = np.array(
        [[(p.x, p.y, p.z) for p in hand] for hand in result.hand_landmarks], dtype=np.float32
    ).reshape(count, NUM_HAND_LANDMARKS, 3)
    landmarks = normalised * np.array([width, height, width], np.float32)
    best = [categories[0] for categories in result.handedness]
    return Hands(
        landmarks=landmarks,
        scores=np.array([c.score for c in best], np.float32),
        handedness=tuple(c.category_name for c in best),
        image_size=(width, height),
        timestamp_ms=timestamp_ms,
    )


def _create(options: HandOptions, mode: mp_vision.RunningMode) -> mp_vision.HandLandmarker:
    """A native hand landmarker, already run once on a blank frame so its first-inference logs stay quiet."""
    model = ensure(HAND_LANDMARKER, options.model_path)
    native = mp_vision.HandLandmarkerOptions(
        base_options=BaseOptions(model_asset_path=str(model)),
        running_mode=mode,
        num_hands=options.max_hands,
        min_hand_detection_confidence=options.min_detection_confidence,
        min_hand_presence_confidence=options.min_presence_confidence,
        min_tracking_confidence=options.min_tracking_confidence,
    )
    return start_quietly(lambda: mp_vision.HandLandmarker.create_from_options(native), mode)


class _HandLandmarker(OwnedTask[mp_vision.HandLandmarker]):
    def __init__(self, options: HandOptions, mode: mp_vision.RunningMode) -> None:
        self.options = options
        super().__init__(_create(options, mode))


class HandDetector(_HandLandmarker):
    """Still images (IMAGE mode): every call stands alone."""

    def __init__(self, options: HandOptions | None = None) -> None:
        super().__init__(options or HandOptions(), mp_vision.RunningMode.IMAGE)

    def detect(self, image: np.ndarray, *, color: ColorOrder) -> Hands:
        """Hands in ``image`` ((H, W[, C]) in the named channel order, RGBA/grey accepted)."""
        rgb = to_rgb_uint8(image, color)
        result = self._native().detect(mp.Image(image_format=mp.ImageFormat.SRGB, data=rgb))
        return hands_from_result(result, rgb.shape[1], rgb.shape[0])


class HandTracker(_HandLandmarker):
    """Clips and webcams (VIDEO mode): hands are tracked from frame to frame. A new tracker per replayed clip.

    With ``options.stride`` > 1 the model runs on every ``stride``-th call only and the calls in between
    return the last hands seen (re-stamped), which halves the cost at 2 and adds at most one frame of lag.
    """

    def __init__(self, options: HandOptions | None = None) -> None:
        super().__init__(options or HandOptions(), mp_vision.RunningMode.VIDEO)
        self._calls = 0
        self._clock = StrictClock(WARM_UP_TIMESTAMP_MS)
        self._last: Hands | None = None

    def track(self, image: np.ndarray, timestamp_ms: float, *, color: ColorOrder) -> Hands:
        """Hands in the frame ``image`` ((H, W[, C]) in the named channel order) taken at ``timestamp_ms``.

        As ``FaceTracker.track``: a time stamp that does not increase is moved to 1 ms after the previous
        frame, so both trackers can be fed the same clock. ``Hands.timestamp_ms`` holds the stamp used.
        """
        stamp = self._clock.stamp(timestamp_ms)
        skip = self._calls % self.options.stride != 0
        self._calls += 1
        if skip and self._last is not None and self._last.image_size == _size_of(image):
            return replace(self._last, timestamp_ms=stamp)
        rgb = to_rgb_uint8(image, color)
        result = self._native().detect_for_video(mp.Image(image_format=mp.ImageFormat.SRGB, data=rgb), stamp)
        self._last = hands_from_result(result, rgb.shape[1], rgb.shape[0], stamp)
        return self._last


def _size_of(image: np.ndarray) -> tuple[int, int]:
    shape = np.shape(image)
    return (int(shape[1]), int(shape[0])) if len(shape) >= 2 else (0, 0)
