"""cli.py on real samples: the JSON a person gets, the picture, and one-line refusals of bad input."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import cv2
import jsonschema
import numpy as np
import pytest
from PIL import Image

import cli
from zones.report import SCHEMA_PATH

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "samples"
ASTRONAUT_JSON = ["annotate", "samples/astronaut.png", "--json", "{tmp}/x.json"]
NASOLABIAL_FILLER = ["--treat", "nasolabial_left=ha_filler@2026-11-20", "--today", "2026-11-22"]
SCHEMA = jsonschema.Draft202012Validator(json.loads(SCHEMA_PATH.read_text()))


def run(tmp_path: Path, image: Path, *extra: str) -> tuple[int, dict]:
    """Annotate one photo; the JSON written is checked against schemas/analysis.schema.json."""
    out = tmp_path / "out.json"
    code = cli.main(["annotate", str(image), "--json", str(out), *extra])
    document = json.loads(out.read_text()) if out.exists() else {}
    if document:
        SCHEMA.validate(document)
    return code, document


@pytest.mark.parametrize("name", ["astronaut.png", "grace_hopper.jpg"])
def test_annotate_writes_landmarks_zones_and_strokes(tmp_path: Path, name: str) -> None:
    code, document = run(tmp_path, SAMPLES / name, *NASOLABIAL_FILLER)
    assert code == 0
    width, height = Image.open(SAMPLES / name).size
    assert document["image"] == {"width": width, "height": height, "mirrored": False}
    [face] = document["faces"]
    landmarks = np.array(face["landmarks"])
    assert landmarks.shape == (478, 3)
    x0, y0, x1, y1 = face["box"]
    assert 0 <= x0 < x1 <= width and 0 <= y0 < y1 <= height
    assert set(face["pose"]) == {"yaw", "pitch", "roll"}
    zones = {zone["id"]: zone for zone in face["zones"]}
    assert zones["nasolabial_left"]["status"] == "no_touch"
    assert zones["nasolabial_left"]["safe_from"].startswith("2026-12-04")
    assert zones["nasolabial_right"]["status"] == "safe"
    for stroke in face["strokes"]:
        assert len(stroke["segment_status"]) == len(stroke["points"]) - 1
    # The subject's left side is on the image's right in an unmirrored photo.
    nasolabial_x = np.array(zones["nasolabial_left"]["polygon"])[:, 0].mean()
    assert nasolabial_x > landmarks[1, 0]


def test_mirror_flips_coordinates_but_keeps_true_sides(tmp_path: Path) -> None:
    image = SAMPLES / "astronaut.png"
    _, plain = run(tmp_path, image, *NASOLABIAL_FILLER)
    _, mirrored = run(tmp_path, image, "--mirror", *NASOLABIAL_FILLER)
    width = plain["image"]["width"]
    plain_face, mirrored_face = plain["faces"][0], mirrored["faces"][0]
    np.testing.assert_allclose(
        np.array(mirrored_face["landmarks"])[:, 0], width - np.array(plain_face["landmarks"])[:, 0], atol=0.05
    )
    zones = {zone["id"]: zone for zone in mirrored_face["zones"]}
    nose_x = np.array(mirrored_face["landmarks"])[1, 0]
    assert zones["nasolabial_left"]["status"] == "no_touch"
    # The subject's left is now on the screen's left.
    assert np.array(zones["nasolabial_left"]["polygon"])[:, 0].mean() < nose_x


def test_annotated_picture_has_no_metadata_and_shows_the_overlay(tmp_path: Path) -> None:
    source = tmp_path / "with_exif.jpg"
    exif = Image.Exif()
    exif[0x010F] = "SecretCameraMaker"
    Image.open(SAMPLES / "grace_hopper.jpg").save(source, exif=exif)
    picture = tmp_path / "annotated.png"
    assert cli.main(["annotate", str(source), "--out", str(picture), *NASOLABIAL_FILLER]) == 0
    assert b"SecretCameraMaker" not in picture.read_bytes()
    annotated, original = cv2.imread(str(picture)), cv2.imread(str(source))
    assert annotated.shape == original.shape
    assert np.mean(np.any(annotated != original, axis=2)) > 0.02  # an overlay was drawn


def test_no_face_is_not_an_error(tmp_path: Path) -> None:
    blank = tmp_path / "wall.png"
    cv2.imwrite(str(blank), np.full((240, 320, 3), 200, np.uint8))
    code, document = run(tmp_path, blank)
    assert code == 0
    assert document["faces"] == [] and document["touches"] == []


def test_touches_fire_on_the_hand_image_only_when_the_forehead_is_treated(
    tmp_path: Path, sample_paths: dict[str, Path]
) -> None:
    image = sample_paths["Image_with_alpha.png"]
    _, treated = run(tmp_path, image, "--treat", "forehead=botox@2026-11-21", "--today", "2026-11-22")
    _, untreated = run(tmp_path, image, "--today", "2026-11-22")
    assert [touch["area"] for touch in treated["touches"] if touch["active"]] == ["forehead"]
    assert not any(touch["active"] for touch in untreated["touches"])


def test_margin_applies_to_a_plan_file_too(tmp_path: Path) -> None:
    """--margin widens the no-touch band whether the treatments come from --treat or from --plan."""
    plan = tmp_path / "plan.json"
    plan.write_text(
        json.dumps(
            {
                "version": 1,
                "method": "hands",
                "margin_mm": None,
                "caution_mm": None,
                "treatments": [{"areas": ["nasolabial_left"], "product": "ha_filler", "date": "2026-11-20"}],
            }
        )
    )

    def blocked_segments(*extra: str) -> tuple[float | None, int]:
        _, document = run(tmp_path, SAMPLES / "astronaut.png", "--no-hands", "--today", "2026-11-22", *extra)
        statuses = [s for stroke in document["faces"][0]["strokes"] for s in stroke["segment_status"]]
        return document["plan"]["margin_mm"], statuses.count("no_touch")

    narrow, wide = (
        blocked_segments("--plan", str(plan), "--margin", "0"),
        blocked_segments("--plan", str(plan), "--margin", "30"),
    )
    assert narrow[0] == 0 and wide[0] == 30
    assert wide[1] > narrow[1]
    assert blocked_segments(*NASOLABIAL_FILLER[:2], "--margin", "30")[1] == wide[1]


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["annotate", "README.md", "--json", "{tmp}/x.json"], "is not an image"),
        (["annotate", "missing.png", "--json", "{tmp}/x.json"], "missing.png"),
        ([*ASTRONAUT_JSON, "--treat", "lips=ha_filler@2099-01-01"], "after today"),
        ([*ASTRONAUT_JSON, "--treat", "ear=ha_filler@2026-01-01"], "unknown area"),
        ([*ASTRONAUT_JSON, "--treat", "lips"], "expected"),
        ([*ASTRONAUT_JSON, "--catalogue", "{tmp}/bad.yaml"], "bad.yaml"),
        (["annotate", "samples/astronaut.png"], "--json"),
    ],
)
def test_bad_input_exits_non_zero_with_one_line(tmp_path: Path, args: list[str], expected: str) -> None:
    (tmp_path / "bad.yaml").write_text("areas: [{id: forehead, outline: [1, 2, 999]}]\n")
    argv = [arg.replace("{tmp}", str(tmp_path)) for arg in args]
    done = subprocess.run(
        [sys.executable, "cli.py", *argv], cwd=ROOT, capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == cli.EXIT_BAD_INPUT
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and expected in lines[0], done.stderr
    assert not (tmp_path / "x.json").exists()


def test_annotate_video_writes_a_browser_playable_clip_with_the_overlay(
    tmp_path: Path, clip_frames: tuple[tuple[np.ndarray, ...], tuple[int, ...]]
) -> None:
    frames, _ = clip_frames
    short = tmp_path / "short.mp4"
    writer = cv2.VideoWriter(str(short), cv2.VideoWriter_fourcc(*"mp4v"), 25.0, frames[0].shape[1::-1])
    for frame in frames[:30]:
        writer.write(frame)
    writer.release()
    out = tmp_path / "annotated.mp4"
    code = cli.main(
        [
            "annotate-video",
            str(short),
            "--out",
            str(out),
            "--treat",
            "lips=ha_filler@2026-11-20",
            "--today",
            "2026-11-22",
            "--mirror",
        ]
    )
    assert code == 0
    import av

    with av.open(str(out)) as container:
        stream = container.streams.video[0]
        assert stream.codec_context.name == "h264" and stream.codec_context.pix_fmt == "yuv420p"
        decoded = [frame.to_ndarray(format="bgr24") for frame in container.decode(stream)]
    assert len(decoded) == 30
    mirrored_source = frames[15][:, ::-1].astype(np.int16)
    changed = np.any(np.abs(decoded[15].astype(np.int16) - mirrored_source) > 40, axis=2)
    assert changed.mean() > 0.01  # the overlay is drawn on the (mirrored) frame


def test_annotate_video_refuses_a_still_image(tmp_path: Path) -> None:
    assert cli.main(["annotate-video", str(SAMPLES / "astronaut.png"), "--out", str(tmp_path / "x.mp4")]) == 2
    assert not (tmp_path / "x.mp4").exists()


@pytest.mark.parametrize("suffix", [".png", ".pdf"])
def test_chart_exports_the_plan(tmp_path: Path, suffix: str) -> None:
    out = tmp_path / f"chart{suffix}"
    code = cli.main(
        [
            "chart",
            "--treat",
            "nasolabial_left=ha_filler@2026-11-20",
            "--today",
            "2026-11-22",
            "--out",
            str(out),
        ]
    )
    assert code == 0
    if suffix == ".pdf":
        assert out.read_bytes().startswith(b"%PDF")
        return
    chart = cv2.imread(str(out))
    red = (chart[:, :, 2] > 180) & (chart[:, :, 1] < 90) & (chart[:, :, 0] < 90)
    green = (chart[:, :, 1] > 150) & (chart[:, :, 2] < 120) & (chart[:, :, 0] < 120)
    assert red.sum() > 500 and green.sum() > 500  # a no-touch area and safe strokes are on the chart
    # The subject's left nasolabial fold is drawn on the chart's right half (a frontal view of the subject).
    assert np.flatnonzero(red.any(axis=0)).mean() > chart.shape[1] / 2
