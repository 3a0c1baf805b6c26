"""FaceTracker on the real clip: one face per frame, smoothing that calms jitter but follows the head."""

from __future__ import annotations

import numpy as np
import pytest

from vision.faces import Faces
from vision.landmarker import FaceTracker, LandmarkerOptions


def _stack(tracked: list[Faces]) -> np.ndarray:
    """``(T, 478, 2)`` landmark positions of the one face over T frames."""
    return np.stack([faces.landmarks[0, :, :2] for faces in tracked])


def test_tracker_finds_one_face_in_every_frame(clip_tracked: list[Faces], clip_frames) -> None:
    frames, stamps = clip_frames
    assert len(clip_tracked) == len(frames)
    for faces, frame, stamp in zip(clip_tracked, frames, stamps, strict=True):
        assert len(faces) == 1
        assert faces.image_size == (frame.shape[1], frame.shape[0])
        assert len(faces.quality) == 1 and faces.quality[0].ok, faces.quality
        assert faces.timestamp_ms == max(stamp, 1)  # the warm-up frame took time stamp 0
    last = _stack(clip_tracked)[-1]  # the box is that of the smoothed landmarks
    np.testing.assert_allclose(clip_tracked[-1].boxes[0], [*last.min(axis=0), *last.max(axis=0)])


def test_smoothing_reduces_jitter(clip_tracked: list[Faces], clip_tracked_raw: list[Faces]) -> None:
    """Frame-to-frame jitter (second differences of every landmark) is clearly lower than MediaPipe's own."""
    smooth, raw = _stack(clip_tracked), _stack(clip_tracked_raw)

    def jitter(track: np.ndarray) -> float:
        return float(np.median(np.abs(track[2:] - 2 * track[1:-1] + track[:-2])))

    assert jitter(smooth) < 0.8 * jitter(raw)


def test_smoothing_follows_the_motion(clip_tracked: list[Faces], clip_tracked_raw: list[Faces]) -> None:
    """The head moves tens of pixels in the first frames; the smoothed landmarks stay within a few per cent of
    the face's width from MediaPipe's and cover the same path."""
    smooth, raw = _stack(clip_tracked), _stack(clip_tracked_raw)
    face_width = float(np.ptp(raw[0, :, 0]))
    travel = np.linalg.norm(raw.mean(axis=1)[-1] - raw.mean(axis=1)[0])
    assert travel > 0.05 * face_width  # the clip really moves, so lag would show
    lag = np.linalg.norm(smooth - raw, axis=2).mean(axis=1)
    assert lag.max() < 0.04 * face_width
    raw_centre, smooth_centre = raw.mean(axis=1), smooth.mean(axis=1)  # (T, 2) each
    axis = int(np.argmax(np.ptp(raw_centre, axis=0)))  # the direction the head moves most
    assert np.corrcoef(raw_centre[:, axis], smooth_centre[:, axis])[0, 1] > 0.9


def test_first_tracked_frame_is_raw(clip_tracked: list[Faces], clip_tracked_raw: list[Faces]) -> None:
    np.testing.assert_allclose(clip_tracked[0].landmarks, clip_tracked_raw[0].landmarks)


def test_non_increasing_time_stamps_are_bumped(clip_frames) -> None:
    frames, _ = clip_frames
    with FaceTracker() as tracker:
        stamps = [tracker.track(frame, 500, color="bgr").timestamp_ms for frame in frames[:3]]
        later = tracker.track(frames[3], 100, color="bgr")
    assert stamps == [500, 501, 502]
    assert later.timestamp_ms == 503 and len(later) == 1


def test_face_lost_then_found_again(clip_frames) -> None:
    """A blank frame loses the face (no faces, smoothing reset); the next real frame finds it unsmoothed."""
    frames, stamps = clip_frames
    with FaceTracker() as tracker, FaceTracker(smoothing=None) as raw_tracker:
        for frame, stamp in zip(frames[:5], stamps[:5], strict=True):
            tracker.track(frame, stamp, color="bgr")
        lost = tracker.track(np.zeros_like(frames[0]), stamps[5], color="bgr")
        found = tracker.track(frames[6], stamps[6], color="bgr")
        raw_tracker.track(np.zeros_like(frames[0]), stamps[5], color="bgr")
        raw = raw_tracker.track(frames[6], stamps[6], color="bgr")
    assert len(lost) == 0 and lost.quality == ()
    assert len(found) == 1
    np.testing.assert_allclose(found.landmarks, raw.landmarks)  # restarted, not pulled towards the old face


def test_tracker_defaults_to_one_face_and_closes(clip_frames) -> None:
    frames, _ = clip_frames
    with FaceTracker() as tracker:
        assert tracker.options == LandmarkerOptions(max_faces=1)
        tracker.track(frames[0], 0, color="bgr")
    with pytest.raises(RuntimeError, match="closed"):
        tracker.track(frames[1], 40, color="bgr")
