"""What finding every face costs: the detector, detect -> crop -> landmark, the fit check and visibility.

Photos. Baseline: the landmarker alone on the whole photo (``FaceDetector``, IMAGE mode, up to 4 faces: the
project's photo path before issue 11). Measured: the full-range detector with its tiles, the whole
``FaceFinder.find`` (detector, one landmarker call per face crop, a second crop for a misfit, fit check,
quality), the fit check alone and the visibility of every face's landmarks. Photos: the sample portraits, the
real group photo, the real turned head, and frames with the real faces pasted small (a tall 817x1024 portrait
and a 1920x1080 frame).

Live. Baseline: ``FaceTracker.track`` (VIDEO mode) on the sample clip at 640x480. Measured: the detector on
the whole frame (one window: what the live path runs to seed new faces and check the fit), the fit check and
visibility per frame. The calls alternate which goes first on each frame, so both see the same load.

Every line ends in ``ratio=``: the measured path over its baseline, medians, in the same run.
Run: ``python bench/detection.py``.
"""

from __future__ import annotations

import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from composites import background, cut, paste  # noqa: E402

from vision.assets import GROUP_PHOTO, SAMPLE_CLIP, TURNED_FACE, ensure  # noqa: E402
from vision.detector import BlazeFaceDetector, DetectorOptions  # noqa: E402
from vision.finder import FaceFinder  # noqa: E402
from vision.fit import fit_errors, match  # noqa: E402
from vision.io import read_image  # noqa: E402
from vision.landmarker import FaceDetector, FaceTracker, LandmarkerOptions  # noqa: E402
from vision.visibility import landmark_visibility  # noqa: E402

ROUNDS = 5  # each photo is processed this many times per path; the median is kept
LIVE_FRAMES = 120
LIVE_SIZE = (640, 480)


def timed(call: Callable[[], object]) -> tuple[float, object]:
    start = time.perf_counter()
    value = call()
    return (time.perf_counter() - start) * 1000.0, value


def photos(finder: FaceFinder) -> dict[str, np.ndarray]:
    named = {
        "grace_hopper 512x600": read_image(ROOT / "samples" / "grace_hopper.jpg"),
        "group 1000x667": read_image(ensure(GROUP_PHOTO)),
        "turned 512x512": read_image(ensure(TURNED_FACE)),
    }
    sources = [read_image(ROOT / "samples" / n) for n in ("grace_hopper.jpg", "astronaut.png")]
    cuts = [cut(image, finder.detect(image, color="bgr").boxes[0]) for image in sources]
    for (width, height), widths in (((817, 1024), (40, 56, 84)), ((1920, 1080), (40, 60, 90, 120))):
        canvas = background(width, height)
        for i, face in enumerate(widths):
            x = width * (0.2 + 0.6 * i / max(1, len(widths) - 1))
            paste(canvas, *cuts[i % len(cuts)], face, (x, height * (0.35 + 0.3 * (i % 2))))
        named[f"small faces {width}x{height}"] = canvas
    return named


def bench_photos(finder: FaceFinder, landmarker: FaceDetector) -> None:
    for name, image in photos(finder).items():
        base, detect, find, fit, seen = [], [], [], [], []
        faces_found = 0
        for round_ in range(ROUNDS):
            calls = [
                ("base", lambda image=image: landmarker.detect(image, color="bgr")),
                ("find", lambda image=image: finder.find(image, color="bgr")),
            ]
            for label, call in calls if round_ % 2 == 0 else calls[::-1]:
                ms, value = timed(call)
                (base if label == "base" else find).append(ms)
                if label == "find":
                    result = value
            detect.append(timed(lambda image=image: finder.detect(image, color="bgr"))[0])
            faces = result.faces  # type: ignore[attr-defined]
            pairs = match(faces.boxes, result.detections)  # type: ignore[attr-defined]
            keypoints = result.detections.keypoints[np.maximum(pairs, 0)]  # type: ignore[attr-defined]
            fit.append(timed(lambda f=faces, k=keypoints: fit_errors(f.landmarks, k))[0])
            seen.append(timed(lambda f=faces: landmark_visibility(f.landmarks))[0])
            faces_found = len(faces)
        b, d, f = statistics.median(base), statistics.median(detect), statistics.median(find)
        print(
            f"photo {name}: faces={faces_found} landmarker_alone_ms={b:.1f} detector_ms={d:.1f} "
            f"finder_ms={f:.1f} fit_check_ms={statistics.median(fit):.3f} "
            f"visibility_ms={statistics.median(seen):.3f} ratio={f / b:.2f}"
        )


def bench_live(clip: Path) -> None:
    capture = cv2.VideoCapture(str(clip))
    frames = []
    while len(frames) < LIVE_FRAMES:
        ok, frame = capture.read()
        if not ok:
            break
        frames.append(cv2.resize(frame, LIVE_SIZE))
    capture.release()
    detector = BlazeFaceDetector(DetectorOptions(max_tiles=0))  # the whole frame only
    track_ms, detect_ms, fit_ms, seen_ms = [], [], [], []
    with FaceTracker(LandmarkerOptions(max_faces=2)) as tracker:
        for index, frame in enumerate(frames):
            stamp = round(index * 1000 / 24)
            calls = [
                ("track", lambda f=frame, s=stamp: tracker.track(f, s, color="bgr")),
                ("detect", lambda f=frame: detector.detect(f, color="bgr")),
            ]
            out = {}
            for label, call in calls if index % 2 == 0 else calls[::-1]:
                ms, out[label] = timed(call)
                (track_ms if label == "track" else detect_ms).append(ms)
            faces, detections = out["track"], out["detect"]
            pairs = match(faces.boxes, detections)  # type: ignore[attr-defined]
            keep = pairs >= 0
            landmarks, keypoints = faces.landmarks[keep], detections.keypoints[pairs[keep]]  # type: ignore[attr-defined]
            fit_ms.append(timed(lambda lm=landmarks, kp=keypoints: fit_errors(lm, kp))[0])
            seen_ms.append(timed(lambda lm=faces.landmarks: landmark_visibility(lm))[0])  # type: ignore[attr-defined]
    t, d = statistics.median(track_ms[5:]), statistics.median(detect_ms[5:])
    f, v = statistics.median(fit_ms[5:]), statistics.median(seen_ms[5:])
    print(
        f"live {LIVE_SIZE[0]}x{LIVE_SIZE[1]}: frames={len(frames) - 5} tracker_ms={t:.2f} "
        f"detector_ms={d:.2f} "
        f"fit_check_ms={f:.3f} visibility_ms={v:.3f} ratio_detector={d / t:.3f} "
        f"ratio_fit_and_visibility={(f + v) / t:.4f}"
    )


def main() -> int:
    with FaceFinder() as finder, FaceDetector() as landmarker:
        bench_photos(finder, landmarker)
    bench_live(ensure(SAMPLE_CLIP))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
