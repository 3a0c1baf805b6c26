"""The preparatory course: sessions before a planned filler treatment, none on its day, closed once done."""

from __future__ import annotations

import dataclasses
import itertools
from datetime import date, datetime, timedelta

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from zones.catalogue import DEFAULT_CATALOGUE, CatalogueError, load_catalogue, parse_catalogue
from zones.course import applies, propose_course, session_days, surroundings
from zones.plan import Plan, PlanError, parse_treatment, plan_from_json
from zones.safety import NO_TOUCH, SAFE, evaluate, timeline

TODAY = date(2026, 12, 2)
CATALOGUE = load_catalogue()


def planned(text: str):
    return dataclasses.replace(parse_treatment(text), planned=True)


def test_lips_ten_days_ahead_get_a_course_then_the_wait() -> None:
    day = TODAY + timedelta(days=10)
    treatment = planned(f"lips=ha_filler@{day.isoformat()}")
    course = propose_course(treatment, CATALOGUE, TODAY)
    fewest, most = CATALOGUE.course.sessions
    assert (fewest, most) == (5, 7)
    assert fewest <= len(course.sessions) <= most and not course.short
    assert all(TODAY <= s.due < day for s in course.sessions), [s.due for s in course.sessions]
    assert all("lips" in s.areas for s in course.sessions)
    assert [s.number for s in course.sessions] == list(range(1, len(course.sessions) + 1))
    assert course.status(TODAY).open and course.status(day - timedelta(days=1)).open

    # while planned, the lips start no wait: massaging them is the course itself
    plan = Plan((treatment,), "hands", TODAY)
    assert evaluate(plan, CATALOGUE).verdict("lips").status == SAFE

    # marked done on its day: the waiting rule takes over and the course is closed
    done = dataclasses.replace(treatment, planned=False)
    closed = dataclasses.replace(
        course,
        treatment=done,
        closed_at=datetime.combine(day, datetime.min.time()),
        closed_reason="treatment done",
    )
    status = closed.status(day)
    assert not status.open and "treatment done" in status.message
    wait = CATALOGUE.rule_for("ha_filler", "hands", "lips").wait.delta
    safe_day = datetime.combine(day, datetime.min.time()) + wait
    for today in (day, day + timedelta(days=1), safe_day.date() - timedelta(days=1)):
        verdict = evaluate(Plan((done,), "hands", today), CATALOGUE).verdict("lips")
        assert verdict.status == NO_TOUCH and verdict.safe_from == safe_day
    assert evaluate(Plan((done,), "hands", safe_day.date()), CATALOGUE).verdict("lips").status != NO_TOUCH


def test_the_course_ends_on_the_treatment_day_even_unmarked() -> None:
    day = TODAY + timedelta(days=6)
    treatment = planned(f"lips=ha_filler@{day.isoformat()}")
    course = propose_course(treatment, CATALOGUE, TODAY)
    status = course.status(day)
    assert not status.open and "waiting rules take over" in status.message
    # fail safe: from its day on a planned treatment counts as done, marked or not
    assert evaluate(Plan((treatment,), "hands", day), CATALOGUE).verdict("lips").status == NO_TOUCH
    assert (
        evaluate(Plan((treatment,), "hands", day - timedelta(days=1)), CATALOGUE).verdict("lips").status
        == SAFE
    )


def test_progress_through_the_course() -> None:
    treatment = planned(f"nasolabial_left=ha_filler@{(TODAY + timedelta(days=12)).isoformat()}")
    course = propose_course(treatment, CATALOGUE, TODAY)
    first, second = course.sessions[:2]
    assert course.status(first.due).next == first and "due today" in course.status(first.due).message
    ticked = dataclasses.replace(
        course,
        sessions=(
            dataclasses.replace(first, done_at=datetime.combine(first.due, datetime.min.time())),
            *course.sessions[1:],
        ),
    )
    status = ticked.status(first.due)
    assert status.done == 1 and status.next == second and not status.missed
    late = ticked.status(second.due + timedelta(days=1))
    assert late.missed == (second,) and "1 missed" in late.message


