"""The real model on real photos: anatomy in the right places, sides named right, rotation and mirroring."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from vision.faces import IRIS_LEFT, IRIS_RIGHT, NUM_LANDMARKS, Faces
from vision.io import read_image
from vision.landmarker import FaceDetector

FRONTAL = ("astronaut.png", "grace_hopper.jpg")
NOSE_TIP, RIGHT_EYE_OUTER, LEFT_EYE_OUTER = 1, 33, 263  # right/left: the subject's own sides
MOUTH_RIGHT, MOUTH_LEFT = 61, 291


@pytest.mark.parametrize("name", [*FRONTAL, "Image_with_alpha.png"])
def test_one_face_in_each_portrait(sample_faces: dict[str, Faces], sample_images, name: str) -> None:
    faces = sample_faces[name]
    height, width = sample_images[name].shape[:2]
    assert len(faces) == 1
    assert faces.landmarks.shape == (1, NUM_LANDMARKS, 3) and faces.landmarks.dtype == np.float32
    assert faces.image_size == (width, height)
    x0, y0, x1, y1 = faces.boxes[0]
    assert 0 <= x0 < x1 <= width and 0 <= y0 < y1 <= height


@pytest.mark.parametrize("name", FRONTAL)
def test_nose_between_and_below_the_eyes(sample_faces: dict[str, Faces], name: str) -> None:
    points = sample_faces[name].landmarks[0]
    nose, right_eye, left_eye = points[NOSE_TIP], points[RIGHT_EYE_OUTER], points[LEFT_EYE_OUTER]
    assert right_eye[0] < nose[0] < left_eye[0]
    assert nose[1] > max(right_eye[1], left_eye[1])  # image y grows downwards


@pytest.mark.parametrize("name", FRONTAL)
def test_mouth_corners_below_the_nose(sample_faces: dict[str, Faces], name: str) -> None:
    points = sample_faces[name].landmarks[0]
    assert points[MOUTH_RIGHT, 1] > points[NOSE_TIP, 1]
    assert points[MOUTH_LEFT, 1] > points[NOSE_TIP, 1]
    assert points[MOUTH_RIGHT, 0] < points[NOSE_TIP, 0] < points[MOUTH_LEFT, 0]


@pytest.mark.parametrize("name", [*FRONTAL, "Image_with_alpha.png"])
def test_subjects_left_eye_is_on_the_images_right(sample_faces: dict[str, Faces], name: str) -> None:
    """In an unmirrored photo the subject faces the camera, so their left is the viewer's right."""
    points = sample_faces[name].landmarks[0]
    left_iris, right_iris = points[IRIS_LEFT[0], :2], points[IRIS_RIGHT[0], :2]
    assert left_iris[0] > right_iris[0]
    eye_span = np.linalg.norm(points[LEFT_EYE_OUTER, :2] - points[RIGHT_EYE_OUTER, :2])
    # each iris sits next to its own eye's outer corner, not the other eye's
    assert np.linalg.norm(left_iris - points[LEFT_EYE_OUTER, :2]) < 0.35 * eye_span
    assert np.linalg.norm(right_iris - points[RIGHT_EYE_OUTER, :2]) < 0.35 * eye_span


def test_camera_photo_has_no_usable_face(sample_faces: dict[str, Faces]) -> None:
    """The grey cameraman is seen from the side and small: the model finds no face, and says so cleanly."""
    faces = sample_faces["camera.png"]
    assert len(faces) == 0
    assert faces.landmarks.shape == (0, NUM_LANDMARKS, 3)
    assert faces.quality == ()


@pytest.mark.parametrize("name", [*FRONTAL, "Image_with_alpha.png"])
def test_detector_fills_quality(sample_faces: dict[str, Faces], name: str) -> None:
    faces = sample_faces[name]
    assert len(faces.quality) == len(faces)
    quality = faces.quality[0]
    assert quality.ok, quality
    assert quality.face_width_px == pytest.approx(float(faces.boxes[0, 2] - faces.boxes[0, 0]))
    assert 55 < quality.brightness < 215
    assert quality.visible_fraction == 1.0


