"""Through the whole chain on real photos: a mesh that does not fit draws no stroke, what the camera cannot
see is not drawn, the plan goes on one face, and the CLI's JSON says all of it (issue 11's contract)."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import datetime
from pathlib import Path

import numpy as np
import pytest

import cli
from pipeline import Settings, pipeline_for
from vision.assets import GROUP_PHOTO, TURNED_FACE, ensure
from vision.faces import FIT_UNCERTAIN
from vision.finder import FaceFinder
from vision.io import read_image
from zones.plan import Plan, Treatment

TODAY = datetime(2026, 12, 2, 10, 0)
LIPS_FILLER = Plan((Treatment(("lips",), "ha_filler", datetime(2026, 11, 25, 10, 0)),), "hands", TODAY)
FAR_SIDE_FILLER = Plan(
    (Treatment(("tear_trough_right", "cheek_right"), "ha_filler", datetime(2026, 11, 25, 10, 0)),),
    "hands",
    TODAY,
)


def green(image: np.ndarray) -> np.ndarray:
    """``(H, W) bool``: the safe-stroke green (and nothing of skin, hair or the red and amber tints)."""
    pixels = image.astype(np.int16)
    return (
        (pixels[..., 1] > 150)
        & (pixels[..., 1] - pixels[..., 2] > 80)
        & (pixels[..., 1] - pixels[..., 0] > 60)
    )


def red(image: np.ndarray, raw: np.ndarray) -> int:
    """How many pixels turned redder than they were (the no-touch tint)."""
    now, was = image.astype(np.int16), raw.astype(np.int16)
    return int(((now[..., 2] - was[..., 2] > 25) & (was[..., 1] - now[..., 1] > 10)).sum())


@pytest.fixture(scope="module")
def turned_photo() -> tuple[np.ndarray, object]:
    image = read_image(ensure(TURNED_FACE))
    with FaceFinder() as finder:
        return image, finder.find(image, color="bgr").faces


def test_a_mesh_that_does_not_fit_gets_no_stroke_and_says_so(zone_sample_faces) -> None:
    image, faces = zone_sample_faces["grace_hopper"]
    pipeline = pipeline_for(Settings(plan=LIPS_FILLER))
    fitting = pipeline.analyse(faces)
    drawn = pipeline.render(image, fitting)
    assert green(drawn).sum() > 500, "the fitting face gets its green strokes"
    unsure = pipeline.analyse(replace(faces, fit=(FIT_UNCERTAIN,)))
    drawn = pipeline.render(image, unsure)
    x0, y0, x1, y1 = np.rint(fitting.geometry.boxes[0]).astype(int).tolist()  # face and neck strokes
    around = (slice(max(y0, 0), y1), slice(max(x0, 0), x1))  # (the legend's green key sits in a corner)
    assert green(drawn[around]).sum() == 0, "no stroke on a misfit"
    assert red(drawn[around], image[around]) < 20, "no zone either (a few pixels: its amber outline)"
    assert not unsure.guided.any()
    assert any("does not fit" in note for note in unsure.notes)
    assert pipeline.report(unsure)[0]["fit"] == "uncertain" and pipeline.report(unsure)[0]["plan"] is False


def test_areas_the_camera_cannot_see_are_not_drawn(turned_photo) -> None:
    image, faces = turned_photo
    pipeline = pipeline_for(Settings(plan=FAR_SIDE_FILLER))
    data = pipeline.analyse(faces)
    assert {"Tear trough (right)", "Cheek (right)"} <= set(data.hidden_areas)
    drawn = pipeline.render(image, data)
    x0, y0, x1, y1 = np.rint(data.geometry.boxes[0]).astype(int).tolist()
    face = (slice(max(y0, 0), y1), slice(max(x0, 0), x1))  # (the legend's red key sits in a corner)
    # both treated areas lie on the far side: no red tint on the face (a few edge pixels of amber strokes)
    assert red(drawn[face], image[face]) < 50
    assert any("out of sight: turn your head" in note for note in data.notes)
    near_side = pipeline_for(
        Settings(
            plan=replace(
                FAR_SIDE_FILLER,
                treatments=(Treatment(("cheek_left",), "ha_filler", datetime(2026, 11, 25, 10, 0)),),
            )
        )
    )
    assert red(near_side.render(image, near_side.analyse(faces))[face], image[face]) > 500


def test_cli_json_carries_fit_plan_and_visibility(tmp_path: Path) -> None:
    out = tmp_path / "group.json"
    code = cli.main(
        [
            "annotate",
            str(ensure(GROUP_PHOTO)),
            "--json",
            str(out),
            "--face",
            "2",
            "--no-hands",
            "--treat",
            "lips=ha_filler@2026-11-25",
            "--today",
            "2026-12-02",
        ]
    )
    assert code == 0
    document = json.loads(out.read_text())
    faces = document["faces"]
    assert len(faces) == 5
    assert [face["plan"] for face in faces] == [False, False, True, False, False]
    assert all(face["fit"] == "ok" and 0.5 < face["detector_score"] <= 1.0 for face in faces)
    widths = [face["box"][2] - face["box"][0] for face in faces]
    assert widths == sorted(widths, reverse=True), "largest first: --face counts in this order"
    for zone in faces[2]["zones"]:
        assert 0.0 <= zone["visible_fraction"] <= 1.0 and zone["visible"] is (zone["visible_fraction"] >= 0.5)
    for stroke in faces[2]["strokes"]:
        assert len(stroke["segment_visible"]) == len(stroke["segment_status"])
    assert "4 other faces: no plan" in document["notes"]
    assert document["hidden_areas"] == []


def test_cli_says_when_the_chosen_face_is_not_there(tmp_path: Path) -> None:
    out = tmp_path / "one.json"
    assert (
        cli.main(["annotate", "samples/astronaut.png", "--json", str(out), "--face", "3", "--no-hands"]) == 0
    )
    document = json.loads(out.read_text())
    assert [face["plan"] for face in document["faces"]] == [False]
    assert document["notes"][0].startswith("Face 3 not found")
    assert (
        cli.main(["annotate", "samples/astronaut.png", "--json", str(out), "--face", "-1"])
        == cli.EXIT_BAD_INPUT
    )


def test_a_face_too_small_or_turned_keeps_its_treated_areas_but_gets_no_stroke(zone_sample_faces) -> None:
    """camera.png: the cameraman's face is about 50 px wide and turned about 50 degrees. The tool says it is
    unsure, so it offers no green stroke there; the treated lips still show as no-touch."""
    image = read_image(Path(__file__).resolve().parent.parent / "samples" / "camera.png")
    with FaceFinder() as finder:
        faces = finder.find(image, color="bgr").faces
    assert len(faces) == 1 and not faces.quality[0].ok
    pipeline = pipeline_for(Settings(plan=LIPS_FILLER))
    data = pipeline.analyse(faces)
    assert data.guided[0] and not data.stroked[0]
    drawn = pipeline.render(image, data)
    x0, y0, x1, y1 = np.round(data.geometry.boxes[0]).astype(int).clip(0)  # the face and its neck
    assert green(drawn[y0:y1, x0:x1]).sum() == 0, "no green stroke on a face the tool is unsure of"
    assert green(pipeline.render(image, replace(data, faces=replace(faces, quality=())))).sum() > 100
    assert red(drawn, image) > 20, "the treated lips still show"
    assert any("No strokes shown" in note for note in data.notes)
    _, frontal = zone_sample_faces["grace_hopper"]
    assert pipeline.analyse(frontal).stroked.all(), "a frontal face keeps its strokes"
