"""Head pose from MediaPipe's facial transformation matrix."""

from __future__ import annotations

import numpy as np


def euler_from_matrices(matrices: np.ndarray) -> np.ndarray:
    """Yaw, pitch, roll in degrees from ``(F, 4, 4)`` facial transformation matrices.

    The matrix maps MediaPipe's canonical face (x to the image's right, y up, z out of the face towards the
    camera) into camera space. Yaw is positive when the face turns towards the image's right (the subject's
    left in an unmirrored frame), pitch positive when the face looks up, roll positive when the face's x-axis
    turns counter-clockwise as the camera sees it. Returns ``(F, 3) float32``.
    """
    matrices = np.asarray(matrices, dtype=np.float64)
    if matrices.ndim != 3 or matrices.shape[1:] != (4, 4):
        raise ValueError(f"matrices must be (F, 4, 4), got {matrices.shape}")
    rotation = matrices[:, :3, :3]
    scale = np.linalg.norm(rotation, axis=1, keepdims=True)  # columns may carry a scale
    rotation = rotation / np.where(scale > 0, scale, 1.0)
    forward = rotation[:, :, 2]
    yaw = np.degrees(np.arctan2(forward[:, 0], forward[:, 2]))
    pitch = np.degrees(np.arcsin(np.clip(forward[:, 1], -1.0, 1.0)))
    roll = np.degrees(np.arctan2(rotation[:, 1, 0], rotation[:, 0, 0]))
    return np.stack([yaw, pitch, roll], axis=1).astype(np.float32)
