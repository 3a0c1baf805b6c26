"""Head pose from MediaPipe's facial transformation matrix."""

from __future__ import annotations

import math

import numpy as np


def euler_from_matrices(matrices: np.ndarray) -> np.ndarray:
    """Yaw, pitch, roll in degrees from ``(F, 4, 4)`` facial transformation matrices.

    The matrix maps MediaPipe's canonical face (x to the image's right, y up, z out of the face towards the
    camera) into camera space. Yaw is positive when the face turns towards the image's right (the subject's
    left in an unmirrored frame), pitch positive when the face looks up, roll positive when the face's x-axis
    turns counter-clockwise as the camera sees it. Returns ``(F, 3) float32``. The yaw and roll signs are
    checked against the nose and the eye line on real frames in ``tests/test_vision_pose.py``.
    """
    matrices = np.asarray(matrices, dtype=np.float64)
    if matrices.ndim != 3 or matrices.shape[1:] != (4, 4):
        raise ValueError(f"matrices must be (F, 4, 4), got {matrices.shape}")
    # Columns may carry a scale. Yaw and roll are ratios within one column, where it cancels; only pitch
    # needs the face's forward axis (third column) at unit length. One row per face (a handful at most) in
    # plain floats: a dozen numpy calls on 4x4 arrays cost more than the arithmetic, every frame.
    angles = []
    for matrix in matrices[:, :3, :3].tolist():
        (x_x, _, forward_x), (x_y, _, forward_y), (_, _, forward_z) = matrix
        length = math.sqrt(forward_x**2 + forward_y**2 + forward_z**2) or 1.0
        angles.append(
            (
                math.degrees(math.atan2(forward_x, forward_z)),
                math.degrees(math.asin(min(1.0, max(-1.0, forward_y / length)))),
                math.degrees(math.atan2(x_y, x_x)),
            )
        )
    return np.array(angles, np.float32).reshape(-1, 3)
