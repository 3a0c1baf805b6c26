"""The app on the store through ``AppTest``: people, the record, the course ticked by hand, treatments added
and marked done, and the guided session that saves itself; a new app run (a restart) reads it all back."""

from __future__ import annotations

import dataclasses
from datetime import date, datetime, timedelta
from pathlib import Path

from streamlit.testing.v1 import AppTest

from pipeline import catalogue_for
from store import Store
from zones.plan import parse_treatment

ROOT = Path(__file__).resolve().parent.parent
APP = str(ROOT / "app.py")
TODAY = date.today()


def run_app() -> AppTest:
    app = AppTest.from_file(APP, default_timeout=60.0)
    app.run()
    assert not app.exception, [e.message for e in app.exception]
    return app


def rerun(changed) -> AppTest:
    """Run the script again after a change (an element's ``run`` runs its whole app)."""
    app = changed.run()
    assert not app.exception, [e.message for e in app.exception]
    return app


def texts(elements) -> str:
    return "\n".join(str(element.value) for element in elements)


def planned_lips(store: Store, name: str, days: int) -> None:
    from zones.catalogue import load_catalogue

    treatment = dataclasses.replace(
        parse_treatment(f"lips=ha_filler@{TODAY + timedelta(days=days)}"), planned=True
    )
    store.add_treatment(name, treatment, catalogue=load_catalogue(), today=TODAY)


def test_the_record_starts_with_me_and_the_demo_plan(private_store: Path) -> None:
    app = run_app()
    assert app.selectbox(key="person").value == "me"
    assert "Record of me" in texts(app.subheader)
    assert "No massage session recorded yet" in texts(app.caption)
    assert app.multiselect(key="t0_areas").value == [
        "lips",
        "nasolabial_left",
        "nasolabial_right",
    ]  # the demo
    with Store(private_store) as store:
        assert [p.name for p in store.people()] == ["me"]


def test_add_a_person_plan_a_treatment_and_tick_the_course(private_store: Path) -> None:
    app = run_app()
    app.text_input(key="new_person").input("Ada")
    rerun(app.button(key="add_person").click())
    assert app.selectbox(key="person").value == "Ada" and "Record of Ada" in texts(app.subheader)

    app.multiselect(key="new_areas").set_value(["lips"])
    app.selectbox(key="new_product").set_value("ha_filler")
    app.date_input(key="new_date").set_value(TODAY + timedelta(days=5))
    app.checkbox(key="new_planned").check()
    rerun(app.button(key="new_submit").click())
    with Store(private_store) as store:
        (course,) = store.courses("Ada")
    sessions = course.course.sessions
    assert 5 <= len(sessions) <= 7 and sessions[0].due == TODAY
    assert "is due today" in texts(app.markdown)  # "today" says where Ada stands
    first = app.checkbox(key=f"course_{sessions[0].key}_open")
    assert first.value is False
    rerun(first.check())
    with Store(private_store) as store:
        assert store.courses("Ada")[0].course.sessions[0].done
    assert app.checkbox(key=f"course_{sessions[0].key}_done").value is True


def test_a_stale_course_box_never_unticks_a_session_done_elsewhere(private_store: Path) -> None:
    """A busy page can report an old box's state after a guided session (or the CLI) ticked the session off:
    the box drawn "open" reporting "open" again is an echo, not the user unticking it."""
    with Store(private_store) as store:
        store.ensure_person()
        planned_lips(store, "me", 5)  # a course with a session due today
        first = store.courses("me")[0].course.sessions[0].key
    app = run_app()
    box = f"course_{first}_open"
    app.session_state[box] = True  # the browser's copy of the box differs from what was drawn
    rerun(app)
    with Store(private_store) as store:
        store.tick_course_session("me", first)  # ticked off elsewhere meanwhile
    rerun(app.checkbox(key=box).uncheck())  # the old box now reports "open", the state it was drawn with
    with Store(private_store) as store:
        assert store.courses("me")[0].course.sessions[0].done
    assert app.checkbox(key=f"course_{first}_done").value is True


def test_a_planned_treatment_is_marked_done(private_store: Path) -> None:
    with Store(private_store) as store:
        store.ensure_person()
        planned_lips(store, "me", 0)  # booked for today
        key = store.treatments("me")[0].key
    app = run_app()
    rerun(app.button(key=f"done_{key}").click())
    with Store(private_store) as store:
        (record,) = store.treatments("me")
        assert not record.treatment.planned and store.courses("me")[0].course.closed_at is not None
    assert "No touching today" in texts(app.markdown) and "Lips (until" in texts(app.markdown)


def test_choosing_a_person_puts_their_treatments_on_the_map(private_store: Path) -> None:
    with Store(private_store) as store:
        store.add_person("Bob")
        store.add_treatment("Bob", parse_treatment(f"nasolabial_left=ha_filler@{TODAY - timedelta(days=2)}"))
    app = run_app()
    rerun(app.selectbox(key="person").set_value("Bob"))
    assert app.multiselect(key="t0_areas").value == ["nasolabial_left"]
    assert app.session_state["treatment_count"] == 1
    assert "Nasolabial fold (left) (until" in texts(app.markdown)


def test_the_guided_session_saves_itself_and_a_restart_reads_it_back(private_store: Path) -> None:
    with Store(private_store) as store:
        store.ensure_person()
        planned_lips(store, "me", 5)  # a course with a session due today
    app = run_app()
    rerun(app.toggle(key="practitioner").set_value(True))
    for question in catalogue_for(None).screening:
        app.radio(key=f"screen_{question.id}").set_value("No")
    rerun(app)
    rerun(app.button(key="step_rep").click())
    rerun(app.button(key="step_rep").click())
    rerun(app.button(key="step_next").click())
    rerun(app.button(key="step_rep").click())
    rerun(app.toggle(key="practitioner").set_value(False))  # ending the session saves it
    assert (
        "Saved the guided session for me: 3 repetition(s) on 2 line(s); course session 1 ticked off"
        in texts(app.success)
    )
    rerun(app)  # a rerun right after (a click, a timer) leaves the message up for the user to read
    assert "Saved the guided session for me" in texts(app.success)
    with Store(private_store) as store:
        (session,) = store.sessions("me")
        assert session.mode == "guided" and sum(session.lines.values()) == 3 and len(session.lines) == 2
        assert session.started_at <= session.ended_at <= datetime.now()
        assert store.courses("me")[0].course.sessions[0].done

    restarted = run_app()  # a new run of the script, as after a restart: the record is read from the file
    (log,) = [table.value for table in restarted.table if "repetitions" in table.value.columns]
    assert log.to_dict("records")[0]["repetitions"] == 3 and log.to_dict("records")[0]["mode"] == "guided"
    assert "next course session 2" in texts(restarted.markdown)
