"""Live: the tracker follows its faces, the detector checks their fit and seeds a face the tracker misses."""

from __future__ import annotations

import numpy as np
import pytest
from composites import cut, found, paste

from vision.detector import Detections
from vision.faces import FIT_OK, FIT_UNCERTAIN
from vision.finder import FaceFinder
from vision.follow import FaceFollower, FollowOptions
from vision.landmarker import FaceTracker


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
