"""Strict plan files (issue 12): unknown keys, wrong types, other documents and a missing version are refused
with one line naming the file, the entry and the field; every field survives a save and a load."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from zones.catalogue import Span, load_catalogue
from zones.plan import (
    PLAN_VERSION,
    Plan,
    PlanError,
    Treatment,
    build_plan,
    load_plan,
    load_plan_or_keep,
    parse_injector_wait,
    parse_screen,
    parse_treatment,
    plan_from_json,
    save_plan,
)

TODAY = date(2026, 11, 22)
CATALOGUE = load_catalogue()


def write(tmp_path, document, name: str = "plan.json"):
    path = tmp_path / name
    path.write_text(json.dumps(document) if not isinstance(document, str) else document)
    return path


def good_document() -> dict:
    return {
        "version": 2,
        "method": "hands",
        "treatments": [{"areas": ["lips"], "product": "ha_filler", "date": "2026-11-20"}],
        "margin_mm": None,
        "caution_band_mm": None,
        "screening": {"heart": "no"},
    }


def refusal(tmp_path, document) -> str:
    path = write(tmp_path, document)
    with pytest.raises(PlanError) as caught:
        load_plan(path, today=TODAY, catalogue=CATALOGUE)
    message = str(caught.value)
    assert "\n" not in message, "one line"
    assert message.startswith(str(path)), "the file is named first"
    return message


def test_a_misspelt_key_is_refused_not_read_as_an_empty_plan(tmp_path) -> None:
    """The defect: ``"treatment"`` for ``"treatments"`` loaded as an empty plan, every area safe."""
    document = good_document()
    document["treatment"] = document.pop("treatments")
    message = refusal(tmp_path, document)
    assert ": plan: treatment: unknown field; did you mean 'treatments'?" in message


def test_the_clis_own_analysis_json_is_not_a_plan(tmp_path) -> None:
    """The defect: the CLI's ``--json`` output passed as ``--plan`` loaded as an empty plan."""
    analysis = {
        "image": {"width": 640, "height": 480, "mirrored": False},
        "plan": {**good_document(), "today": "2026-11-22"},
        "faces": [],
        "touches": [],
    }
    message = refusal(tmp_path, analysis)
    assert "analysis output" in message and "not a plan" in message and "'plan' field" in message


def test_a_catalogue_is_not_a_plan(tmp_path) -> None:
    catalogue_like = {"version": 1, "areas": [], "lines": [], "rules": []}
    assert "catalogue" in refusal(tmp_path, catalogue_like)


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        (lambda d: d.pop("version"), ": plan: version: missing"),
        (lambda d: d.update(version="2"), ': plan: version: unsupported plan version "2"'),
        (lambda d: d.update(version=True), ": plan: version: unsupported"),
        (lambda d: d.pop("method"), ": plan: method: missing"),
        (lambda d: d.update(method=3), ": plan: method: must be text"),
        (lambda d: d.update(margin_mm=True), ": plan: margin_mm: must be a number"),
        (lambda d: d.update(caution_band_mm="10"), ": plan: caution_band_mm: must be a number"),
        (lambda d: d.update(screening=["heart"]), ": plan: screening: must map question ids"),
        (lambda d: d.update(screening={"heart": True}), ': screening: heart: must be "yes" or "no"'),
        (lambda d: d.update(screening={"hart": "no"}), "unknown screening question 'hart'"),
        (lambda d: d.update(today=20261122), ": plan: today: must be text"),
        (lambda d: d.update(today="tomorrow"), ": plan: today:"),
        (
            lambda d: d["treatments"][0].update(area=["lips"]),
            ": treatments[0]: area: unknown field; did you mean",
        ),
        (lambda d: d["treatments"][0].pop("date"), ": treatments[0]: date: missing"),
        (lambda d: d["treatments"][0].update(areas=[]), ": treatments[0]: areas: must be a list of area ids"),
        (lambda d: d["treatments"][0].update(areas=[1]), ": treatments[0]: areas: must be a list"),
        (lambda d: d["treatments"][0].update(product=None), ": treatments[0]: product: must be text"),
        (lambda d: d["treatments"][0].update(date="20/11/2026"), ": treatments[0]: date: the date"),
        (lambda d: d["treatments"].append("lips"), ": treatments[1]: entry: must be an object"),
        (
            lambda d: d["treatments"][0].update(injector_waits={"lips": "two days"}),
            ": treatments[0]: injector_waits.lips: must look like 14d or 24h",
        ),
        (
            lambda d: d["treatments"][0].update(injector_waits={"lips": 2}),
            ": treatments[0]: injector_waits.lips: must be text",
        ),
        (
            lambda d: d["treatments"][0].update(injector_waits={"chin": "2d"}),
            ": treatments[0]: an injector's wait for chin, which the treatment",
        ),
        (
            lambda d: d.update(caution_mm=99, margin_mm=5, caution_band_mm=10),
            ": plan: caution_mm: must equal",
        ),
    ],
)
def test_every_bad_field_is_named(tmp_path, edit, expected) -> None:
    document = good_document()
    edit(document)
    assert expected in refusal(tmp_path, document)


def test_a_refused_file_keeps_the_last_good_plan(tmp_path) -> None:
    document = good_document()
    document["treatment"] = document.pop("treatments")
    current = Plan((parse_treatment("lips=ha_filler@2026-11-20"),), "hands", TODAY)
    kept, error = load_plan_or_keep(write(tmp_path, document), current, catalogue=CATALOGUE)
    assert kept is current and "did you mean 'treatments'" in error and "previous plan is kept" in error


