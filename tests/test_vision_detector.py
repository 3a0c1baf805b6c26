"""The independent face detector, the detect -> crop -> landmark finder and the fit check on real photos: a
real group photo, and frames made by pasting the project's real faces small into bigger frames."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest
from composites import background, cut, found, paste

from vision.assets import GROUP_PHOTO, ensure
from vision.detector import (
    GRID,
    INPUT_SIZE,
    MODEL_MIN_FACE,
    BlazeFaceDetector,
    Detections,
    decode,
    weighted_nms,
    windows,
)
from vision.faces import FIT_OK, FIT_UNCERTAIN
from vision.finder import FaceFinder
from vision.fit import FIT_TOLERANCE, fit_errors, match, mesh_keypoints
from vision.io import read_image
from vision.landmarker import FaceDetector


@pytest.fixture(scope="module")
def finder() -> Iterator[FaceFinder]:
    with FaceFinder() as shared:
        yield shared


@pytest.fixture(scope="module")
def group_photo() -> np.ndarray:
    image = read_image(ensure(GROUP_PHOTO))
    image.flags.writeable = False
    return image


@pytest.fixture(scope="module")
def face_cuts(finder: FaceFinder, sample_images, clip_frames) -> list[tuple[np.ndarray, float]]:
    """Real faces cut out around their detector boxes: two sample photos and a frame of the sample clip."""
    sources = [sample_images["grace_hopper.jpg"], sample_images["astronaut.png"], clip_frames[0][0]]
    cuts = []
    for image in sources:
        detections = finder.detect(image, color="bgr")
        assert len(detections) == 1
        cuts.append(cut(np.ascontiguousarray(image), detections.boxes[0]))
    return cuts


def test_decode_places_boxes_and_keypoints_on_their_anchor() -> None:
    raw_boxes = np.zeros((GRID * GRID, 16), np.float32)
    raw_scores = np.full(GRID * GRID, -10.0, np.float32)
    cell = 7 * GRID + 30  # row 7, column 30
    raw_boxes[cell, :4] = [4.0, -2.0, 24.0, 12.0]  # centre offset (input px), width, height
    raw_boxes[cell, 4:6] = [-3.0, 1.0]  # first keypoint offset
    raw_scores[cell] = 3.0
    data, scores = decode(raw_boxes, raw_scores, 0.5)
    assert scores.shape == (1,) and scores[0] == pytest.approx(1 / (1 + np.exp(-3.0)))
    centre = np.array([(30 + 0.5) / GRID + 4.0 / INPUT_SIZE, (7 + 0.5) / GRID - 2.0 / INPUT_SIZE])
    half = np.array([12.0, 6.0]) / INPUT_SIZE
    np.testing.assert_allclose(data[0, 0], centre - half, atol=1e-6)
    np.testing.assert_allclose(data[0, 1], centre + half, atol=1e-6)
    np.testing.assert_allclose(data[0, 2], [(30.5 - 3.0 / 4) / GRID, (7.5 + 1.0 / 4) / GRID], atol=1e-6)
    with pytest.raises(ValueError, match="2304"):
        decode(raw_boxes[:10], raw_scores[:10], 0.5)


def test_weighted_nms_merges_overlapping_boxes_and_keeps_separate_ones() -> None:
    def box(x: float, y: float, size: float) -> np.ndarray:
        data = np.zeros((8, 2), np.float32)
        data[0], data[1] = (x, y), (x + size, y + size)
        data[2:] = (x + size / 2, y + size / 2)
        return data

    data = np.stack([box(0, 0, 10), box(1, 0, 10), box(50, 50, 10)])
    merged, scores = weighted_nms(data, np.array([0.9, 0.9, 0.6], np.float32), 0.3)
    assert len(merged) == 2 and scores.tolist() == pytest.approx([0.9, 0.6])
    np.testing.assert_allclose(merged[0, 0], [0.5, 0.0])  # the two overlapping boxes averaged


@pytest.mark.parametrize(
    "size", [(640, 480), (817, 1024), (1920, 1080), (512, 512), (1000, 667), (1280, 720)]
)
def test_windows_hold_every_face_whole_at_a_size_the_model_finds(size: tuple[int, int]) -> None:
    """Every face from 32 px up fits whole inside some window in which it is at least MODEL_MIN_FACE input
    pixels wide (or is as big as the frame allows)."""
    width, height = size
    spans = windows(width, height, 32.0, 96)
    assert tuple(spans[0]) == (0, 0, max(width, height))
    rng = np.random.default_rng(1)
    for face in rng.uniform(32, min(width, height) * 0.6, 200):
        x, y = rng.uniform(0, width - face), rng.uniform(0, height - face)
        inside = (spans[:, 0] <= x) & (spans[:, 1] <= y)
        inside &= (spans[:, 0] + spans[:, 2] >= x + face) & (spans[:, 1] + spans[:, 2] >= y + face)
        resolved = face * INPUT_SIZE / spans[:, 2] >= MODEL_MIN_FACE
        assert (inside & resolved).any(), f"a {face:.0f} px face at {x:.0f},{y:.0f} in {size}"


def test_windows_tile_only_what_the_whole_frame_cannot_resolve() -> None:
    """No tiles when the whole frame shows a min_face_px face at MODEL_MIN_FACE input pixels; otherwise the
    finest tiles are just large enough for it, and a tile budget keeps the coarsest levels."""
    side = round(32.0 * INPUT_SIZE / MODEL_MIN_FACE)
    assert windows(side, side * 3 // 4, 32.0, 96).tolist() == [[0, 0, side]]
    spans = windows(1920, 1080, 32.0, 96)
    assert spans[1:, 2].min() == side
    assert (spans[:, 2] >= side).all()
    capped = windows(4000, 3000, 32.0, 40)
    assert len(capped) <= 41 and tuple(capped[0]) == (0, 0, 4000)
    assert (capped[1:, 2] < 4000).all() and capped[1:, 2].min() > side, "the budget drops the finest level"


def test_group_photo_every_face_found_and_fitted(finder: FaceFinder, group_photo: np.ndarray) -> None:
    """A real group photo of five frontal faces 80-110 px wide: the landmarker alone found two of them."""
    result = finder.find(group_photo, color="bgr")
    assert len(result.faces) == 5 and len(result.unmapped) == 0
    assert result.faces.fit == (FIT_OK,) * 5
    widths = result.faces.boxes[:, 2] - result.faces.boxes[:, 0]
    assert np.all(np.diff(widths) <= 0), "largest first"
    assert result.faces.detector_scores is not None and (result.faces.detector_scores > 0.5).all()
    assert len(result.faces.quality) == 5
    centres = (result.faces.boxes[:, :2] + result.faces.boxes[:, 2:]) / 2
    assert len({(round(x / 50), round(y / 50)) for x, y in centres}) == 5, "five different faces"


@pytest.mark.parametrize(
    ("size", "widths"),
    [((817, 1024), (40, 48, 60, 84)), ((1280, 720), (40, 52, 66, 90, 110, 130))],
    ids=["tall_portrait", "group_of_six"],
)
def test_small_faces_are_found_and_landmarked(finder: FaceFinder, face_cuts, size, widths) -> None:
    width, height = size
    canvas = background(width, height, seed=len(widths))
    xs = np.linspace(0.15 * width, 0.85 * width, len(widths))
    placed = [
        paste(canvas, *face_cuts[i % len(face_cuts)], w, (x, height * (0.35 + 0.3 * (i % 2))))
        for i, (w, x) in enumerate(zip(widths, xs, strict=True))
    ]
    result = finder.find(canvas, color="bgr")
    assert all(found(placed, result.detections.boxes)), "every face detected"
    assert all(found(placed, result.faces.boxes)), "every face landmarked"
    assert result.faces.fit == (FIT_OK,) * len(widths)
    # the starting point: the landmarker on the whole frame misses the small ones
    with FaceDetector() as alone:
        assert not all(found(placed, alone.detect(canvas, color="bgr").boxes))


def test_no_face_means_no_detection(finder: FaceFinder) -> None:
    result = finder.find(background(640, 480, seed=3), color="bgr")
    assert len(result.detections) == 0 and len(result.faces) == 0


def test_good_meshes_fit_and_a_mesh_one_feature_off_does_not(finder: FaceFinder, group_photo) -> None:
    result = finder.find(group_photo, color="bgr")
    pairs = match(result.faces.boxes, result.detections)
    assert (pairs >= 0).all()
    keypoints = result.detections.keypoints[pairs]
    good = fit_errors(result.faces.landmarks, keypoints)
    assert (good < 0.25).all(), good
    # forehead on the eyes, lips on the chin: the whole mesh moved down by one feature (eyes to mouth)
    shifted = result.faces.landmarks.copy()
    points = mesh_keypoints(shifted)
    shifted[..., :2] += (points[:, 3] - points[:, :2].mean(axis=1))[:, None, :]
    assert (fit_errors(shifted, keypoints) > 2 * FIT_TOLERANCE).all()


def test_a_shifted_mesh_is_refitted_or_flagged_uncertain(finder: FaceFinder, sample_images) -> None:
    """The finder keeps the better of two crops; given only a misfit it marks the face uncertain."""
    image = np.ascontiguousarray(sample_images["grace_hopper.jpg"])
    detections = finder.detect(image, color="bgr")
    rgb = np.ascontiguousarray(image[..., ::-1])
    fitted = finder.landmark(rgb, detections, 0)
    assert fitted is not None and fitted[2] <= FIT_TOLERANCE
    # a detection whose keypoints sit one feature up from the face: no crop can make the mesh agree
    moved = detections.keypoints.copy()
    moved[0] -= moved[0, 3] - moved[0, :2].mean(axis=0)
    lying = Detections(detections.boxes, moved, detections.scores, detections.image_size)
    refitted = finder.landmark(rgb, lying, 0)
    assert refitted is not None and refitted[2] > FIT_TOLERANCE
    assert finder.find(image, color="bgr", detections=lying).faces.fit == (FIT_UNCERTAIN,)


def test_detector_rejects_a_bad_image(finder: FaceFinder) -> None:
    with pytest.raises(ValueError, match="image"):
        finder.detect(np.zeros((5, 5, 7), np.uint8), color="bgr")


def test_detector_alone_finds_the_sample_faces(sample_images) -> None:
    detector = BlazeFaceDetector()
    for name in ("grace_hopper.jpg", "astronaut.png"):
        detections = detector.detect(sample_images[name], color="bgr")
        assert len(detections) == 1, name
        eyes = detections.keypoints[0, :2]
        assert eyes[0, 0] < eyes[1, 0], "the subject's right eye is on the image's left"
