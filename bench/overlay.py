"""Cost of the full FaceZones overlay against MediaPipe's own face-mesh drawing, on the same real frame.

A real face (samples/grace_hopper.jpg) is letterboxed into a 1280x720 frame and detected once with the real
FaceLandmarker. Then, in one run and alternating per round:
- overlay: ``FaceZonesAnnotator.annotate`` with a mixed plan (no-touch, caution and safe areas): all areas,
  all massage lines with arrowheads, labels and the legend (the issue's list). Each round takes a fresh
  copy of a record the pipeline made (``Pipeline.analyse``; nothing per-frame is reused) of the face moved
  by a few pixels, as a live face moves, after copying a fresh frame into the canvas (cold caches, as with
  a new camera frame). Each annotator draws one stream, with its own ``StreamMemory`` (as a live stream).
  The same overlay with the animated guide and the HUD on top is timed too and reported on the first line.
- baseline: ``mediapipe.tasks.python.vision.drawing_utils.draw_landmarks`` with the face tesselation and
  the contours and MediaPipe's default face-mesh styles, as in MediaPipe's face landmarker example.
Zone geometry and segment statuses (zones' work) are computed outside the timed region for both.
With ``--layers`` it first prints what each layer costs inside the full overlay: the overlay with and
without that layer, interleaved round by round in the same run (the difference of the medians); what no
single layer owns (each face's no-touch region, shared by zones and strokes) is the rest.
The last line is ``overlay_ms=... baseline_ms=... speedup=...`` (medians).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from dataclasses import replace
from datetime import date
from pathlib import Path

import cv2
import numpy as np
from mediapipe.tasks.python.components.containers.landmark import NormalizedLandmark
from mediapipe.tasks.python.vision import FaceLandmarksConnections, drawing_styles, drawing_utils

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from overlays.compose import FaceZonesAnnotator, OverlayOptions
from overlays.scene import SceneData, StreamMemory
from pipeline import Pipeline, Settings
from vision.landmarker import FaceDetector
from zones.plan import Plan, parse_treatment

FRAME_W, FRAME_H = 1280, 720
SAMPLE = Path(__file__).resolve().parent.parent / "samples" / "grace_hopper.jpg"
MIXED_PLAN = Plan(
    treatments=(
        parse_treatment("nasolabial_left=ha_filler@2026-11-20"),  # no-touch for 12 more days
        parse_treatment("cheek_right=ha_filler@2026-11-15"),  # no-touch
        parse_treatment("forehead=botox@2026-11-21"),  # no-touch (botox, hands: 24 h)
        parse_treatment("lips=ha_filler@2026-11-07"),  # caution (wait over, caution tail)
    ),
    method="hands",
    today=date(2026, 11, 22),
)


def letterboxed_frame(path: Path) -> np.ndarray:
    """The sample scaled to the frame's height and centred on a grey 1280x720 canvas."""
    image = cv2.imread(str(path))
    if image is None:
        raise SystemExit(f"cannot read {path}")
    scale = FRAME_H / image.shape[0]
    resized = cv2.resize(image, (round(image.shape[1] * scale), FRAME_H), interpolation=cv2.INTER_AREA)
    frame = np.full((FRAME_H, FRAME_W, 3), 96, np.uint8)
    x = (FRAME_W - resized.shape[1]) // 2
    frame[:, x : x + resized.shape[1]] = resized
    return frame


def baseline_draw(image: np.ndarray, landmarks: list[NormalizedLandmark]) -> None:
    """MediaPipe's own drawing of the face mesh: tesselation, then contours, default styles."""
    drawing_utils.draw_landmarks(
        image,
        landmarks,
        FaceLandmarksConnections.FACE_LANDMARKS_TESSELATION,
        landmark_drawing_spec=None,
        connection_drawing_spec=drawing_styles.get_default_face_mesh_tesselation_style(),
    )
    drawing_utils.draw_landmarks(
        image,
        landmarks,
        FaceLandmarksConnections.FACE_LANDMARKS_CONTOURS,
        landmark_drawing_spec=None,
        connection_drawing_spec=drawing_styles.get_default_face_mesh_contours_style(),
    )


LAYERS = ("zones", "strokes", "labels", "legend")


