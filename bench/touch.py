"""What the touch guard costs on the live path: face tracking alone vs face plus hand tracking, in one run.

Baseline: ``FaceTracker.track`` and ``face_geometry`` on each frame (the live path without the guard).
Measured, on the same frames: the baseline + ``HandTracker.track`` + the guard's hit test and hysteresis
(``no_touch_hits`` with every catalogue area treated, ``TouchGuard.update``), once with the hand model on
every frame and once on alternate frames (``HandOptions(stride=2)``: the calls in between repeat the last
hands). All three paths have their own trackers and run on every frame of the
sample clip resized to 640x480; the order of the three rotates from frame to frame so each sees the same
machine load. Per-frame cost is the mean (it sets the frame rate), the 95th percentile shows the jitter.

The last line is ``face_ms=… face_hand_ms=… fps=… ratio=…`` for the hand model on alternate frames
(``--stride 1`` for every frame); fps is what face + hands + guard alone would allow.
Run: ``python bench/touch.py``.
"""

from __future__ import annotations

import argparse
import contextlib
import statistics
import sys
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from vision.assets import SAMPLE_CLIP, ensure
from vision.hands import HandOptions, HandTracker
from vision.landmarker import FaceTracker
from vision.video import video_frames
from zones.catalogue import load_catalogue
from zones.geometry import GeometryIndex, face_geometry
from zones.plan import Plan, Treatment
from zones.safety import evaluate
from zones.touch import TouchGuard, no_touch_hits

SIZE = (640, 480)
SKIP_FRAMES = 5  # the first calls of a fresh graph allocate buffers; they are not steady-state cost
FRAME_STEP_MS = 1000.0 / 24.0  # the clip's frame rate


def summary(name: str, timings: list[float]) -> str:
    mean = statistics.fmean(timings)
    p95 = float(np.percentile(timings, 95))
    return f"{name}: frames={len(timings)} mean_ms={mean:.2f} p95_ms={p95:.2f} fps={1000.0 / mean:.1f}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stride", type=int, default=2, help="hand model every N-th frame for the last line")
    args = parser.parse_args(argv)

    catalogue = load_catalogue()
    index = GeometryIndex.from_catalogue(catalogue)
    today = datetime.now().replace(second=0, microsecond=0)
    everything = Treatment(index.area_ids, "ha_filler", today - timedelta(days=2))
    safety = evaluate(Plan((everything,), "hands", today), catalogue)
    strides = sorted({1, args.stride})
    timings: dict[str, list[float]] = {"face": [], **{f"stride{n}": [] for n in strides}}
    touch_frames = dict.fromkeys(timings, 0)

    with contextlib.ExitStack() as stack:
        face_only = stack.enter_context(FaceTracker())
        guarded = {
            f"stride{n}": (
                stack.enter_context(FaceTracker()),
                stack.enter_context(HandTracker(HandOptions(stride=n))),
                TouchGuard(index.area_ids),
            )
            for n in strides
        }

        def face_call(frame: np.ndarray, stamp: int) -> bool:
            face_geometry(face_only.track(frame, stamp, color="bgr"), index)
            return False

        def guard_call(name: str) -> Callable[[np.ndarray, int], bool]:
            face, hands, guard = guarded[name]

            def call(frame: np.ndarray, stamp: int) -> bool:
                geometry = face_geometry(face.track(frame, stamp, color="bgr"), index)
                found = hands.track(frame, stamp, color="bgr")
                hits = no_touch_hits(found, geometry, safety, geometry.area_visible)
                return bool(guard.update(hits, stamp).active.any())

            return call

        calls = [("face", face_call), *((name, guard_call(name)) for name in guarded)]
        for number, frame in enumerate(video_frames(ensure(SAMPLE_CLIP), SIZE)):
            stamp = round((number + 1) * FRAME_STEP_MS)
            shift = number % len(calls)
            for name, call in calls[shift:] + calls[:shift]:
                start = time.perf_counter()
                warned = call(frame, stamp)
                elapsed = (time.perf_counter() - start) * 1000.0
                touch_frames[name] += warned
                if number >= SKIP_FRAMES:
                    timings[name].append(elapsed)

    print(summary("face only", timings["face"]))
    for n in strides:
        name = f"stride{n}"
        line = summary(f"face + hands every {n} frame(s) + guard", timings[name])
        print(f"{line} warned_frames={touch_frames[name]}")
    face_ms = statistics.fmean(timings["face"])
    both_ms = statistics.fmean(timings[f"stride{args.stride}"])
    fps, ratio = 1000.0 / both_ms, both_ms / face_ms
    print(f"face_ms={face_ms:.2f} face_hand_ms={both_ms:.2f} fps={fps:.1f} ratio={ratio:.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
