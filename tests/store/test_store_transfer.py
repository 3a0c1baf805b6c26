"""Export one person's records as JSON or CSV and import them back, here or into another database."""

from __future__ import annotations

import dataclasses
import json
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from store import MassageSession, Store, StoreError, read_document, write_document
from store.transfer import SECTIONS
from zones.plan import parse_treatment

TODAY = date(2026, 12, 2)


def _fill(store: Store, catalogue) -> None:
    """A person with every kind of record: done and planned treatments, a course partly done, sessions."""
    store.ensure_person("Ada")
    botox = parse_treatment("forehead,glabella=botox@2026-11-28T14:30")
    store.add_treatment(
        "Ada", botox, injector_waits={"glabella": "36h"}, note='said "no facials", then: ok', today=TODAY
    )
    planned = dataclasses.replace(parse_treatment("lips=ha_filler@2026-12-12"), planned=True)
    store.add_treatment("Ada", planned, catalogue=catalogue, today=TODAY)
    first = store.courses("Ada")[0].course.sessions[0]
    start = datetime.combine(first.due, datetime.min.time()).replace(hour=9)
    lines = {"neck_left": 2, "jaw_right": 1}
    record = MassageSession(start, "hands", start + timedelta(minutes=15), "guided", lines, {"lips": 2},
                            ("redness", "itching"), "fine; a bit red, after")  # fmt: skip
    store.add_session("Ada", record)
    store.add_session(
        "Ada",
        dataclasses.replace(
            record,
            started_at=start + timedelta(days=3),
            ended_at=None,
            lines={},
            warnings={},
            stop_signs=(),
            note="",
        ),
        tick_course=False,
    )
    store.save_plan("Ada", "tools", screening={"heart": "no", "skin": "yes"}, margin_mm=8.5, caution_mm=None)
    store.save_plan("Ada", "hands")


def _normalised(document: dict[str, Any]) -> dict[str, Any]:
    """The document with refs renumbered by position, so two exports of the same records compare equal."""
    renumber = {section: {r["ref"]: i for i, r in enumerate(document[section])} for section in SECTIONS}
    links = {
        "treatment_ref": "treatments",
        "course_ref": "courses",
        "massage_session_ref": "massage_sessions",
    }
    out: dict[str, Any] = {"person": document["person"]}
    for section in SECTIONS:
        records = []
        for record in document[section]:
            fixed = {**record, "ref": renumber[section][record["ref"]]}
            for field, target in links.items():
                if fixed.get(field) is not None:
                    fixed[field] = renumber[target][fixed[field]]
            records.append(fixed)
        out[section] = records
    return out


@pytest.mark.parametrize("suffix", [".json", ".csv"])
def test_export_delete_import_round_trip(db_url: str, catalogue, tmp_path: Path, suffix: str) -> None:
    with Store(db_url) as store:
        _fill(store, catalogue)
        exported = store.export_person("Ada")
        assert all(exported[section] for section in SECTIONS)  # every kind of record is in the file
        path = write_document(exported, tmp_path / f"ada{suffix}")
        before = (
            store.treatments("Ada"),
            store.courses("Ada"),
            store.sessions("Ada"),
            store.latest_plan("Ada"),
        )
        store.delete_person("Ada")
        assert store.people() == ()
        store.import_person(read_document(path))
        again = store.export_person("Ada")
        assert _normalised(again) == _normalised(exported)
        after = (
            store.treatments("Ada"),
            store.courses("Ada"),
            store.sessions("Ada"),
            store.latest_plan("Ada"),
        )
    strip = lambda records: [dataclasses.replace(r, key=0) if hasattr(r, "key") else r for r in records]  # noqa: E731
    assert [t.treatment for t in after[0]] == [t.treatment for t in before[0]]
    assert [len(c.course.sessions) for c in after[1]] == [len(c.course.sessions) for c in before[1]]
    assert [s.done for c in after[1] for s in c.course.sessions] == [
        s.done for c in before[1] for s in c.course.sessions
    ]
    assert strip(after[2]) == strip(before[2])
    assert after[3].screening == before[3].screening and after[3].method == "hands"


def test_import_into_another_database_under_another_name(db_url: str, catalogue, tmp_path: Path) -> None:
    with Store(tmp_path / "home.db") as home:
        _fill(home, catalogue)
        path = write_document(home.export_person("Ada"), tmp_path / "ada.json")
    with Store(db_url) as clinic:
        clinic.ensure_person("Ada")
        with pytest.raises(StoreError, match="already a person called 'Ada'"):
            clinic.import_person(read_document(path))
        clinic.import_person(read_document(path), as_name="Ada (home)")
        assert len(clinic.sessions("Ada (home)")) == 2 and clinic.sessions("Ada") == ()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d.pop("kind"), "kind: Field required"),
        (lambda d: d.update(kind="facezones-plan"), "kind: Input should be 'facezones-person'"),
        (lambda d: d.update(version=2), "version: Input should be 1"),
        (lambda d: d["treatments"][0].update(treated_at="yesterday"), r"treatments\[0\].treated_at"),
        (
            lambda d: d["massage_sessions"][0].update(lines={"neck_left": "many"}),
            r"massage_sessions\[0\].lines",
        ),
        (lambda d: d["courses"][0].update(treatment_ref=999), "treatment_ref 999 is not a treatment"),
        (lambda d: d["treatments"][0].update(colour="red"), r"treatments\[0\].colour: Extra inputs"),
    ],
    ids=["no-kind", "other-kind", "version", "date", "count", "link", "extra"],
)
def test_a_bad_document_is_refused_and_nothing_is_written(
    db_url: str, catalogue, change, message: str
) -> None:
    with Store(db_url) as store:
        _fill(store, catalogue)
        document = json.loads(json.dumps(store.export_person("Ada")))
        change(document)
        with pytest.raises(StoreError, match=message):
            store.import_person(document, as_name="Copy")
        assert [p.name for p in store.people()] == ["Ada"]


def test_bad_files_say_what_is_wrong(tmp_path: Path) -> None:
    (tmp_path / "broken.json").write_text("{not json")
    with pytest.raises(StoreError, match="not valid JSON"):
        read_document(tmp_path / "broken.json")
    (tmp_path / "list.json").write_text("[]")
    with pytest.raises(StoreError, match="expected a JSON object"):
        read_document(tmp_path / "list.json")
    (tmp_path / "other.csv").write_text("name,phone\nAda,123\n")
    with pytest.raises(StoreError, match="no 'record' column"):
        read_document(tmp_path / "other.csv")
    with pytest.raises(StoreError, match="no such export file"):
        read_document(tmp_path / "missing.json")


def test_the_csv_has_one_row_per_record(db_url: str, catalogue, tmp_path: Path) -> None:
    with Store(db_url) as store:
        _fill(store, catalogue)
        document = store.export_person("Ada")
    path = write_document(document, tmp_path / "ada.csv")
    import csv

    rows = list(csv.DictReader(path.open(encoding="utf-8", newline="")))
    kinds = [row["record"] for row in rows]
    assert kinds.count("person") == 1 and kinds.count("treatments") == 2
    assert kinds.count("course_sessions") == len(document["course_sessions"]) >= 5
    session = next(row for row in rows if row["record"] == "massage_sessions")
    assert json.loads(session["lines"]) == {"neck_left": 2, "jaw_right": 1}
    assert session["note"] == "fine; a bit red, after"
