"""Head pose signs checked against what the face itself shows on real frames."""

from __future__ import annotations

import numpy as np
import pytest

from vision.faces import Faces
from vision.landmarker import FaceDetector
from vision.pose import euler_from_matrices

NOSE_TIP, RIGHT_EYE_OUTER, LEFT_EYE_OUTER = 1, 33, 263


def nose_offset(faces: Faces) -> np.ndarray:
    """``(F,)`` how far the nose tip sits from the eye-corner midpoint along the line from the image-left eye
    corner to the image-right one, in eye spans: positive when the nose points towards the image's right."""
    points = faces.landmarks[:, :, :2]
    right, left = points[:, RIGHT_EYE_OUTER], points[:, LEFT_EYE_OUTER]
    # the eye line from the image's left to its right, whichever eye appears there
    ordered = np.where((right[:, 0] <= left[:, 0])[:, None], left - right, right - left)
    span = np.linalg.norm(ordered, axis=1)
    offset = points[:, NOSE_TIP] - (right + left) / 2
    return np.einsum("fd,fd->f", offset, ordered) / span**2


def test_yaw_follows_the_nose_on_the_clip(clip_tracked_raw: list[Faces]) -> None:
    """The subject turns towards the image's left in the clip's first second: yaw is negative there and
    grows with the nose's offset from the eyes."""
    yaw = np.array([faces.poses[0, 0] for faces in clip_tracked_raw])
    offset = np.concatenate([nose_offset(faces) for faces in clip_tracked_raw])
    turned = np.abs(yaw) > 10.0  # near 0 the nose offset carries a small bias of its own
    assert turned.sum() >= 30
    assert np.all(np.sign(yaw[turned]) == np.sign(offset[turned]))
    assert np.corrcoef(yaw, offset)[0, 1] > 0.5


def test_yaw_turns_positive_when_the_face_turns_to_the_images_right(
    detector: FaceDetector, clip_frames: tuple[tuple[np.ndarray, ...], tuple[int, ...]]
) -> None:
    """Flipped, the same real frames show the face turned towards the image's right: yaw must be positive."""
    frames, _ = clip_frames
    for frame in frames[:40:10]:  # the frames where the head is turned most
        seen, flipped = detector.detect(frame, color="bgr"), detector.detect(frame[:, ::-1], color="bgr")
        assert len(seen) == len(flipped) == 1
        assert seen.poses[0, 0] < -10.0 < 10.0 < flipped.poses[0, 0]
        assert nose_offset(seen)[0] < 0 < nose_offset(flipped)[0]
        assert flipped.poses[0, 0] == pytest.approx(-seen.poses[0, 0], abs=3.0)


def test_roll_follows_the_eye_line(sample_faces: dict[str, Faces]) -> None:
    """The man with his hand on his forehead tilts his head: his left eye (image right) is higher, so the eye
    line turns counter-clockwise as the camera sees it and roll is positive."""
    faces = sample_faces["Image_with_alpha.png"]
    right, left = faces.landmarks[0, RIGHT_EYE_OUTER, :2], faces.landmarks[0, LEFT_EYE_OUTER, :2]
    eye_line_deg = np.degrees(np.arctan2(-(left[1] - right[1]), left[0] - right[0]))  # image y points down
    assert eye_line_deg > 10
    assert faces.poses[0, 2] == pytest.approx(eye_line_deg, abs=8.0)


def _rotation(axis: str, degrees: float) -> np.ndarray:
    c, s = np.cos(np.radians(degrees)), np.sin(np.radians(degrees))
    rotations = {
        "y": [[c, 0, s], [0, 1, 0], [-s, 0, c]],
        "x": [[1, 0, 0], [0, c, -s], [0, s, c]],
        "z": [[c, -s, 0], [s, c, 0], [0, 0, 1]],
    }
    matrix = np.eye(4)
    matrix[:3, :3] = rotations[axis]
    return matrix


@pytest.mark.parametrize(("axis", "column"), [("y", 0), ("z", 2)])
def test_euler_of_a_single_rotation(axis: str, column: int) -> None:
    angles = euler_from_matrices(np.stack([_rotation(axis, 20.0), _rotation(axis, -35.0)]) * 3.0)  # scaled
    np.testing.assert_allclose(angles[:, column], [20.0, -35.0], atol=1e-3)
    others = [index for index in range(3) if index != column]
    np.testing.assert_allclose(angles[:, others], 0.0, atol=1e-3)


def test_euler_rejects_bad_shapes() -> None:
    with pytest.raises(ValueError, match=r"\(F, 4, 4\)"):
        euler_from_matrices(np.eye(4))
