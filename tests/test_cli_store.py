"""cli.py on the store: people, treatments, the course, history, export/import, and annotate --person."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

import pytest

import cli
from store import Store

ROOT = Path(__file__).resolve().parent.parent
TODAY = date(2026, 12, 2)
DAY = TODAY + timedelta(days=10)


def run(db: Path, *args: str) -> int:
    return cli.main([*args, "--db", str(db)])


def read(path: Path) -> dict:
    return json.loads(path.read_text())


def test_person_treat_course_done_history(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "fz.db"
    assert run(db, "person", "add", "Ada") == 0
    assert run(db, "person", "list", "--json", str(tmp_path / "people.json")) == 0
    assert [p["name"] for p in read(tmp_path / "people.json")["people"]] == ["Ada"]

    treat = [
        "treat",
        "--person",
        "Ada",
        "--treat",
        f"lips=ha_filler@{DAY}",
        "--planned",
        "--today",
        str(TODAY),
    ]
    assert run(db, *treat, "--json", str(tmp_path / "treat.json")) == 0
    assert "preparatory course" in capsys.readouterr().err
    assert (
        run(db, "course", "--person", "Ada", "--today", str(TODAY), "--json", str(tmp_path / "c.json")) == 0
    )
    (course,) = read(tmp_path / "c.json")["courses"]
    dues = [date.fromisoformat(s["due"]) for s in course["sessions"]]
    assert 5 <= len(dues) <= 7 and all(TODAY <= d < DAY for d in dues)
    assert all("lips" in s["areas"] and not s["done"] for s in course["sessions"])

    first_day = str(dues[0])
    assert run(db, "course", "--person", "Ada", "--tick", "1", "--today", first_day,
               "--json", str(tmp_path / "c1.json")) == 0  # fmt: skip
    assert [s["done"] for s in read(tmp_path / "c1.json")["courses"][0]["sessions"]][:2] == [True, False]

    (treatment_id,) = read(tmp_path / "treat.json")["added"]
    assert run(db, "done", str(treatment_id), "--person", "Ada", "--today", f"{DAY}T18:00") == 0
    after = tmp_path / "h.json"
    assert (
        run(db, "history", "--person", "Ada", "--today", str(DAY + timedelta(days=1)), "--json", str(after))
        == 0
    )
    history = read(after)
    assert [a["area"] for a in history["today_summary"]["no_touch"]] == ["lips"]
    assert not history["courses"][0]["open"] and history["courses"][0]["done"] == 1
    safe = {e["method"]: e["safe_from"] for e in history["safe_again"] if e["area"] == "lips"}
    assert safe["hands"] == str(DAY + timedelta(days=14))
    assert history["treatments"][0]["planned"] is False and history["treatments"][0]["planned_for"] == str(
        DAY
    )


@pytest.mark.parametrize("suffix", [".json", ".csv"])
def test_export_delete_import(tmp_path: Path, suffix: str) -> None:
    db = tmp_path / "fz.db"
    assert run(db, "treat", "--treat", "forehead=botox@2026-11-30", "--injector-wait", "forehead=3d",
               "--today", str(TODAY)) == 0  # fmt: skip
    before, again = tmp_path / "before.json", tmp_path / "again.json"
    assert run(db, "history", "--today", str(TODAY), "--json", str(before)) == 0
    out = tmp_path / f"me{suffix}"
    assert run(db, "export", "--person", "me", "--out", str(out)) == 0
    assert run(db, "person", "delete", "me") == 0
    with Store(db) as store:
        assert store.people() == ()
    assert run(db, "import", str(out)) == 0
    assert run(db, "history", "--today", str(TODAY), "--json", str(again)) == 0
    strip = lambda d: {**d, "treatments": [{**t, "id": 0} for t in d["treatments"]]}  # noqa: E731
    assert strip(read(again)) == strip(read(before))
    assert read(again)["treatments"][0]["injector_waits"] == {"forehead": "3d"}


def test_a_new_process_reads_what_another_wrote(tmp_path: Path) -> None:
    db = tmp_path / "shared.db"
    env = {**os.environ, "FACEZONES_DB": str(db)}

    def cli_process(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "cli.py", *args], cwd=ROOT, env=env, capture_output=True,
                              text=True, timeout=300, check=False)  # fmt: skip

    wrote = cli_process("treat", "--treat", f"lips,chin=ha_filler@{DAY}", "--planned", "--today", str(TODAY))
    assert wrote.returncode == 0, wrote.stderr
    out = tmp_path / "h.json"
    read_back = cli_process("history", "--today", str(TODAY), "--json", str(out))
    assert read_back.returncode == 0, read_back.stderr
    history = read(out)
    assert history["treatments"][0]["areas"] == ["lips", "chin"] and history["treatments"][0]["planned"]
    assert history["courses"][0]["open"]
    with Store(db) as store:  # and this process too
        assert store.treatments("me")[0].treatment.areas == ("lips", "chin")


def test_annotate_uses_the_persons_stored_treatments(tmp_path: Path) -> None:
    db = tmp_path / "fz.db"
    assert run(db, "treat", "--treat", "nasolabial_left=ha_filler@2026-11-20", "--today", "2026-11-22") == 0
    out = tmp_path / "a.json"
    code = cli.main(["annotate", "samples/astronaut.png", "--json", str(out), "--no-hands", "--person", "me",
                     "--db", str(db), "--today", "2026-11-22"])  # fmt: skip
    assert code == 0
    zones = {z["id"]: z for z in read(out)["faces"][0]["zones"]}
    assert zones["nasolabial_left"]["status"] == "no_touch" and zones["nasolabial_right"]["status"] == "safe"
    assert read(out)["plan"]["treatments"][0]["areas"] == ["nasolabial_left"]


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (
            ["treat", "--person", "Nobody", "--treat", "lips=ha_filler@2026-11-20"],
            "no person called 'Nobody'",
        ),
        (["treat", "--treat", "lips=ha_filler@2026-12-20", "--today", "2026-12-02"], "dated after today"),
        (
            ["treat", "--treat", "lips=ha_filler@2026-11-20", "--injector-wait", "chin=2d"],
            "which no --treat names",
        ),
        (["person", "delete", "Nobody"], "no person called 'Nobody'"),
        (["done", "99"], "no treatment 99"),
        (["import", "missing.json"], "no such export file"),
        (
            ["annotate", "samples/astronaut.png", "--json", "x.json", "--person", "me", "--plan", "p.json"],
            "--person and --plan",
        ),
    ],
    ids=[
        "unknown-person",
        "future",
        "stray-wait",
        "delete-unknown",
        "done-unknown",
        "import-missing",
        "two-plans",
    ],
)
def test_store_errors_are_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], args, expected
) -> None:
    db = tmp_path / "fz.db"
    Store(db).close()
    with Store(db) as store:
        store.ensure_person()
    assert run(db, *args) == cli.EXIT_BAD_INPUT
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: ") and expected in err[0]


def test_a_file_that_is_not_a_database_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_text("not a database")
    assert cli.main(["person", "list", "--db", str(notes)]) == cli.EXIT_BAD_INPUT
    assert "not a FaceZones database" in capsys.readouterr().err
    assert notes.read_text() == "not a database"
