"""Is each face good enough to map? Size, turn, light and framing, with one hint a person can act on."""

from __future__ import annotations

import cv2
import numpy as np

from vision.faces import NUM_LANDMARKS, FaceQuality, boxes_of

MIN_FACE_WIDTH_PX = 80.0  # below this the zone outlines are a few pixels wide and landmarks jitter
MAX_YAW_DEG = 30.0  # beyond this the far cheek is foreshortened and its zones are guessed
MAX_PITCH_DEG = 30.0
MIN_BRIGHTNESS = 55.0  # mean luma (0..255) of the face box; darker and the landmarks drift
MAX_BRIGHTNESS = 215.0  # brighter and the skin is washed out
MIN_VISIBLE_FRACTION = 0.95  # share of the 478 landmarks that lie inside the frame

# Hints in the order they are given: the first issue a face has decides its hint.
HINTS: dict[str, str] = {
    "out_of_frame": "Move into the frame",
    "too_small": "Move closer",
    "turned": "Face the camera",
    "too_dark": "Turn on more light",
    "too_bright": "Too bright: move away from the light",
}
BRIGHTNESS_ROWS = 64
LUMA_RED, LUMA_GREEN, LUMA_BLUE = 0.299, 0.587, 0.114  # ITU-R BT.601 luma weights


def assess_quality(
    landmarks: np.ndarray, poses: np.ndarray, image_rgb: np.ndarray, boxes: np.ndarray | None = None
) -> tuple[FaceQuality, ...]:
    """One ``FaceQuality`` per face.

    ``landmarks`` ``(F, 478, 3)`` pixels, ``poses`` ``(F, 3)`` yaw, pitch, roll degrees, ``image_rgb``
    ``(H, W, 3) uint8`` the frame the landmarks were found in, ``boxes`` ``(F, 4)`` the landmarks' boxes when
    the caller has them (else computed). Brightness is measured inside each face's box only, so a dark room
    behind a lit face is not flagged.
    """
    landmarks = np.asarray(landmarks, np.float32)
    poses = np.asarray(poses, np.float32)
    if landmarks.ndim != 3 or landmarks.shape[1:] != (NUM_LANDMARKS, 3):
        raise ValueError(f"landmarks must be (F, 478, 3), got {landmarks.shape}")
    if poses.shape != (landmarks.shape[0], 3):
        raise ValueError(f"poses must be ({landmarks.shape[0]}, 3), got {poses.shape}")
    if image_rgb.ndim != 3 or image_rgb.shape[2] != 3 or image_rgb.dtype != np.uint8:
        raise ValueError(f"image_rgb must be (H, W, 3) uint8, got {image_rgb.shape} {image_rgb.dtype}")
    height, width = image_rgb.shape[:2]
    boxes = boxes_of(landmarks) if boxes is None else np.asarray(boxes, np.float32)
    if boxes.shape != (landmarks.shape[0], 4):
        raise ValueError(f"boxes must be ({landmarks.shape[0]}, 4), got {boxes.shape}")
    lows, highs = boxes[:, :2].tolist(), boxes[:, 2:].tolist()  # (F, 2) each, as Python floats
    return tuple(
        _judge(
            face_width=high[0] - low[0],
            yaw=float(pose[0]),
            pitch=float(pose[1]),
            brightness=_box_brightness(image_rgb, low, high),
            visible=_visible_fraction(face, low, high, width, height),
        )
        for face, low, high, pose in zip(landmarks, lows, highs, poses.tolist(), strict=True)
    )


def _visible_fraction(
    landmarks: np.ndarray, low: list[float], high: list[float], width: int, height: int
) -> float:
    """Share of one face's ``(478, 3)`` landmarks inside the frame; 1 at once when its box is inside."""
    if low[0] >= 0 and low[1] >= 0 and high[0] < width and high[1] < height:
        return 1.0
    xy = landmarks[:, :2]
    return float(((xy >= 0.0) & (xy < np.array([width, height], np.float32))).all(axis=1).mean())


def _box_brightness(image_rgb: np.ndarray, low: list[float], high: list[float]) -> float:
    """Mean luma (0..255) of the image inside the box, clipped to the frame; 0 when nothing is inside.

    Every row of the box is read up to ``BRIGHTNESS_ROWS`` rows, else evenly spaced rows (a row step is a
    view OpenCV reads without copying): the mean of a face does not need every pixel.
    """
    height, width = image_rgb.shape[:2]
    x0, y0 = max(int(low[0]), 0), max(int(low[1]), 0)
    x1, y1 = min(int(high[0]) + 1, width), min(int(high[1]) + 1, height)
    if x1 <= x0 or y1 <= y0:
        return 0.0
    row_step = max(1, (y1 - y0) // BRIGHTNESS_ROWS)
    red, green, blue, _ = cv2.mean(image_rgb[y0:y1:row_step, x0:x1])
    return LUMA_RED * red + LUMA_GREEN * green + LUMA_BLUE * blue


def _judge(*, face_width: float, yaw: float, pitch: float, brightness: float, visible: float) -> FaceQuality:
    flags = {
        "out_of_frame": visible < MIN_VISIBLE_FRACTION,
        "too_small": face_width < MIN_FACE_WIDTH_PX,
        "turned": abs(yaw) > MAX_YAW_DEG or abs(pitch) > MAX_PITCH_DEG,
        "too_dark": brightness < MIN_BRIGHTNESS,
        "too_bright": brightness > MAX_BRIGHTNESS,
    }
    issues = tuple(code for code in HINTS if flags[code])
    return FaceQuality(
        issues=issues,
        hint=HINTS[issues[0]] if issues else "",
        face_width_px=face_width,
        brightness=brightness,
        visible_fraction=visible,
    )
