"""Live: the tracker follows its faces, the detector checks their fit and seeds a face the tracker misses;
every face is smoothed with its own history."""

from __future__ import annotations

import numpy as np
import pytest
from composites import background, cut, found, paste

import vision.landmarker
from vision.detector import Detections
from vision.faces import FIT_OK, FIT_UNCERTAIN, Faces
from vision.finder import FaceFinder
from vision.follow import FaceFollower, FollowOptions
from vision.landmarker import FaceTracker, LandmarkerOptions


@pytest.fixture(scope="module")
def two_person_clip(sample_images, clip_frames) -> tuple[list[np.ndarray], list[int], object]:
    """The sample clip's first frames with a second real face (Grace Hopper, 70 px) pasted in a corner: too
    small for the tracker's short-range detector."""
    portrait = np.ascontiguousarray(sample_images["grace_hopper.jpg"])
    with FaceFinder() as finder:
        patch = cut(portrait, finder.detect(portrait, color="bgr").boxes[0])
    frames, placed = [], None
    for frame in clip_frames[0][:20]:
        copy = np.ascontiguousarray(frame).copy()
        placed = paste(copy, *patch, 70, (80, 90))
        frames.append(copy)
    return frames, list(clip_frames[1][:20]), placed


def test_the_follower_finds_the_face_the_tracker_misses(two_person_clip) -> None:
    frames, stamps, small = two_person_clip
    with FaceFollower() as follower, FaceTracker() as tracker:
        followed = [follower.track(f, t, color="bgr") for f, t in zip(frames, stamps, strict=True)]
        alone = [tracker.track(f, t, color="bgr") for f, t in zip(frames, stamps, strict=True)]
    assert all(len(faces) == 1 for faces in alone)
    assert all(len(faces) == 2 for faces in followed)
    assert all(found([small], faces.boxes)[0] for faces in followed), "the small face is followed every frame"
    assert all(faces.fit == (FIT_OK, FIT_OK) for faces in followed)
    assert all(
        faces.detector_scores is not None and (faces.detector_scores > 0.5).all() for faces in followed
    )


def test_a_mesh_the_detector_disagrees_with_stays_uncertain(clip_frames) -> None:
    frames, stamps = clip_frames
    with FaceFollower(FollowOptions(max_faces=1, check_every=5)) as follower:
        detector = follower._detector
        real = detector.detect

        # the detector's keypoints one feature up from the face: every check disagrees with the mesh
        def lying(image: np.ndarray, *, color: str) -> Detections:
            truth = real(image, color=color)
            moved = truth.keypoints - (
                truth.keypoints[:, 3:4] - truth.keypoints[:, :2].mean(axis=1, keepdims=True)
            )
            return Detections(truth.boxes, moved, truth.scores, truth.image_size)

        detector.detect = lying  # type: ignore[method-assign]
        fits = [follower.track(f, t, color="bgr").fit for f, t in zip(frames[:12], stamps[:12], strict=True)]
    assert all(fit == (FIT_UNCERTAIN,) for fit in fits)


def noisy(frame: np.ndarray, count: int, seed: int = 0) -> list[np.ndarray]:
    """``count`` copies of a still frame, each with fresh pixel noise (sigma 3): a camera on a still scene."""
    rng = np.random.default_rng(seed)
    return [np.clip(frame + rng.normal(0.0, 3.0, frame.shape), 0, 255).astype(np.uint8) for _ in range(count)]


def follow(frames: list[np.ndarray], follower: FaceFollower) -> np.ndarray:
    """``(T, F, 478, 3)``: the follower's faces frame by frame, left to right (the test's own order)."""
    out = []
    for number, frame in enumerate(frames):
        faces = follower.track(frame, number * 42, color="bgr")
        out.append(faces.landmarks[np.argsort(faces.boxes[:, 0])])
    assert len({len(faces) for faces in out}) == 1, "the same faces in every frame"
    return np.stack(out)


def jitter(landmarks: np.ndarray) -> np.ndarray:
    """``(F,)``: each face's mean landmark move from frame to frame (px, in x and y), from frame 4 on."""
    steps = np.linalg.norm(np.diff(landmarks[4:, ..., :2], axis=0), axis=-1)
    return steps.mean(axis=(0, 2))


def test_every_followed_face_is_smoothed_the_seeded_one_too(two_person_clip) -> None:
    """One still frame of the clip with the small pasted face, with sensor noise: the tracked face and the
    seeded one (the tracker misses it) each jitter less than the raw landmarks do."""
    frames = noisy(two_person_clip[0][0], 24)
    with FaceFollower() as smoothed, FaceFollower(smoothing=None) as raw:
        steady, shaky = follow(frames, smoothed), follow(frames, raw)
    assert steady.shape[1] == 2
    assert (jitter(steady) < 0.6 * jitter(shaky)).all(), (jitter(steady), jitter(shaky))


@pytest.fixture(scope="module")
def two_portraits(sample_images) -> np.ndarray:
    """Two real portraits (the astronaut, Grace Hopper) 150 px wide side by side in a 640x480 frame: both in
    the tracker's reach."""
    canvas = background(640, 480)
    with FaceFinder() as finder:
        for name, x in (("astronaut.png", 170), ("grace_hopper.jpg", 470)):
            portrait = np.ascontiguousarray(sample_images[name])
            paste(canvas, *cut(portrait, finder.detect(portrait, color="bgr").boxes[0]), 150, (x, 240))
    return canvas


def test_faces_swapping_places_in_the_tracker_output_keep_their_own_smoothing(
    two_portraits, monkeypatch
) -> None:
    """The tracker lists the same two faces in the other order every second frame: each face's smoothed
    landmarks are those it gets when the order never changes (no face's history is blended into another's)."""
    frames = noisy(two_portraits, 16)
    options = LandmarkerOptions(max_faces=2)
    with FaceFollower(landmarker=options) as follower:
        in_order = follow(frames, follower)
    calls = []
    convert = vision.landmarker.faces_from_result

    def swapping(*args: object) -> Faces:
        faces = convert(*args)  # type: ignore[arg-type]
        calls.append(len(faces))
        return faces.select(np.arange(len(faces))[::-1]) if len(calls) % 2 else faces

    monkeypatch.setattr(vision.landmarker, "faces_from_result", swapping)
    with FaceFollower(landmarker=options) as follower:
        swapped = follow(frames, follower)
    assert in_order.shape[1] == 2 and set(calls) == {2}
    np.testing.assert_allclose(swapped, in_order, atol=0.01)