def _with_exif_orientation(image_bgr: np.ndarray, orientation: int, file_format: str) -> bytes:
    """The photo stored as a camera would store it: pixels rotated, EXIF saying how to turn them upright."""
    # Orientation 6: the viewer turns the stored pixels 90° clockwise; 8: 90° counter-clockwise.
    turns = {6: 1, 8: -1}[orientation]
    stored = np.ascontiguousarray(np.rot90(image_bgr[:, :, ::-1], k=turns))
    exif = Image.Exif()
    exif[0x0112] = orientation
    buffer = io.BytesIO()
    Image.fromarray(stored).save(buffer, format=file_format, exif=exif.tobytes(), quality=95)
    return buffer.getvalue()


@pytest.mark.parametrize(("orientation", "file_format", "tolerance_px"), [(6, "PNG", 0.5), (8, "JPEG", 3.0)])
def test_exif_rotated_photo_gives_the_same_landmarks(
    detector: FaceDetector,
    sample_images: dict[str, np.ndarray],
    sample_faces: dict[str, Faces],
    orientation: int,
    file_format: str,
    tolerance_px: float,
) -> None:
    original = sample_images["grace_hopper.jpg"]
    data = _with_exif_orientation(original, orientation, file_format)
    stored = Image.open(io.BytesIO(data))
    assert stored.size == (original.shape[0], original.shape[1])  # really stored sideways

    upright = read_image(data)
    assert upright.shape == original.shape
    faces = detector.detect(upright, color="bgr")
    assert len(faces) == 1
    expected = sample_faces["grace_hopper.jpg"].landmarks[0, :, :2]
    shift = np.linalg.norm(faces.landmarks[0, :, :2] - expected, axis=1)
    assert np.median(shift) < tolerance_px
    assert shift.max() < 4 * tolerance_px + 2


def test_mirror_round_trip(sample_faces: dict[str, Faces]) -> None:
    faces = sample_faces["Image_with_alpha.png"]
    twice = faces.mirror().mirror()
    assert not twice.mirrored
    np.testing.assert_allclose(twice.landmarks, faces.landmarks, atol=1e-4)
    np.testing.assert_allclose(twice.boxes, faces.boxes, atol=1e-4)
    np.testing.assert_allclose(twice.poses, faces.poses, atol=1e-6)


def test_flipping_before_detection_swaps_the_side_ids(
    detector: FaceDetector, sample_images: dict[str, np.ndarray], sample_faces: dict[str, Faces]
) -> None:
    """Why a selfie view must detect on the camera's own frame and then call ``Faces.mirror()``.

    MediaPipe labels sides as seen: on a flipped frame it calls the eye on the image's right the subject's
    left, so its ids name the mirror image's sides. ``mirror()`` keeps the subject's real sides.
    """
    original = sample_faces["Image_with_alpha.png"]
    mirrored = original.mirror()
    seen = detector.detect(sample_images["Image_with_alpha.png"][:, ::-1], color="bgr")
    assert mirrored.mirrored and len(seen) == 1
    face_width = float(mirrored.boxes[0, 2] - mirrored.boxes[0, 0])
    pairs = {RIGHT_EYE_OUTER: LEFT_EYE_OUTER, MOUTH_RIGHT: MOUTH_LEFT, IRIS_RIGHT[0]: IRIS_LEFT[0]}
    pairs[NOSE_TIP] = NOSE_TIP  # on the midline: its own mirror
    for own_id, mirror_id in [*pairs.items(), *((b, a) for a, b in pairs.items())]:
        distance = np.linalg.norm(seen.landmarks[0, own_id, :2] - mirrored.landmarks[0, mirror_id, :2])
        assert distance < 0.05 * face_width, (own_id, mirror_id, distance)
    np.testing.assert_allclose(seen.boxes[0], mirrored.boxes[0], atol=0.05 * face_width)
    # the mirrored faces keep the subject's sides: their left eye now appears on the image's left
    assert mirrored.landmarks[0, LEFT_EYE_OUTER, 0] < mirrored.landmarks[0, RIGHT_EYE_OUTER, 0]
    # yaw and roll change sign with the view, both ways
    assert np.sign(seen.poses[0, 2]) == np.sign(mirrored.poses[0, 2]) == -np.sign(original.poses[0, 2])