def layer_costs(frame: np.ndarray, scenes: list[SceneData], rounds: int) -> tuple[float, dict[str, float]]:
    """Median ms of the full overlay and what each layer adds to it (full minus the overlay without it)."""
    options = {"full": OverlayOptions(guide=False, hud=False)}
    options |= {layer: OverlayOptions(guide=False, hud=False, **{layer: False}) for layer in LAYERS}
    variants = {name: FaceZonesAnnotator(option) for name, option in options.items()}
    memories = {name: StreamMemory() for name in variants}  # each variant is a stream of its own
    times: dict[str, list[float]] = {name: [] for name in variants}
    canvas = frame.copy()
    for round_ in range(rounds + 10):
        source = scenes[round_ % len(scenes)]
        for name, annotator in variants.items():
            scene = replace(source, timestamp_s=round_ / 30.0, memory=memories[name])
            np.copyto(canvas, frame)
            start = time.perf_counter()
            annotator.annotate(canvas, scene)
            if round_ >= 10:
                times[name].append(time.perf_counter() - start)
    medians = {name: statistics.median(t) * 1000 for name, t in times.items()}
    return medians["full"], {layer: medians["full"] - medians[layer] for layer in LAYERS}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=300)
    parser.add_argument("--save", type=Path, help="write the annotated frame here (PNG)")
    parser.add_argument("--layers", action="store_true", help="first print what each layer costs")
    args = parser.parse_args(argv)

    frame = letterboxed_frame(SAMPLE)
    with FaceDetector() as detector:
        faces = detector.detect(frame, color="bgr").select([0])
    if len(faces) == 0:
        raise SystemExit("no face found in the benchmark frame")
    pipeline = Pipeline(Settings(plan=MIXED_PLAN))
    normalised = faces.landmarks[0] / np.array([FRAME_W, FRAME_H, FRAME_W], np.float32)
    mp_landmarks = [NormalizedLandmark(x=float(x), y=float(y), z=float(z)) for x, y, z in normalised]
    annotator = FaceZonesAnnotator(OverlayOptions(guide=False, hud=False))
    live = FaceZonesAnnotator()

    # Scenes for a face moving by a few pixels, built outside the timed region (zones' own work).
    shifts = [np.array([dx, dy, 0], np.float32) for dx, dy in ((0, 0), (2, 1), (4, -1), (1, 3), (-2, 2))]
    moved = [
        replace(faces, landmarks=faces.landmarks + s, boxes=faces.boxes + np.r_[s[:2], s[:2]]) for s in shifts
    ]
    scenes = [pipeline.analyse(f, fps=30.0) for f in moved]
    if args.layers:
        full_ms, costs = layer_costs(frame, scenes, args.rounds)
        for layer, cost in costs.items():
            print(f"layer {layer}: {cost:.3f} ms ({cost / full_ms:.0%})")
        rest = full_ms - sum(costs.values())
        print(f"rest (no-touch regions, set-up): {rest:.3f} ms ({rest / full_ms:.0%}) of {full_ms:.3f} ms")

    overlay_s, baseline_s, live_s = [], [], []
    overlay_memory, live_memory = StreamMemory(), StreamMemory()  # two streams, one per annotator
    canvas = frame.copy()
    for round_ in range(args.rounds + 10):
        source = scenes[round_ % len(scenes)]
        # A new SceneData: fresh per-frame caches.
        scene = replace(source, timestamp_s=round_ / 30.0, memory=overlay_memory)
        np.copyto(canvas, frame)
        start = time.perf_counter()
        annotator.annotate(canvas, scene)
        elapsed = time.perf_counter() - start
        np.copyto(canvas, frame)
        start = time.perf_counter()
        baseline_draw(canvas, mp_landmarks)
        base = time.perf_counter() - start
        scene = replace(source, timestamp_s=round_ / 30.0, memory=live_memory)
        np.copyto(canvas, frame)
        start = time.perf_counter()
        live.annotate(canvas, scene)
        with_guide = time.perf_counter() - start
        if round_ >= 10:  # warm-up: sprite and plan caches fill on the first frames
            overlay_s.append(elapsed)
            baseline_s.append(base)
            live_s.append(with_guide)

    if args.save:
        np.copyto(canvas, frame)
        live.annotate(canvas, replace(scenes[0], timestamp_s=2.0))
        cv2.imwrite(str(args.save), canvas)
    overlay_ms = statistics.median(overlay_s) * 1000
    baseline_ms = statistics.median(baseline_s) * 1000
    print(
        f"frame {FRAME_W}x{FRAME_H}, face box {np.round(faces.boxes[0]).astype(int).tolist()}, "
        f"{args.rounds} rounds; overlay p90 {np.percentile(overlay_s, 90) * 1000:.3f} ms; "
        f"with guide and HUD median {statistics.median(live_s) * 1000:.3f} ms"
    )
    print(f"overlay_ms={overlay_ms:.3f} baseline_ms={baseline_ms:.3f} speedup={baseline_ms / overlay_ms:.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
