"""Plans: the --treat syntax, future dates, JSON save/load that refuses bad files and keeps the last plan."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta

import pytest

from zones.catalogue import load_catalogue
from zones.plan import (
    Plan,
    PlanError,
    Treatment,
    build_plan,
    load_plan,
    load_plan_or_keep,
    parse_today,
    parse_treatment,
    save_plan,
)

TODAY = date(2026, 11, 22)


def test_parse_treatment_with_and_without_time() -> None:
    treatment = parse_treatment("nasolabial_left,lips=ha_filler@2026-11-20")
    assert treatment == Treatment(("nasolabial_left", "lips"), "ha_filler", datetime(2026, 11, 20), False)
    timed = parse_treatment(" forehead = botox @ 2026-11-20T14:30 ")
    assert timed.areas == ("forehead",) and timed.product == "botox"
    assert timed.treated_at == datetime(2026, 11, 20, 14, 30) and timed.has_time
    for text in (treatment.to_text(), timed.to_text()):
        assert parse_treatment(text).to_text() == text


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("lips", "expected AREA"),
        ("lips=ha_filler", "expected AREA"),
        ("lips=ha_filler@20-11-2026", "is not a date"),
        ("lips,,chin=ha_filler@2026-11-20", "empty area"),
        ("lips,lips=ha_filler@2026-11-20", "names an area twice"),
        ("", "expected AREA"),
    ],
)
def test_bad_treatments_say_what_is_wrong(text: str, message: str) -> None:
    with pytest.raises(PlanError, match=message):
        parse_treatment(text)


def test_a_treatment_in_the_future_is_an_error() -> None:
    with pytest.raises(PlanError, match=r"dated after today \(2026-11-22\).*move --today forward"):
        Plan((parse_treatment("lips=ha_filler@2026-11-23"),), "hands", TODAY)
    with pytest.raises(PlanError, match="after today"):
        Plan((parse_treatment("lips=ha_filler@2026-11-22T15:00"),), "hands", datetime(2026, 11, 22, 14, 0))
    same_day = Plan((parse_treatment("lips=ha_filler@2026-11-22T15:00"),), "hands", TODAY)
    assert same_day.treatments[0].treated_at.hour == 15
    with pytest.raises(PlanError, match="after today"):
        Plan((parse_treatment("lips=ha_filler@2999-01-01"),))  # "today" defaults to now


def test_parse_today() -> None:
    assert parse_today("2026-11-22") == TODAY
    assert parse_today("2026-11-22T08:15") == datetime(2026, 11, 22, 8, 15)
    assert abs((parse_today(None) - datetime.now()).total_seconds()) < 120
    with pytest.raises(PlanError, match="--today"):
        parse_today("tomorrow")


def test_bad_margins_are_refused() -> None:
    with pytest.raises(PlanError, match="margin_mm"):
        Plan(margin_mm=float("nan"))
    with pytest.raises(PlanError, match="caution_band_mm"):
        Plan(caution_band_mm=-1.0)


def test_save_and_load_round_trip(tmp_path) -> None:
    plan = Plan(
        (
            parse_treatment("lips,chin=ha_filler@2026-11-20"),
            parse_treatment("forehead=botox@2026-11-21T09:30"),
        ),
        "microcurrent",
        TODAY,
        margin_mm=12.0,
    )
    path = save_plan(plan, tmp_path / "plans" / "plan.json")
    assert [p.name for p in path.parent.iterdir()] == ["plan.json"], "no temporary file is left behind"
    assert load_plan(path, today=TODAY, catalogue=load_catalogue()) == plan
    assert "today" not in json.loads(path.read_text())
    save_plan(plan, path, include_today=True)
    assert load_plan(path) == plan


V2 = '"version": 2, "method": "hands", '


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "not valid JSON"),
        ("[1, 2]", "expected a JSON object"),
        ('{"version": 9, "method": "hands", "treatments": []}', "unsupported plan version 9"),
        ("{" + V2 + '"treatments": {"lips": 1}}', "plan: treatments: must be a list"),
        ("{" + V2 + '"treatments": [{"areas": "lips"}]}', r"treatments\[0\]: product: missing"),
        (
            "{" + V2 + '"treatments": [{"areas": ["lips"], "product": "ha_filler", "date": 20261120}]}',
            r"treatments\[0\]: date: must be text",
        ),
        (
            "{" + V2 + '"treatments": [{"areas": ["lips"], "product": "ha_filler", "date": "2999-01-01"}]}',
            "after today",
        ),
        (
            "{" + V2 + '"treatments": [{"areas": ["cheeks"], "product": "ha_filler", "date": "2026-11-01"}]}',
            "unknown area",
        ),
        ("{" + V2 + '"treatments": [], "margin_mm": "wide"}', "plan: margin_mm: must be a number"),
        ("\udcff", "cannot read"),
    ],
)
def test_bad_plan_files_are_refused_and_the_last_good_plan_is_kept(tmp_path, content, message) -> None:
    path = tmp_path / "plan.json"
    path.write_bytes(content.encode("utf-8", "surrogateescape"))
    with pytest.raises(PlanError, match=message):
        load_plan(path, catalogue=load_catalogue())
    current = Plan((parse_treatment("lips=ha_filler@2026-11-20"),), "hands", TODAY)
    kept, error = load_plan_or_keep(path, current, catalogue=load_catalogue())
    assert kept is current and error and "previous plan is kept" in error


def test_missing_and_huge_plan_files(tmp_path) -> None:
    with pytest.raises(PlanError, match="no such plan file"):
        load_plan(tmp_path / "absent.json")
    huge = tmp_path / "huge.json"
    huge.write_bytes(b" " * 2_000_000)
    with pytest.raises(PlanError, match="too large"):
        load_plan(huge)


def test_build_plan_merges_the_cli_flags(tmp_path) -> None:
    catalogue = load_catalogue()
    saved = save_plan(
        Plan((parse_treatment("lips=ha_filler@2026-11-20"),), "tools", TODAY, margin_mm=8.0),
        tmp_path / "p.json",
    )
    plan = build_plan(["chin=ha_filler@2026-11-21"], today="2026-11-22", plan_path=saved, catalogue=catalogue)
    assert [t.areas for t in plan.treatments] == [("lips",), ("chin",)]
    assert (plan.method, plan.today, plan.margin_mm) == ("tools", TODAY, 8.0)
    assert build_plan([], method="microcurrent", today="2026-11-22", plan_path=saved).method == "microcurrent"
    assert build_plan([]).treatments == () and build_plan([]).method == "hands"
    with pytest.raises(PlanError, match="unknown area 'lip'"):
        build_plan(["lip=ha_filler@2026-11-20"], today="2026-11-22", catalogue=catalogue)
    with pytest.raises(PlanError, match="after today"):
        build_plan(["lips=ha_filler@2026-11-23"], today="2026-11-22")


def test_aware_times_become_local_and_lists_become_tuples() -> None:
    aware = datetime.now().astimezone()
    plan = Plan([Treatment(["lips"], "ha_filler", aware - timedelta(days=1), True)], "hands", aware)
    assert plan.today.tzinfo is None and plan.treatments[0].treated_at.tzinfo is None
    assert isinstance(plan.treatments, tuple) and plan.treatments[0].areas == ("lips",)
    assert hash(plan) == hash(Plan(plan.treatments, "hands", plan.today))


def test_a_treatment_may_be_given_a_plain_date() -> None:
    assert Treatment(("lips",), "ha_filler", date(2026, 11, 20)) == parse_treatment(
        "lips=ha_filler@2026-11-20"
    )
    assert Treatment(("lips",), "ha_filler", datetime(2026, 11, 20, 14, 30)).has_time