def test_version_1_files_still_load(tmp_path) -> None:
    """Plans saved before version 2: caution_mm (where the band ended) becomes a band at least as wide."""
    v1 = {
        "version": 1,
        "method": "tools",
        "treatments": [{"areas": ["chin"], "product": "ha_filler", "date": "2026-11-20T10:15"}],
        "margin_mm": 8.0,
        "caution_mm": 20.0,
        "today": "2026-11-22",
    }
    plan = load_plan(write(tmp_path, v1), catalogue=CATALOGUE)
    assert (plan.method, plan.margin_mm, plan.caution_band_mm, plan.caution_mm) == ("tools", 8.0, 12.0, 20.0)
    assert plan.treatments[0].has_time and plan.today == TODAY
    with pytest.raises(PlanError, match="screening: unknown field"):
        plan_from_json({**v1, "screening": {}}, where="old.json")


def test_every_field_round_trips(tmp_path) -> None:
    plan = Plan(
        (
            Treatment(
                ("lips", "chin"),
                "ha_filler",
                datetime(2026, 11, 20),
                injector_waits={"lips": Span.model_validate("2d")},
            ),
            Treatment(("forehead",), "botox", datetime(2026, 11, 21, 9, 30), True),
            Treatment(
                ("cheek_left",),
                "plla",
                date(2026, 11, 1),
                injector_waits={"cheek_left": Span.model_validate("36h")},
            ),
        ),
        "microcurrent",
        datetime(2026, 11, 22, 8, 15),
        margin_mm=12.5,
        caution_band_mm=7.0,
        screening={"heart": False, "skin": True},
    )
    path = save_plan(plan, tmp_path / "p.json", include_today=True)
    document = json.loads(path.read_text())
    assert document["version"] == PLAN_VERSION == 2
    assert document["screening"] == {"heart": "no", "skin": "yes"}
    assert document["treatments"][0]["injector_waits"] == {"lips": "2d"}
    assert document["caution_mm"] == 19.5, "kept for readers of version 1: where the band ends"
    loaded = load_plan(path, catalogue=CATALOGUE)
    assert loaded == plan and hash(loaded) == hash(plan)
    assert loaded.treatments[0].injector_wait("lips").delta == timedelta(days=2)
    assert loaded.treatments[0].injector_wait("chin") is None


AREAS = CATALOGUE.area_ids
waits = st.builds(
    lambda amount, unit: Span(amount=amount, unit=unit), st.integers(0, 400), st.sampled_from("hd")
)


@st.composite
def treatments(draw) -> Treatment:
    areas = draw(st.lists(st.sampled_from(AREAS), min_size=1, max_size=4, unique=True))
    product = draw(st.sampled_from(CATALOGUE.product_ids()))
    days_ago = draw(st.integers(0, 60))
    minutes = draw(st.one_of(st.none(), st.integers(1, 23 * 60)))
    day = datetime.combine(TODAY - timedelta(days=days_ago + (1 if minutes else 0)), datetime.min.time())
    when = day + timedelta(minutes=minutes) if minutes else day
    given_waits = draw(st.dictionaries(st.sampled_from(areas), waits, max_size=len(areas)))
    return Treatment(tuple(areas), product, when, minutes is not None, injector_waits=given_waits)


millimetres = st.one_of(
    st.none(), st.integers(0, 80).map(float), st.floats(0, 100, allow_nan=False).map(lambda v: round(v, 2))
)
plans = st.builds(
    Plan,
    st.lists(treatments(), max_size=4).map(tuple),
    st.sampled_from(CATALOGUE.method_ids()),
    st.just(TODAY),
    millimetres,
    millimetres,
    st.dictionaries(st.sampled_from(CATALOGUE.question_ids), st.booleans()),
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(plan=plans)
def test_random_plans_round_trip(tmp_path, plan: Plan) -> None:
    path = save_plan(plan, tmp_path / "random.json")
    assert load_plan(path, today=TODAY, catalogue=CATALOGUE) == plan


def test_cli_style_answers_and_injector_waits(tmp_path) -> None:
    assert parse_screen("heart=yes") == ("heart", True) and parse_screen(" skin = No ") == ("skin", False)
    for bad in ("heart", "heart=maybe", "=yes"):
        with pytest.raises(PlanError, match="--screen"):
            parse_screen(bad)
    area, wait = parse_injector_wait("lips=2d")
    assert area == "lips" and wait.delta == timedelta(days=2)
    with pytest.raises(PlanError, match="--injector-wait 'lips=soon'"):
        parse_injector_wait("lips=soon")
    saved = save_plan(
        Plan((parse_treatment("lips=ha_filler@2026-11-01"),), "hands", TODAY, screening={"heart": False}),
        tmp_path / "p.json",
    )
    plan = build_plan(
        ["lips=ha_filler@2026-11-20"], today="2026-11-22", plan_path=saved, catalogue=CATALOGUE,
        screen=["skin=yes"], injector_waits=["lips=3d"], caution_band_mm=5.0, margin_mm=25.0,
    )  # fmt: skip
    assert plan.answers == {"heart": False, "skin": True}
    assert plan.treatments[0].injector_waits == () and plan.treatments[1].injector_wait(
        "lips"
    ).delta == timedelta(days=3)
    assert (plan.margin_mm, plan.caution_band_mm) == (25.0, 5.0)
    with pytest.raises(PlanError, match="no treatment in the plan names 'chin'"):
        build_plan(["lips=ha_filler@2026-11-20"], today="2026-11-22", injector_waits=["chin=2d"])
    with pytest.raises(PlanError, match="unknown screening question 'hearts'"):
        build_plan([], today="2026-11-22", screen=["hearts=no"], catalogue=CATALOGUE)
