"""vision.hands on real pictures: the hand-on-forehead photo, portraits without hands, the sample clip."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np
import pytest

from vision.assets import HAND_ON_FACE, SAMPLE_CLIP, ensure
from vision.hands import FINGERTIPS, HandDetector, HandOptions, Hands, HandTracker

SAMPLES = Path(__file__).resolve().parent.parent / "samples"


@pytest.fixture(scope="module")
def hand_detector() -> Iterator[HandDetector]:
    with HandDetector() as detector:
        yield detector


@pytest.fixture(scope="module")
def hand_on_face_rgba() -> np.ndarray:
    image = cv2.imread(str(ensure(HAND_ON_FACE)), cv2.IMREAD_UNCHANGED)
    assert image.shape == (1036, 1524, 4)
    return image


def test_finds_the_hand_on_the_forehead_in_an_rgba_photo(hand_detector, hand_on_face_rgba) -> None:
    hands = hand_detector.detect(hand_on_face_rgba, color="bgr")
    assert len(hands) == 1 and hands.image_size == (1524, 1036)
    assert hands.landmarks.shape == (1, 21, 3) and hands.landmarks.dtype == np.float32
    assert hands.scores[0] > 0.9 and hands.handedness[0] in ("Left", "Right")
    tips = hands.landmarks[0, FINGERTIPS, :2]
    # The hand lies flat on the upper forehead / hairline: every fingertip in the upper third of the photo,
    # the finger tips spread across the head (x 500-900 px of 1524).
    assert np.all(tips[:, 1] < 1036 / 3) and np.all((tips[:, 0] > 500) & (tips[:, 0] < 900))
    points = hands.touch_points()
    assert points.shape == (10, 2) and np.array_equal(points[:5], tips)


@pytest.mark.parametrize("name", ["astronaut.png", "grace_hopper.jpg"])
def test_no_hand_in_plain_portraits(hand_detector, name: str) -> None:
    image = cv2.imread(str(SAMPLES / name))
    hands = hand_detector.detect(image, color="bgr")
    assert len(hands) == 0 and hands.touch_points().shape == (0, 2)


def test_tracker_follows_the_hand_over_the_face_in_the_sample_clip() -> None:
    capture = cv2.VideoCapture(str(ensure(SAMPLE_CLIP)))
    frames = []
    while len(frames) < 140:
        ok, frame = capture.read()
        if not ok:
            break
        frames.append(cv2.resize(frame, (640, 480)))
    capture.release()
    assert len(frames) == 140
    with HandTracker(HandOptions(stride=2)) as tracker:
        seen = [tracker.track(frame, 1 + i * 42, color="bgr") for i, frame in enumerate(frames)]
    # Around frame 100 the woman holds her hand over her nose and eyes.
    assert sum(len(h) > 0 for h in seen[90:110]) >= 18
    # Stride 2: odd frames repeat the hands of the frame before, re-stamped.
    assert seen[101].timestamp_ms == 1 + 101 * 42
    assert np.array_equal(seen[101].landmarks, seen[100].landmarks)
    assert not np.array_equal(seen[102].landmarks, seen[100].landmarks)


def test_tracker_bumps_stale_time_stamps_and_refuses_bad_frames() -> None:
    frame = cv2.imread(str(SAMPLES / "astronaut.png"))
    with HandTracker() as tracker:
        assert tracker.track(frame, 0, color="bgr").timestamp_ms == 1  # after the warm-up frame at 0
        assert tracker.track(frame, 40, color="bgr").timestamp_ms == 40
        assert tracker.track(frame, 40, color="bgr").timestamp_ms == 41  # same clock as FaceTracker
        with pytest.raises(ValueError, match=r"image must be"):
            tracker.track(np.zeros((4, 4, 2), np.uint8), 80, color="bgr")
    with pytest.raises(RuntimeError, match="closed"):
        tracker.track(frame, 120, color="bgr")


def test_hands_contract() -> None:
    with pytest.raises(ValueError, match=r"\(H, 21, 3\)"):
        Hands(np.zeros((1, 20, 3), np.float32), np.zeros(1, np.float32), ("Left",), (10, 10))
    with pytest.raises(ValueError, match="do not match"):
        Hands(np.zeros((2, 21, 3), np.float32), np.zeros(1, np.float32), ("Left",), (10, 10))
    with pytest.raises(ValueError, match="stride"):
        HandOptions(stride=0)


def test_mirrored_hands_match_hands_found_in_the_flipped_photo(hand_detector, hand_on_face_rgba) -> None:
    hands = hand_detector.detect(hand_on_face_rgba, color="bgr")
    flipped = hand_detector.detect(np.ascontiguousarray(hand_on_face_rgba[:, ::-1]), color="bgr")
    mirrored = hands.mirror()
    assert mirrored.handedness == hands.handedness
    assert np.allclose(mirrored.mirror().landmarks, hands.landmarks)
    # The model on the flipped photo agrees with the mirrored landmarks to within a few pixels of 1524.
    assert np.abs(mirrored.touch_points() - flipped.touch_points()).max() < 15
