"""The store on SQLite and PostgreSQL: people, treatments, course, sessions, deletion, crashes, writers."""

from __future__ import annotations

import dataclasses
import os
import signal
import sqlite3
import subprocess
import sys
import threading
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, select, text

from store import DEFAULT_PERSON, MassageSession, Store, StoreError, resolve_url
from store import schema as db
from zones.plan import parse_treatment
from zones.safety import NO_TOUCH, SAFE, evaluate

ROOT = Path(__file__).resolve().parents[2]
WRITER = Path(__file__).with_name("writer.py")
TODAY = date(2026, 12, 2)
WRITER_TIMEOUT_S = 120


def planned(text: str):
    return dataclasses.replace(parse_treatment(text), planned=True)


def a_session(note: str, start: datetime, **changes) -> MassageSession:
    record = MassageSession(
        start, "hands", start + timedelta(minutes=12), "guided", {"neck_left": 3, "jaw_left": 2},
        {"lips": 1}, ("redness",), note
    )  # fmt: skip
    return dataclasses.replace(record, **changes)


def writer(url: str, *args: str) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    command = [sys.executable, str(WRITER), url, *args]
    return subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def test_people_default_me_add_list_and_refusals(db_url: str) -> None:
    with Store(db_url) as store:
        assert store.people() == ()
        me = store.ensure_person()
        assert me.name == DEFAULT_PERSON and store.ensure_person().key == me.key
        store.add_person("  Ada   Lovelace ")
        assert [p.name for p in store.people()] == ["Ada Lovelace", "me"]
        with pytest.raises(StoreError, match="already a person called 'Ada Lovelace'"):
            store.add_person("Ada Lovelace")
        with pytest.raises(StoreError, match=r"no person called 'Bob'.*known: 'Ada Lovelace', 'me'"):
            store.treatments("Bob")
        with pytest.raises(StoreError, match="needs a name"):
            store.add_person("   ")


def test_history_survives_reopening(db_url: str) -> None:
    with Store(db_url) as store:
        store.ensure_person("client")
        lips = parse_treatment("lips=ha_filler@2026-11-20")
        record = store.add_treatment(
            "client", lips, injector_waits={"lips": "10d"}, note="left side fuller", today=TODAY
        )
        stored, _ = store.add_session("client", a_session("first", datetime(2026, 11, 25, 10, 0)))
        store.save_plan("client", "tools", screening={"heart": "no", "skin": "no"}, margin_mm=12)
    with Store(db_url) as again:
        (treatment,) = again.treatments("client")
        assert treatment == record and treatment.injector_waits == {"lips": "10d"}
        assert again.sessions("client") == (stored,)
        assert stored.lines == {"neck_left": 3, "jaw_left": 2} and stored.stop_signs == ("redness",)
        plan = again.plan("client", TODAY)
        assert plan.method == "tools" and plan.margin_mm == 12 and plan.treatments == (record.treatment,)
        assert again.latest_plan("client").screening == {"heart": "no", "skin": "no"}


def test_treatment_dates_are_checked(db_url: str, catalogue) -> None:
    with Store(db_url) as store:
        store.ensure_person()
        with pytest.raises(StoreError, match="dated after today"):
            store.add_treatment("me", parse_treatment("lips=ha_filler@2026-12-20"), today=TODAY)
        with pytest.raises(StoreError, match="planned for a day gone by"):
            store.add_treatment("me", planned("lips=ha_filler@2026-11-20"), today=TODAY)
        with pytest.raises(StoreError, match="unknown area 'lip'"):
            store.add_treatment("me", planned("lip=ha_filler@2026-12-20"), catalogue=catalogue, today=TODAY)
        with pytest.raises(StoreError, match="write it like 10d or 48h"):
            store.add_treatment(
                "me", parse_treatment("lips=ha_filler@2026-11-20"), injector_waits={"lips": "soon"}
            )
        with pytest.raises(StoreError, match="does not name"):
            store.add_treatment(
                "me", parse_treatment("lips=ha_filler@2026-11-20"), injector_waits={"chin": "2d"}
            )
        assert store.treatments("me") == ()


