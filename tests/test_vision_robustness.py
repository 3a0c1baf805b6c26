"""Bad frames never poison MediaPipe, and MediaPipe's native log lines never reach the user's terminal."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from vision.assets import AssetError
from vision.frames import to_rgb_uint8
from vision.landmarker import FaceDetector, FaceTracker, LandmarkerOptions

ROOT = Path(__file__).resolve().parent.parent


def _odd_inputs(image_bgr: np.ndarray) -> dict[str, tuple[np.ndarray, str]]:
    """The same photo in every form a caller might hand over, with the channel order to name."""
    grey = image_bgr.mean(axis=2).astype(np.uint8)
    rgba = np.dstack([image_bgr[:, :, ::-1], np.full(image_bgr.shape[:2], 255, np.uint8)])
    return {
        "grey": (grey, "bgr"),
        "grey (H, W, 1)": (grey[:, :, None], "rgb"),
        "rgba": (rgba, "rgb"),
        "bgra": (np.ascontiguousarray(rgba[:, :, [2, 1, 0, 3]]), "bgr"),
        "uint16": (image_bgr.astype(np.uint16) * 257, "bgr"),
        "float 0..1": (image_bgr.astype(np.float32) / 255.0, "bgr"),
        "bool": (grey > 128, "bgr"),
        "non-contiguous view": (image_bgr[::2, ::2], "bgr"),
        "flipped view": (image_bgr[:, ::-1], "bgr"),
        "channel-last view": (np.asfortranarray(image_bgr), "bgr"),
    }


def test_odd_inputs_then_a_normal_photo_still_detects(sample_images, sample_faces) -> None:
    image = sample_images["grace_hopper.jpg"]
    expected = sample_faces["grace_hopper.jpg"].landmarks
    with FaceDetector() as detector:
        for name, (array, color) in _odd_inputs(image).items():
            faces = detector.detect(array, color=color)
            assert len(faces) <= 1, name
        for bad in (np.zeros(10), np.zeros((4, 4, 2)), np.zeros((1, 1, 3)), np.zeros((8, 8, 3), np.int64)):
            with pytest.raises(ValueError):
                detector.detect(bad, color="bgr")
        after = detector.detect(image, color="bgr")
    assert len(after) == 1
    np.testing.assert_allclose(after.landmarks, expected, atol=0.5)


def test_odd_inputs_find_the_face(sample_images) -> None:
    """Grey, 16-bit, float and views are converted, not just survived: the face is found in each."""
    with FaceDetector() as detector:
        for name, (array, color) in _odd_inputs(sample_images["grace_hopper.jpg"]).items():
            if name != "bool":  # a thresholded photo has no face left in it
                assert len(detector.detect(array, color=color)) == 1, name


def test_tracker_survives_a_grey_frame(clip_frames) -> None:
    frames, stamps = clip_frames
    with FaceTracker() as tracker:
        tracker.track(frames[0], stamps[0], color="bgr")
        tracker.track(frames[1][:, :, 0], stamps[1], color="bgr")
        assert len(tracker.track(frames[2], stamps[2], color="bgr")) == 1


def test_rgb_conversion_matches_opencv_and_numpy(sample_images) -> None:
    image = sample_images["grace_hopper.jpg"]
    expected = np.ascontiguousarray(image[:, :, ::-1])
    np.testing.assert_array_equal(to_rgb_uint8(image, "bgr"), expected)
    np.testing.assert_array_equal(to_rgb_uint8(image[:, ::-1], "bgr"), expected[:, ::-1])
    buffer = np.empty_like(image)
    assert to_rgb_uint8(image, "bgr", out=buffer) is buffer
    np.testing.assert_array_equal(buffer, expected)
    assert to_rgb_uint8(expected, "rgb") is expected  # already right: no copy
    with pytest.raises(ValueError, match="color"):
        to_rgb_uint8(image, "hsv")  # type: ignore[arg-type]


def test_terminal_stays_clean(tmp_path: Path) -> None:
    """Creating landmarkers, detecting, tracking and exiting with one left open print nothing on stderr."""
    script = textwrap.dedent(
        """
        from vision.io import read_image
        from vision.landmarker import FaceDetector, FaceTracker

        image = read_image("samples/grace_hopper.jpg")
        with FaceDetector() as detector:
            assert len(detector.detect(image, color="bgr")) == 1
        tracker = FaceTracker()  # deliberately left open until the interpreter exits
        for stamp in range(0, 200, 40):
            assert len(tracker.track(image, stamp, color="bgr")) == 1
        print("done")
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "done"
    assert done.stderr == ""


def test_bad_options_are_refused_before_mediapipe_sees_them() -> None:
    with pytest.raises(ValueError, match="max_faces"):
        LandmarkerOptions(max_faces=0)
    with pytest.raises(ValueError, match="confidences"):
        LandmarkerOptions(min_detection_confidence=1.5)


def test_a_wrong_model_file_never_reaches_mediapipe(tmp_path: Path) -> None:
    broken = tmp_path / "broken.task"
    broken.write_bytes(b"not a model")
    with pytest.raises(AssetError, match=r"not the expected face_landmarker\.task"):
        FaceDetector(LandmarkerOptions(model_path=broken))


@pytest.mark.parametrize(
    ("module", "tracker"), [("vision.landmarker", "FaceTracker"), ("vision.hands", "HandTracker")]
)
def test_a_tracker_in_a_reference_cycle_is_collected_without_hanging(module: str, tracker: str) -> None:
    """Collected together with MediaPipe's executor, a landmarker used to wait forever on a quit worker."""
    script = textwrap.dedent(
        f"""
        import gc
        import weakref
        from vision.io import read_image
        from {module} import {tracker}

        image = read_image("samples/grace_hopper.jpg")
        for stamp in range(3):
            holder = {{"tracker": {tracker}()}}
            holder["self"] = holder  # only the cycle collector can free it
            holder["tracker"].track(image, stamp + 1, color="bgr")
            native = weakref.ref(holder["tracker"]._task)
            del holder
            gc.collect()
            assert native() is None  # closed and freed, not leaked
        print("collected")
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "collected" and done.stderr == ""
