"""Overlay building blocks and outputs: label layout, sprites, the canonical face, the chart, the video, the
benchmark harness (issue 4)."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from datetime import date
from pathlib import Path

import av
import cv2
import numpy as np
import pytest
from PIL import Image

from overlays.chart import save_chart
from overlays.layout import UNPLACED, place_labels
from overlays.sprites import paste, text_sprite
from overlays.style import NO_TOUCH_RED, SAFE_GREEN
from overlays.template import (
    MESH_VERTICES,
    TemplateError,
    canonical_mesh,
    parse_canonical_mesh,
    template_faces,
)
from pipeline import Pipeline, Settings
from vision.assets import FACE_LANDMARKER, SAMPLE_CLIP, ensure
from vision.video import VideoError, annotate_video, terminal_progress
from zones.plan import Plan, parse_treatment

ROOT = Path(__file__).resolve().parent.parent
PLAN = Plan(
    (
        parse_treatment("nasolabial_left,lips=ha_filler@2026-11-20"),
        parse_treatment("forehead=botox@2026-11-21"),
    ),
    "hands",
    date(2026, 11, 22),
)


def test_labels_at_one_spot_spread_out_without_overlap() -> None:
    anchors = np.full((5, 2), 100.0)
    sizes = np.array([[60, 20]] * 5, np.float32)
    corners, choices = place_labels(anchors, sizes, (400, 300))
    assert (choices != UNPLACED).all()
    boxes = np.c_[corners, corners + sizes]
    a, b = boxes[:, None], boxes[None]
    overlap = (
        (a[..., 0] < b[..., 2]) & (b[..., 0] < a[..., 2]) & (a[..., 1] < b[..., 3]) & (b[..., 1] < a[..., 3])
    )
    np.fill_diagonal(overlap, False)
    assert not overlap.any()
    # Last frame's choices are kept while they still fit, so labels do not jump as the face moves.
    moved, kept = place_labels(anchors + 3, sizes, (400, 300), previous=choices)
    assert np.array_equal(kept, choices) and np.array_equal(moved, corners + 3)
    # A kept spot that would now stick out of the frame is given up: the label moves to a spot inside it.
    corner, choice = place_labels([[385, 100]], [[60, 20]], (400, 300), previous=np.array([0]))
    assert choice[0] not in (0, UNPLACED) and corner[0, 0] >= 0 and corner[0, 0] + 60 <= 400
    # No room: the label is left out rather than drawn over the obstacle or off the frame.
    corners, choices = place_labels([[10, 10]], [[60, 20]], (70, 30), obstacles=[[0, 0, 70, 30]])
    assert choices[0] == UNPLACED and (corners[0] == -1).all()
    with pytest.raises(ValueError, match="anchors"):
        place_labels(np.zeros((2, 2)), np.zeros((3, 2)), (10, 10))


def test_sprites_are_cached_and_clipped_at_the_frame_edge() -> None:
    sprite = text_sprite("Cheek (L)", 18)
    assert text_sprite("Cheek (L)", 18) is sprite
    assert sprite.mask.any() and sprite.pixels.shape[:2] == sprite.mask.shape
    frame = np.zeros((40, 60, 3), np.uint8)
    paste(frame, sprite, -10, 30)  # mostly outside: only the visible part is drawn, no error
    assert frame[30:].any() and not frame[:30].any()


def test_canonical_face_comes_from_the_model_bundle() -> None:
    mesh = canonical_mesh()
    assert mesh.shape == (MESH_VERTICES, 3)
    assert mesh[33, 0] == pytest.approx(-mesh[263, 0], abs=1e-3)  # symmetric eye corners
    assert mesh[10, 1] > mesh[1, 1] > mesh[152, 1]  # forehead above nose tip above chin (y up)
    faces = template_faces(600, 800)
    landmarks = faces.landmarks[0]
    assert landmarks[263, 0] > 300 > landmarks[33, 0]  # subject's left on the image's right
    assert landmarks[10, 1] < landmarks[152, 1]
    with zipfile.ZipFile(ensure(FACE_LANDMARKER)) as bundle:
        blob = bundle.read("geometry_pipeline_metadata_landmarks.binarypb")
    with pytest.raises(TemplateError):
        parse_canonical_mesh(blob[:100])
    with pytest.raises(TemplateError):
        parse_canonical_mesh(b"\x0f\xff")


def test_face_chart_png_and_pdf(tmp_path: Path) -> None:
    chart = Pipeline(Settings(plan=PLAN)).chart()
    assert chart.shape == (1754, 1240, 3)
    red = np.all(np.abs(chart.astype(int) - NO_TOUCH_RED) < 40, axis=-1)
    green = np.all(np.abs(chart.astype(int) - SAFE_GREEN) < 40, axis=-1)
    assert red.sum() > 2000 and green.sum() > 2000  # no-touch areas and stroke arrows are on it
    png = save_chart(chart, tmp_path / "chart.png")
    assert np.array_equal(cv2.imread(str(png)), chart)
    assert not Image.open(png).info.get("exif")
    pdf = save_chart(chart, tmp_path / "chart.pdf")
    assert pdf.read_bytes().startswith(b"%PDF")
    with pytest.raises(ValueError, match=r"png or \.pdf"):
        save_chart(chart, tmp_path / "chart.gif")


def test_video_is_annotated_frame_by_frame_into_h264(tmp_path: Path) -> None:
    stamps, reports = [], []

    def render(frame: np.ndarray, stamp_ms: int) -> np.ndarray:
        stamps.append(stamp_ms)
        frame = frame.copy()
        frame[:20, :20] = (0, 0, 255)
        return frame

    clip = ensure(SAMPLE_CLIP)
    short = tmp_path / "short.mp4"
    with av.open(str(clip)) as source, av.open(str(short), "w") as out:  # the first 12 frames, re-encoded
        stream = out.add_stream("libx264", rate=24)
        stream.width, stream.height, stream.pix_fmt = 640, 360, "yuv420p"
        for i, frame in enumerate(source.decode(video=0)):
            if i == 12:
                break
            out.mux(
                stream.encode(av.VideoFrame.from_ndarray(frame.to_ndarray(format="bgr24"), format="bgr24"))
            )
        out.mux(stream.encode(None))
    summary = annotate_video(short, tmp_path / "out.mp4", render, lambda done, total: reports.append(done))
    assert summary.frames == 12 and summary.size == (640, 360)
    assert stamps == sorted(set(stamps)) and reports[-1] == 12
    with av.open(str(summary.path)) as result:
        stream = result.streams.video[0]
        assert stream.codec_context.name == "h264" and stream.codec_context.pix_fmt == "yuv420p"
        first = next(result.decode(stream)).to_ndarray(format="bgr24")
    assert first[5:15, 5:15, 2].mean() > 200 and first[5:15, 5:15, :2].mean() < 60
    head = summary.path.read_bytes()[:4096]
    assert head.find(b"moov") != -1  # index up front (faststart): plays while downloading


def test_bad_video_input_gives_a_clear_error(tmp_path: Path) -> None:
    junk = tmp_path / "junk.mp4"
    junk.write_bytes(b"not a video at all" * 100)
    with pytest.raises(VideoError, match=r"junk\.mp4"):
        annotate_video(junk, tmp_path / "out.mp4", lambda frame, ms: frame)
    assert not (tmp_path / "out.mp4").exists() and not (tmp_path / "out.mp4.part").exists()
    with pytest.raises(VideoError, match=r"\.mp4"):
        annotate_video(junk, tmp_path / "out.avi", lambda frame, ms: frame)


def test_benchmark_prints_its_result_line() -> None:
    done = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "overlay.py"), "--rounds", "3"],
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    last = done.stdout.strip().splitlines()[-1]
    fields = dict(part.split("=") for part in last.split())
    assert set(fields) == {"overlay_ms", "baseline_ms", "speedup"}
    assert all(float(value) > 0 for value in fields.values())


def test_terminal_progress_draws_one_line_that_ends_at_the_total() -> None:
    import io

    out = io.StringIO()
    report = terminal_progress(out, width=10)
    for done in range(1, 101):
        report(done, 100)
    text = out.getvalue()
    assert text.count("\r") == 11  # the empty bar, then only when it moves: not on every frame
    assert text.endswith("[##########] 100/100 frames\n")
