"""Face quality on real photos made worse on purpose: dark, too bright, small, half out of frame, turned."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from vision.faces import Faces
from vision.landmarker import FaceDetector
from vision.quality import HINTS, MAX_YAW_DEG, MIN_FACE_WIDTH_PX, assess_quality


def _one_face(detector: FaceDetector, image: np.ndarray) -> Faces:
    faces = detector.detect(image, color="bgr")
    assert len(faces) == 1, "the model should still find the face in this altered photo"
    return faces


def test_good_photo_is_ok(sample_faces: dict[str, Faces]) -> None:
    quality = sample_faces["grace_hopper.jpg"].quality[0]
    assert quality.ok and quality.hint == ""
    assert quality.as_dict()["ok"] is True


def test_dark_copy_is_too_dark(detector: FaceDetector, sample_images) -> None:
    dark = (sample_images["astronaut.png"] * 0.15).astype(np.uint8)
    quality = _one_face(detector, dark).quality[0]
    assert quality.issues == ("too_dark",)
    assert quality.hint == "Turn on more light"


def test_bright_copy_is_too_bright(detector: FaceDetector, sample_images) -> None:
    bright = np.clip(sample_images["astronaut.png"] * 1.8, 0, 255).astype(np.uint8)
    quality = _one_face(detector, bright).quality[0]
    assert quality.issues == ("too_bright",)
    assert quality.hint.startswith("Too bright")


def test_brightness_is_measured_in_the_face_box_only(
    detector: FaceDetector, sample_images: dict[str, np.ndarray], sample_faces: dict[str, Faces]
) -> None:
    """A lit face in a dark room is fine: blacking out everything around the face box changes nothing."""
    image = sample_images["grace_hopper.jpg"]
    x0, y0, x1, y1 = sample_faces["grace_hopper.jpg"].boxes[0].astype(int)
    dark_room = np.zeros_like(image)
    dark_room[y0 : y1 + 1, x0 : x1 + 1] = image[y0 : y1 + 1, x0 : x1 + 1]
    quality = _one_face(detector, dark_room).quality[0]
    assert "too_dark" not in quality.issues
    assert quality.brightness == pytest.approx(sample_faces["grace_hopper.jpg"].quality[0].brightness, abs=10)


def test_small_face_is_too_small(detector: FaceDetector, sample_images) -> None:
    """Grace Hopper shrunk into a large grey canvas: still found, but too small to map."""
    portrait = sample_images["grace_hopper.jpg"]
    small = cv2.resize(portrait, None, fx=0.35, fy=0.35, interpolation=cv2.INTER_AREA)
    canvas = np.full((500, 500, 3), 128, np.uint8)
    canvas[100 : 100 + small.shape[0], 150 : 150 + small.shape[1]] = small
    quality = _one_face(detector, canvas).quality[0]
    assert quality.face_width_px < MIN_FACE_WIDTH_PX
    assert quality.issues == ("too_small",)
    assert quality.hint == "Move closer"


def test_half_cropped_face_is_out_of_frame(detector: FaceDetector, sample_images, sample_faces) -> None:
    """The astronaut cut through the middle of her face: the model extends the face beyond the edge."""
    centre_x = int(sample_faces["astronaut.png"].landmarks[0, 1, 0])  # the nose tip
    cropped = sample_images["astronaut.png"][:, centre_x - 10 :]
    quality = _one_face(detector, cropped).quality[0]
    assert "out_of_frame" in quality.issues
    assert quality.visible_fraction < 0.8
    assert quality.hint == "Move into the frame"


def test_turned_face_and_hint_order(sample_images, sample_faces) -> None:
    """Pure function on arrays: a turned pose is flagged; being out of frame outranks it in the hint."""
    faces = sample_faces["grace_hopper.jpg"]
    rgb = np.ascontiguousarray(sample_images["grace_hopper.jpg"][:, :, ::-1])
    turned = faces.poses.copy()
    turned[0, 0] = MAX_YAW_DEG + 10
    assert assess_quality(faces.landmarks, turned, rgb)[0].issues == ("turned",)
    assert assess_quality(faces.landmarks, turned, rgb)[0].hint == HINTS["turned"] == "Face the camera"
    shifted = faces.landmarks.copy()
    shifted[..., 0] -= 250.0  # most of the face off the left edge
    both = assess_quality(shifted, turned, rgb)[0]
    assert both.issues[:2] == ("out_of_frame", "turned")
    assert both.hint == "Move into the frame"


def test_face_entirely_outside_has_no_brightness(sample_images, sample_faces) -> None:
    faces = sample_faces["grace_hopper.jpg"]
    rgb = np.ascontiguousarray(sample_images["grace_hopper.jpg"][:, :, ::-1])
    outside = faces.landmarks + np.array([2000.0, 0.0, 0.0], np.float32)
    quality = assess_quality(outside, faces.poses, rgb)[0]
    assert quality.visible_fraction == 0.0 and quality.brightness == 0.0
    assert quality.issues[0] == "out_of_frame"


def test_no_faces_no_quality(sample_images) -> None:
    rgb = np.zeros((10, 10, 3), np.uint8)
    assert assess_quality(np.zeros((0, 478, 3), np.float32), np.zeros((0, 3), np.float32), rgb) == ()


def test_rejects_bad_shapes(sample_faces) -> None:
    faces = sample_faces["grace_hopper.jpg"]
    rgb = np.zeros((600, 512, 3), np.uint8)
    with pytest.raises(ValueError, match=r"\(F, 478, 3\)"):
        assess_quality(faces.landmarks[:, :100], faces.poses, rgb)
    with pytest.raises(ValueError, match="poses"):
        assess_quality(faces.landmarks, faces.poses[:, :2], rgb)
    with pytest.raises(ValueError, match="image_rgb"):
        assess_quality(faces.landmarks, faces.poses, rgb[:, :, 0])
