"""What the project's tracker path costs on top of MediaPipe's own inference, measured in one run.

Baseline: MediaPipe's FaceLandmarker in VIDEO mode called bare (``detect_for_video`` on frames already in
RGB, ``mp.Image`` creation included, same options as the tracker: one face, transformation matrices on).
Measured: ``FaceTracker.track`` on the BGR frame (conversion to RGB, inference, result to numpy, One Euro
smoothing, quality). Both run on every frame of the sample clip resized to 640x480 and to 1280x720; the two
calls alternate which goes first on each frame, so both see the same machine load. Each path has its own
native landmarker, new for each replay; each resolution is replayed twice, creating the two landmarkers in
one order and then the other.

The last line is ``inference_ms=… tracker_ms=… ratio=…``: medians over all frames of both resolutions.
Run: ``python bench/landmarks.py``.
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

import cv2
import mediapipe as mp
import numpy as np
from mediapipe.tasks.python import vision as mp_vision

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from vision.assets import SAMPLE_CLIP, ensure
from vision.landmarker import FaceTracker, LandmarkerOptions, faces_from_result, native_options
from vision.tasks import quiet_native_stderr
from vision.video import video_frames

RESOLUTIONS = ((640, 480), (1280, 720))
SKIP_FRAMES = 5  # the first calls of a fresh graph allocate buffers; they are not steady-state cost
FRAME_STEP_MS = 1000.0 / 24.0  # the clip's frame rate


def bare_landmarker(options: LandmarkerOptions) -> mp_vision.FaceLandmarker:
    """MediaPipe's FaceLandmarker in VIDEO mode with exactly the tracker's options and nothing of ours."""
    native = native_options(options, mp_vision.RunningMode.VIDEO)
    with quiet_native_stderr():
        return mp_vision.FaceLandmarker.create_from_options(native)


def run_replay(
    clip: Path, size: tuple[int, int], *, tracker_first: bool
) -> tuple[list[float], list[float], list[float]]:
    """Per-frame milliseconds of the bare call, the tracker call and ``faces_from_result`` alone.

    ``tracker_first`` says which native landmarker is created first: instances created in a different order
    run a few per cent apart, so each resolution is replayed once in each order.
    """
    options = LandmarkerOptions(max_faces=1)
    bare_ms: list[float] = []
    tracker_ms: list[float] = []
    convert_ms: list[float] = []
    if tracker_first:
        tracker = FaceTracker(options)
        bare = bare_landmarker(options)
    else:
        bare = bare_landmarker(options)
        tracker = FaceTracker(options)
    with bare, tracker:
        for index, bgr in enumerate(video_frames(clip, size)):
            rgb = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)  # the baseline's frames are already RGB
            stamp = round((index + 1) * FRAME_STEP_MS)

            def call_bare(rgb: np.ndarray = rgb, stamp: int = stamp) -> mp_vision.FaceLandmarkerResult:
                return bare.detect_for_video(mp.Image(image_format=mp.ImageFormat.SRGB, data=rgb), stamp)

            def call_tracker(bgr: np.ndarray = bgr, stamp: int = stamp) -> object:
                return tracker.track(bgr, stamp, color="bgr")

            order = (call_bare, call_tracker) if index % 2 == 0 else (call_tracker, call_bare)
            timings = {}
            results = {}
            for call in order:
                start = time.perf_counter()
                results[call] = call()
                timings[call] = (time.perf_counter() - start) * 1000.0
            start = time.perf_counter()
            faces_from_result(results[call_bare], size[0], size[1])
            conversion = (time.perf_counter() - start) * 1000.0
            if index >= SKIP_FRAMES:
                bare_ms.append(timings[call_bare])
                tracker_ms.append(timings[call_tracker])
                convert_ms.append(conversion)
    return bare_ms, tracker_ms, convert_ms


def main() -> int:
    clip = ensure(SAMPLE_CLIP)
    all_bare: list[float] = []
    all_tracker: list[float] = []
    for size in RESOLUTIONS:
        bare_ms, tracker_ms, convert_ms = [], [], []
        for tracker_first in (False, True):
            replay = run_replay(clip, size, tracker_first=tracker_first)
            bare_ms += replay[0]
            tracker_ms += replay[1]
            convert_ms += replay[2]
        all_bare += bare_ms
        all_tracker += tracker_ms
        bare, tracked = statistics.median(bare_ms), statistics.median(tracker_ms)
        print(
            f"{size[0]}x{size[1]}: frames={len(bare_ms)} inference_ms={bare:.2f} tracker_ms={tracked:.2f} "
            f"ratio={tracked / bare:.3f} faces_from_result_ms={statistics.median(convert_ms):.3f}"
        )
    # Medians over every timed frame of both resolutions together.
    bare, tracked = statistics.median(all_bare), statistics.median(all_tracker)
    print(f"inference_ms={bare:.2f} tracker_ms={tracked:.2f} ratio={tracked / bare:.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