def test_planned_lips_course_then_done_then_waiting(db_url: str, catalogue) -> None:
    """The issue's case through the store: a course of 5-7 before the day, closed when done, then the wait."""
    day = TODAY + timedelta(days=10)
    with Store(db_url) as store:
        store.ensure_person()
        record = store.add_treatment("me", planned(f"lips=ha_filler@{day}"), catalogue=catalogue, today=TODAY)
        (course,) = store.courses("me")
        sessions = course.course.sessions
        assert course.treatment_key == record.key and 5 <= len(sessions) <= 7
        assert all(TODAY <= s.due < day for s in sessions) and all(s.key is not None for s in sessions)
        assert evaluate(store.plan("me", TODAY), catalogue).verdict("lips").status == SAFE

        # a guided session on the first session's day ticks it off
        first = sessions[0]
        _, ticked = store.add_session(
            "me", a_session("course 1", datetime.combine(first.due, datetime.min.time()))
        )
        assert ticked is not None and ticked.key == first.key and ticked.done
        status = store.courses("me")[0].course.status(first.due)
        assert status.open and status.done == 1 and status.next == sessions[1]
        store.tick_course_session(
            "me", sessions[1].key, when=datetime.combine(sessions[1].due, datetime.min.time())
        )

        done = store.mark_done(
            "me", record.key, now=datetime.combine(day, datetime.min.time()).replace(hour=18)
        )
        assert not done.treatment.planned and done.planned_for == record.treatment.treated_at
    with Store(db_url) as store:
        (closed,) = store.courses("me")
        assert closed.course.closed_at is not None and "treatment done" in closed.course.closed_reason
        assert not closed.course.status(day).open and closed.course.status(day).done == 2
        assert len(closed.course.sessions) == len(sessions)  # history kept
        wait = catalogue.rule_for("ha_filler", "hands", "lips").wait.delta
        verdict = evaluate(store.plan("me", day + timedelta(days=1)), catalogue).verdict("lips")
        assert (
            verdict.status == NO_TOUCH
            and verdict.safe_from == datetime.combine(day, datetime.min.time()) + wait
        )
        with pytest.raises(StoreError, match="closed course"):
            store.tick_course_session("me", sessions[2].key)
        with pytest.raises(StoreError, match="already recorded as done"):
            store.mark_done("me", record.key)
        _, ticked_after = store.add_session(
            "me", a_session("after", datetime.combine(day, datetime.min.time()))
        )
        assert ticked_after is None


def test_mark_done_cannot_be_in_the_future(db_url: str, catalogue) -> None:
    with Store(db_url) as store:
        store.ensure_person()
        record = store.add_treatment(
            "me", planned("lips=ha_filler@2026-12-12"), catalogue=catalogue, today=TODAY
        )
        with pytest.raises(StoreError, match="a moment after now"):
            store.mark_done("me", record.key, now=datetime(2026, 12, 5, 12, 0))
        earlier = store.mark_done("me", record.key, date(2026, 12, 5), now=datetime(2026, 12, 5, 12, 0))
        assert earlier.treatment.treated_at == datetime(2026, 12, 5) and earlier.planned_for == datetime(
            2026, 12, 12
        )


def test_bad_sessions_are_refused(db_url: str) -> None:
    with Store(db_url) as store:
        store.ensure_person()
        start = datetime(2026, 12, 1, 10, 0)
        with pytest.raises(StoreError, match="end before it starts"):
            store.add_session("me", a_session("x", start, ended_at=start - timedelta(minutes=1)))
        with pytest.raises(StoreError, match="whole numbers"):
            store.add_session("me", a_session("x", start, lines={"neck_left": -1}))
        assert store.sessions("me") == ()


def _rows_of(url: str, person_id: int) -> dict[str, int]:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            counts = {}
            for table in db.Base.metadata.sorted_tables:
                if "person_id" in table.c:
                    query = select(func.count()).select_from(table).where(table.c.person_id == person_id)
                    counts[table.name] = conn.execute(query).scalar_one()
            counts["people"] = conn.execute(
                select(func.count()).select_from(db.PersonRow).where(db.PersonRow.id == person_id)
            ).scalar_one()
            return counts
    finally:
        engine.dispose()


def _fill(store: Store, name: str, catalogue) -> None:
    store.ensure_person(name)
    store.add_treatment(name, parse_treatment("forehead=botox@2026-11-28"), today=TODAY)
    store.add_treatment(name, planned("lips,chin=ha_filler@2026-12-14"), catalogue=catalogue, today=TODAY)
    store.add_session(name, a_session("one", datetime.combine(store.courses(name)[0].course.sessions[0].due,
                                                              datetime.min.time())))  # fmt: skip
    store.save_plan(name, "hands", screening={"heart": "no"})


