"""Frames in: any array a user may hand us becomes the contiguous RGB uint8 image MediaPipe needs."""

from __future__ import annotations

from typing import Any, Literal, cast

import cv2
import numpy as np
from numpy.typing import NDArray

ColorOrder = Literal["bgr", "rgb"]

# One OpenCV call per case: numpy's reversed-channel copy costs ~30x more on a 640x480 frame.
_CONVERSIONS = {
    ("bgr", 3): cv2.COLOR_BGR2RGB,
    ("bgr", 4): cv2.COLOR_BGRA2RGB,
    ("rgb", 4): cv2.COLOR_RGBA2RGB,
}


def to_rgb_uint8(
    image: NDArray[Any], color: ColorOrder, *, out: NDArray[np.uint8] | None = None
) -> NDArray[np.uint8]:
    """Return ``image`` as a C-contiguous ``(H, W, 3) uint8`` RGB array.

    Accepts ``(H, W)`` grey, ``(H, W, 1)``, ``(H, W, 3)`` and ``(H, W, 4)`` images in uint8, uint16, bool or
    float (0..1), in the channel order ``color`` names, including non-contiguous views. MediaPipe must never
    see a grey or 4-channel image: a grey frame poisons its graph so that every later call fails.
    ``out``, an ``(H, W, 3) uint8`` buffer, is written into when a conversion is needed and its shape fits
    (a video loop then allocates no new frame); an RGB input that is already contiguous is returned as is.
    Raises ``ValueError`` naming the bad shape or dtype.
    """
    if color not in ("bgr", "rgb"):
        raise ValueError(f"color must be 'bgr' or 'rgb', got {color!r}")
    array = np.asarray(image)
    if array.ndim == 3 and array.shape[2] == 1:
        array = array[:, :, 0]
    if array.ndim not in (2, 3) or (array.ndim == 3 and array.shape[2] not in (3, 4)):
        raise ValueError(f"image must be (H, W), (H, W, 1), (H, W, 3) or (H, W, 4), got {array.shape}")
    if array.shape[0] < 2 or array.shape[1] < 2:
        raise ValueError(f"image is too small to hold a face: {array.shape}")
    array = _to_uint8(array)
    code = cv2.COLOR_GRAY2RGB if array.ndim == 2 else _CONVERSIONS.get((color, array.shape[2]))
    if code is None:
        return np.ascontiguousarray(array)
    if out is not None and out.shape == (*array.shape[:2], 3) and out.dtype == np.uint8:
        return cast("NDArray[np.uint8]", cv2.cvtColor(array, code, dst=out))
    return cast("NDArray[np.uint8]", cv2.cvtColor(array, code))


def _to_uint8(array: np.ndarray) -> np.ndarray:
    if array.dtype == np.uint8:
        return array
    if array.dtype == np.uint16:
        return (array >> 8).astype(np.uint8)
    if np.issubdtype(array.dtype, np.floating):
        return (np.clip(np.nan_to_num(array), 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)
    if array.dtype == bool:
        return array.astype(np.uint8) * 255
    raise ValueError(f"unsupported image dtype {array.dtype}; use uint8, uint16, bool or float in 0..1")