def test_too_little_time_gives_a_short_course_and_none_on_the_day() -> None:
    three = propose_course(
        planned(f"lips=ha_filler@{(TODAY + timedelta(days=3)).isoformat()}"), CATALOGUE, TODAY
    )
    assert len(three.sessions) == 3 and three.short
    assert [s.due for s in three.sessions] == [TODAY + timedelta(days=i) for i in range(3)]
    assert propose_course(planned(f"lips=ha_filler@{TODAY.isoformat()}"), CATALOGUE, TODAY).sessions == ()


@given(ahead=st.integers(0, 120), start=st.dates(date(2020, 1, 1), date(2035, 1, 1)))
def test_course_days_are_spaced_and_all_before_the_day(ahead: int, start: date) -> None:
    day = start + timedelta(days=ahead)
    days = session_days(start, day, CATALOGUE)
    spec = CATALOGUE.course
    assert all(start <= d < day for d in days)
    assert len(days) <= spec.sessions[1]
    if ahead >= spec.sessions[0] * spec.min_gap_days:
        assert len(days) >= spec.sessions[0]
    gaps = [(b - a).days for a, b in itertools.pairwise(days)]
    assert all(g >= spec.min_gap_days for g in gaps)
    if days:
        assert days[-1] == day - timedelta(days=spec.last_before_days)


def test_surroundings_of_the_lips() -> None:
    areas, lines = surroundings(("lips",), CATALOGUE)
    assert "lips" in areas and {"nasolabial_left", "nasolabial_right"} <= set(areas)
    assert "forehead" not in areas and "temple_left" not in areas
    assert {"neck_left", "neck_right", "upper_lip_left", "upper_lip_right"} <= set(lines)
    assert not any(line.startswith(("forehead", "brow")) for line in lines)
    with pytest.raises(PlanError, match="unknown area 'lip'"):
        surroundings(("lip",), CATALOGUE)


def test_only_planned_course_products_get_a_course() -> None:
    botox = planned(f"forehead=botox@{(TODAY + timedelta(days=10)).isoformat()}")
    assert not applies(botox, CATALOGUE)
    with pytest.raises(PlanError, match="planned treatments with ha_filler"):
        propose_course(botox, CATALOGUE, TODAY)
    assert not applies(parse_treatment("lips=ha_filler@2026-11-20"), CATALOGUE)


def test_planned_treatments_are_accepted_in_the_future_and_kept_in_plan_files() -> None:
    treatment = planned("lips=ha_filler@2026-12-20")
    plan = Plan((treatment, parse_treatment("forehead=botox@2026-11-30")), "hands", TODAY)
    document = plan.to_json()
    assert document["treatments"][0]["planned"] is True and "planned" not in document["treatments"][1]
    assert plan_from_json(document, today=TODAY) == plan
    with pytest.raises(PlanError, match=r"treatments\[0\]: planned: must be true or false"):
        plan_from_json(
            {**document, "treatments": [{**document["treatments"][0], "planned": "yes"}]}, today=TODAY
        )
    entries = [e for e in timeline(plan, CATALOGUE) if e.area_id == "lips"]
    assert entries and all(e.planned and e.status_today == SAFE for e in entries)


def test_a_bad_course_entry_is_named() -> None:
    raw = yaml.safe_load(DEFAULT_CATALOGUE.read_text())
    with pytest.raises(CatalogueError, match="course: products: unknown product 'gold'"):
        parse_catalogue({**raw, "course": {**raw["course"], "products": ["gold"]}})
    with pytest.raises(CatalogueError, match="fewest <= most"):
        parse_catalogue({**raw, "course": {**raw["course"], "sessions": [7, 5]}})