def test_deleting_a_person_deletes_every_row_of_theirs(db_url: str, catalogue) -> None:
    with Store(db_url) as store:
        _fill(store, "leaving", catalogue)
        _fill(store, "staying", catalogue)
        leaving, staying = store.person("leaving").key, store.person("staying").key
    before = _rows_of(db_url, leaving)
    kept = _rows_of(db_url, staying)
    assert all(count > 0 for count in before.values()), before  # every table held something of theirs
    with Store(db_url) as store:
        assert store.delete_person("leaving") == sum(before.values())
        assert [p.name for p in store.people()] == ["staying"]
    assert set(_rows_of(db_url, leaving).values()) == {0}
    assert _rows_of(db_url, staying) == kept


def test_a_killed_writer_leaves_the_last_committed_state(db_url: str) -> None:
    process = writer(db_url, "stall")
    try:
        lines = []
        assert process.stdout is not None
        for line in process.stdout:
            lines.append(line.strip())
            if line.strip() == "midway":
                break
        assert lines == ["committed before", "midway"], (
            lines,
            process.stderr.read() if process.stderr else "",
        )
        os.kill(process.pid, signal.SIGKILL)
        process.wait(timeout=WRITER_TIMEOUT_S)
    finally:
        if process.poll() is None:
            process.kill()
    with Store(db_url) as store:
        assert [p.name for p in store.people()] == ["me"]  # the half-done import left nothing
        assert [s.note for s in store.sessions("me")] == ["before"]
        store.add_session("me", a_session("after the crash", datetime(2026, 12, 2, 9, 0)))  # not locked out
        assert len(store.sessions("me")) == 2
    if db_url.startswith("sqlite"):
        with sqlite3.connect(db_url.removeprefix("sqlite:///")) as check:
            assert check.execute("PRAGMA integrity_check").fetchone() == ("ok",)


def test_two_writer_processes_both_keep_their_rows(db_url: str, tmp_path: Path) -> None:
    count = 40
    with Store(db_url) as store:
        store.ensure_person()
    go = tmp_path / "go"
    processes = [writer(db_url, "sessions", "me", str(count), tag, str(go)) for tag in ("A", "B")]
    go.touch()
    for process in processes:
        out, err = process.communicate(timeout=WRITER_TIMEOUT_S)
        assert process.returncode == 0, err
        assert out.count("committed") == count
    with Store(db_url) as store:
        notes = sorted(s.note for s in store.sessions("me"))
    assert notes == sorted(f"{tag}-{i}" for tag in ("A", "B") for i in range(count))


def test_two_threads_on_one_store_both_keep_their_rows(db_url: str) -> None:
    """Two browser sessions of one app process share its Store."""
    with Store(db_url) as store:
        store.ensure_person()
        errors: list[BaseException] = []

        def save(tag: str) -> None:
            try:
                for i in range(25):
                    store.add_session("me", a_session(f"{tag}-{i}", datetime(2026, 12, 1, 9, i)))
            except BaseException as err:
                errors.append(err)

        threads = [threading.Thread(target=save, args=(tag,)) for tag in ("A", "B")]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert not errors
        assert len(store.sessions("me")) == 50


def test_where_the_database_lives(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("FACEZONES_DB", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    assert resolve_url() == f"sqlite:///{tmp_path / 'data' / 'facezones' / 'facezones.db'}"
    with Store() as store:  # the default file is made, folder and all
        store.ensure_person()
    assert (tmp_path / "data" / "facezones" / "facezones.db").is_file()
    monkeypatch.setenv("FACEZONES_DB", str(tmp_path / "elsewhere.db"))
    assert resolve_url() == f"sqlite:///{tmp_path / 'elsewhere.db'}"
    assert (
        resolve_url("postgresql://clinic@db.local/records") == "postgresql+psycopg://clinic@db.local/records"
    )
    assert resolve_url(tmp_path / "given.db") == f"sqlite:///{tmp_path / 'given.db'}"


def test_sqlite_is_in_wal_mode_with_foreign_keys(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'w.db'}"
    with Store(url) as store:
        store.ensure_person()
        with store._engine.connect() as conn:  # the store's own connections
            assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
            assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
