"""cli.py fails safe (issue 12): strict --plan, --screen withholds guidance, --margin/--caution-band,
--injector-wait, per-zone sources, several photos with one bad file, and every output against the schema."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest

import cli
from zones.report import SCHEMA_PATH

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "samples"
ASTRONAUT = str(SAMPLES / "astronaut.png")
TODAY = ["--today", "2026-11-22", "--no-hands"]
VALIDATOR = jsonschema.Draft202012Validator(json.loads(SCHEMA_PATH.read_text()))


def valid(document: dict) -> dict:
    VALIDATOR.validate(document)
    return document


def annotate(tmp_path: Path, *extra: str, image: str = ASTRONAUT) -> tuple[int, dict]:
    out = tmp_path / "out.json"
    out.unlink(missing_ok=True)
    code = cli.main(["annotate", image, "--json", str(out), *TODAY, *extra])
    return code, valid(json.loads(out.read_text())) if out.exists() else {}


def segments(document: dict) -> list[str]:
    return [s for face in document["faces"] for stroke in face["strokes"] for s in stroke["segment_status"]]


def run_cli(*argv: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(ROOT / "cli.py"), *argv], cwd=cwd, capture_output=True,
                          text=True, timeout=180, check=False)  # fmt: skip


def error_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("error: ")]


def test_screen_heart_yes_withholds_guidance_and_no_segment_is_safe(tmp_path: Path) -> None:
    code, given = annotate(tmp_path, "--treat", "lips=ha_filler@2026-11-20", "--screen", "heart=no")
    assert code == 0 and given["guidance"] == "given" and "safe" in segments(given)
    code, withheld = annotate(tmp_path, "--treat", "lips=ha_filler@2026-11-20", "--screen", "heart=yes")
    assert code == 0 and withheld["guidance"] == "withheld"
    assert segments(withheld) and "safe" not in segments(withheld)
    assert "heart" in withheld["guidance_reasons"][0] and withheld["guidance_actions"]
    assert withheld["screening"] == {"answered_yes": ["heart"], "unanswered": ["vessels", "lymph", "skin"]}
    assert withheld["plan"]["screening"] == {"heart": "yes"}
    zones = {z["id"]: z for z in withheld["faces"][0]["zones"]}
    assert zones["lips"]["status"] == "no_touch", "treated areas still show"


@pytest.mark.parametrize("bad", ["heart=maybe", "hart=no"])
def test_a_bad_screening_answer_is_refused(tmp_path: Path, bad: str) -> None:
    assert annotate(tmp_path, "--screen", bad) == (cli.EXIT_BAD_INPUT, {})


def test_a_misspelt_plan_key_exits_2_naming_file_and_field(tmp_path: Path) -> None:
    plan = tmp_path / "plan.json"
    plan.write_text(json.dumps({"version": 2, "method": "hands", "treatment": [
        {"areas": ["lips"], "product": "ha_filler", "date": "2026-11-20"}]}))  # fmt: skip
    done = run_cli("annotate", ASTRONAUT, "--json", str(tmp_path / "x.json"), "--plan", str(plan), *TODAY)
    assert done.returncode == cli.EXIT_BAD_INPUT
    [line] = error_lines(done.stderr)
    assert str(plan) in line and "treatment: unknown field; did you mean 'treatments'?" in line
    assert not (tmp_path / "x.json").exists()


def test_the_clis_own_json_as_plan_exits_2(tmp_path: Path) -> None:
    code, own = annotate(tmp_path, "--treat", "lips=ha_filler@2026-11-20")
    assert code == 0
    analysis = tmp_path / "analysis.json"
    analysis.write_text(json.dumps(own))
    done = run_cli("annotate", ASTRONAUT, "--json", str(tmp_path / "x.json"), "--plan", str(analysis), *TODAY)
    assert done.returncode == cli.EXIT_BAD_INPUT
    [line] = error_lines(done.stderr)
    assert str(analysis) in line and "analysis output" in line and "'plan' field" in line
    plan_only = tmp_path / "plan.json"
    plan_only.write_text(json.dumps(own["plan"]))
    code, again = annotate(tmp_path, "--plan", str(plan_only))
    assert code == 0 and again["plan"]["treatments"] == own["plan"]["treatments"], "its plan field is a plan"


def test_margin_and_caution_band_are_independent_flags(tmp_path: Path) -> None:
    treat = ("--treat", "nasolabial_left=ha_filler@2026-11-20")
    _, wide = annotate(tmp_path, *treat, "--margin", "25")
    assert wide["plan"]["margin_mm"] == 25 and segments(wide).count("caution") > 0, "the band survives"
    _, no_band = annotate(tmp_path, *treat, "--margin", "25", "--caution-band", "0")
    assert segments(no_band).count("caution") == 0
    assert segments(no_band).count("no_touch") == segments(wide).count("no_touch")
    _, broad = annotate(tmp_path, *treat, "--margin", "25", "--caution-band", "30")
    assert segments(broad).count("caution") > segments(wide).count("caution")
    assert broad["plan"]["caution_band_mm"] == 30 and broad["plan"]["caution_mm"] == 55


def test_botox_forehead_three_days_ago_has_no_safe_forehead_segment(tmp_path: Path) -> None:
    _, document = annotate(tmp_path, "--treat", "forehead=botox@2026-11-19", "--method", "hands")
    strokes = {s["id"]: s for s in document["faces"][0]["strokes"]}
    for line in ("forehead_left", "forehead_right"):
        assert "safe" not in strokes[line]["segment_status"]


def test_every_zone_verdict_a_rule_decides_lists_an_addressed_graded_source(tmp_path: Path) -> None:
    _, document = annotate(tmp_path, "--treat", "lips,nasolabial_left,forehead=ha_filler@2026-11-20",
                           "--treat", "glabella=botox@2026-11-21")  # fmt: skip
    decided = [z for z in document["faces"][0]["zones"] if z["verdict"]["rule"]]
    assert {z["id"] for z in decided} == {"lips", "nasolabial_left", "forehead", "glabella"}
    for zone in decided:
        assert any(s["address"] and s["grade"] for s in zone["verdict"]["sources"]), zone["id"]
        assert zone["verdict"]["range"] and zone["verdict"]["decided_by"] == "catalogue"


def test_the_injectors_wait_wins_and_says_so(tmp_path: Path) -> None:
    treat = ("--treat", "lips,chin=ha_filler@2026-11-19")
    _, catalogue = annotate(tmp_path, *treat)
    _, injector = annotate(tmp_path, *treat, "--injector-wait", "lips=2d")
    before = {z["id"]: z for z in catalogue["faces"][0]["zones"]}
    after = {z["id"]: z for z in injector["faces"][0]["zones"]}
    assert before["lips"]["status"] == "no_touch" and after["lips"]["status"] == "safe"
    assert after["lips"]["verdict"]["decided_by"] == "injector"
    assert (
        "injector" in after["lips"]["reason"]
        and "injector's instruction" in after["lips"]["verdict"]["explanation"]
    )
    assert after["chin"]["status"] == "no_touch" and after["chin"]["verdict"]["decided_by"] == "catalogue"
    assert injector["plan"]["treatments"][0]["injector_waits"] == {"lips": "2d"}
    assert annotate(tmp_path, *treat, "--injector-wait", "nose=2d") == (cli.EXIT_BAD_INPUT, {})


def test_a_folder_with_one_corrupt_file_writes_the_others_and_exits_2(tmp_path: Path) -> None:
    photos = tmp_path / "photos"
    photos.mkdir()
    shutil.copy(SAMPLES / "astronaut.png", photos / "a.png")
    shutil.copy(SAMPLES / "grace_hopper.jpg", photos / "b.jpg")
    (photos / "broken.jpg").write_bytes(b"\xff\xd8 not really a jpeg")
    (photos / "notes.txt").write_text("not a photo: skipped by suffix")
    out = tmp_path / "json"
    done = run_cli("annotate", str(photos), "--json", str(out), "--out", str(tmp_path / "png"), *TODAY,
                   "--treat", "lips=ha_filler@2026-11-20")  # fmt: skip
    assert done.returncode == cli.EXIT_BAD_INPUT, done.stderr
    [line] = error_lines(done.stderr)
    assert "broken.jpg" in line
    assert sorted(p.name for p in out.iterdir()) == ["a.json", "b.json"]
    assert sorted(p.name for p in (tmp_path / "png").iterdir()) == ["a.png", "b.png"]
    for path in out.iterdir():
        document = valid(json.loads(path.read_text()))
        assert Path(document["input"]).name in {"a.png", "b.jpg"} and len(document["faces"]) == 1


def test_globs_and_json_lines(tmp_path: Path) -> None:
    done = run_cli("annotate", "samples/*.png", "samples/grace_hopper.jpg", "missing/*.jpg", "--jsonl", "-",
                   *TODAY, "--screen", "skin=yes")  # fmt: skip
    assert done.returncode == cli.EXIT_BAD_INPUT, "a glob matching nothing is refused"
    assert [line for line in error_lines(done.stderr)] == ["error: missing/*.jpg: no file matches"]
    documents = [valid(json.loads(line)) for line in done.stdout.splitlines()]
    inputs = [d["input"] for d in documents]
    assert "samples/astronaut.png" in inputs and inputs[-1] == "samples/grace_hopper.jpg"
    assert len(inputs) == len(set(inputs)) >= 2
    assert all(d["guidance"] == "withheld" and "safe" not in segments(d) for d in documents)
    ok = run_cli("annotate", "samples/astronaut.png", "samples/grace_hopper.jpg", "--jsonl",
                 str(tmp_path / "all.jsonl"), *TODAY)  # fmt: skip
    assert ok.returncode == 0 and not error_lines(ok.stderr)
    assert len((tmp_path / "all.jsonl").read_text().splitlines()) == 2


def test_several_photos_need_a_folder_not_a_file(tmp_path: Path) -> None:
    done = run_cli("annotate", "samples", "--json", str(tmp_path / "one.json"), *TODAY)
    assert done.returncode == cli.EXIT_BAD_INPUT
    [line] = error_lines(done.stderr)
    assert "name a folder" in line and "--jsonl" in line


def test_an_existing_json_field_keeps_its_name_and_meaning(tmp_path: Path) -> None:
    _, document = annotate(tmp_path, "--treat", "nasolabial_left=ha_filler@2026-11-20")
    assert {"image", "plan", "faces", "touches"} <= set(document)
    face = document["faces"][0]
    assert {"landmarks", "box", "pose", "quality", "zones", "strokes"} <= set(face)
    zone = next(z for z in face["zones"] if z["id"] == "nasolabial_left")
    assert {"id", "label", "kind", "side", "status", "safe_from", "reason", "polygon"} <= set(zone)
    assert (zone["status"], zone["safe_from"]) == ("no_touch", "2026-12-04")
    assert {"margin_mm", "caution_mm", "method", "treatments", "version", "today"} <= set(document["plan"])
