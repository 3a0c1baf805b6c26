"""Fail safe (issue 12): caution propagates, a wide margin never erases the band, screening withholds
guidance, the injector's word wins, and every verdict a rule decides carries sources a user can open."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from zones.catalogue import DEFAULT_CATALOGUE, Span, load_catalogue
from zones.evidence import evidence_rows, footnotes
from zones.geometry import GeometryIndex, face_geometry
from zones.plan import Plan, Treatment, parse_treatment
from zones.safety import (
    CAUTION,
    NO_TOUCH,
    SAFE,
    distances_to_polygons,
    evaluate,
    gated,
    segment_status,
    withhold,
)

TODAY = date(2026, 11, 22)
FACES = ("astronaut", "grace_hopper", "hand_on_face")
CATALOGUE = load_catalogue()
INDEX = GeometryIndex.from_catalogue(CATALOGUE)
SAMPLES_PER_SEGMENT = 9


def by_line(statuses: np.ndarray, face: int = 0) -> dict[str, np.ndarray]:
    return dict(zip(INDEX.line_ids, np.split(statuses[face], INDEX.segment_offsets[1:-1]), strict=True))


def sampled_distances(geometry) -> np.ndarray:
    """(F, S, A) distance from each stroke segment to each area, from points sampled along the segment with
    the point test (checked against OpenCV elsewhere): never below the true distance, so a sound reference."""
    start = INDEX.segment_start
    a, b = geometry.line_points[:, start], geometry.line_points[:, start + 1]
    t = np.linspace(0.0, 1.0, SAMPLES_PER_SEGMENT, dtype=np.float32)[None, None, :, None]
    points = (a[:, :, None] + t * (b - a)[:, :, None]).reshape(len(geometry), -1, 2)
    offsets = INDEX.area_offsets
    starts = np.arange(int(offsets[-1]))
    ends = np.concatenate(
        [np.roll(np.arange(offsets[i], offsets[i + 1]), -1) for i in range(len(offsets) - 1)]
    )
    distance = distances_to_polygons(
        points, geometry.area_points[:, starts], geometry.area_points[:, ends], offsets.astype(np.intp)
    )
    return distance.reshape(len(geometry), -1, SAMPLES_PER_SEGMENT, INDEX.num_areas).min(axis=2)


def assert_never_greener(geometry, safety, statuses: np.ndarray) -> None:
    """No segment is greener than the worst area it passes through or near (within that area's margin); a
    segment within a no-touch area's caution band is at least caution."""
    distance = sampled_distances(geometry)  # (F, S, A)
    scale = geometry.px_per_mm[:, None, None]
    near = distance <= safety.margins_mm[None, None, :] * scale - 1e-3
    in_band = distance <= safety.caution_reach_mm[None, None, :] * scale - 1e-3
    area_status = safety.area_status.astype(np.int32)[None, None, :]
    required = np.maximum(
        np.where(near, area_status, SAFE).max(axis=2),
        np.where(in_band & (area_status == NO_TOUCH), CAUTION, SAFE).max(axis=2),
    )
    greener = statuses.astype(np.int32) < required
    assert not greener.any(), f"{int(greener.sum())} segments greener than the areas they pass near"


# ---------------------------------------------------------------------------------------------------------
# caution propagates
# ---------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", FACES)
@pytest.mark.parametrize("margin", [None, 30.0])
def test_botox_in_the_forehead_three_days_ago_leaves_no_forehead_stroke_safe(zone_sample_faces, name, margin):
    """The defect: forehead strokes over a forehead treated with Botox three days ago were green."""
    plan = Plan((parse_treatment("forehead=botox@2026-11-19"),), "hands", TODAY, margin_mm=margin)
    safety = evaluate(plan, CATALOGUE)
    assert safety.verdict("forehead").status == CAUTION, "24 h wait over, caution tail running"
    lines = by_line(segment_status(face_geometry(zone_sample_faces[name][1], INDEX), safety))
    for line_id in ("forehead_left", "forehead_right"):
        assert not (lines[line_id] == SAFE).any(), f"{name}: a {line_id} segment is safe"
        assert (lines[line_id] == CAUTION).all(), "caution, not blocked: gentle strokes are allowed"


def test_with_no_margin_the_forehead_strokes_are_caution_while_on_the_forehead(zone_sample_faces) -> None:
    plan = Plan((parse_treatment("forehead=botox@2026-11-19"),), "hands", TODAY, margin_mm=0.0)
    safety = evaluate(plan, CATALOGUE)
    for name in FACES:
        geometry = face_geometry(zone_sample_faces[name][1], INDEX)
        statuses = segment_status(geometry, safety)
        on_forehead = sampled_distances(geometry)[0, :, safety.area_ids.index("forehead")] == 0
        assert on_forehead.sum() > 10 and (statuses[0, on_forehead] == CAUTION).all(), name
        assert_never_greener(geometry, safety, statuses)


@pytest.mark.parametrize("margin", [20.0, 25.0, 40.0])
def test_a_wide_margin_never_erases_the_caution_band(zone_sample_faces, margin) -> None:
    """The defect: with a margin of 20 mm or more the caution band (20 mm) vanished."""
    geometry = face_geometry(zone_sample_faces["grace_hopper"][1], INDEX)
    plan = Plan((parse_treatment("nasolabial_left=ha_filler@2026-11-20"),), "hands", TODAY, margin_mm=margin)
    safety = evaluate(plan, CATALOGUE)
    a = safety.area_ids.index("nasolabial_left")
    assert safety.margins_mm[a] == margin and safety.caution_bands_mm[a] == CATALOGUE.defaults.caution_band_mm
    statuses = segment_status(geometry, safety)
    assert (statuses == CAUTION).any(), "the caution band is still there, outside the margin"
    distance = sampled_distances(geometry)[0, :, a] / geometry.px_per_mm[0]
    caution = statuses[0] == CAUTION
    assert distance[caution].min() > margin - 5 and distance[caution].max() <= margin + 10 + 0.5
    assert_never_greener(geometry, safety, statuses)


def test_margin_and_band_are_independent(zone_sample_faces) -> None:
    geometry = face_geometry(zone_sample_faces["astronaut"][1], INDEX)
    treated = (parse_treatment("cheek_left=ha_filler@2026-11-20"),)
    counts = {}
    for band in (0.0, 10.0, 25.0):
        statuses = segment_status(geometry, evaluate(Plan(treated, "hands", TODAY, 10.0, band), CATALOGUE))
        counts[band] = (int((statuses == NO_TOUCH).sum()), int((statuses == CAUTION).sum()))
    assert counts[0.0][0] == counts[10.0][0] == counts[25.0][0], "the band does not move the margin"
    assert counts[0.0][1] == 0 < counts[10.0][1] < counts[25.0][1]


@st.composite
def random_plans(draw) -> Plan:
    treatments = []
    for _ in range(draw(st.integers(0, 4))):
        areas = draw(st.lists(st.sampled_from(CATALOGUE.area_ids), min_size=1, max_size=3, unique=True))
        hours_ago = draw(st.integers(0, 40 * 24))
        with_time = draw(st.booleans())
        when = datetime.combine(TODAY, datetime.min.time()) - timedelta(hours=hours_ago)
        if not with_time:
            when = datetime.combine(when.date(), datetime.min.time())
        waits = {}
        if draw(st.booleans()):
            waits[areas[0]] = Span(amount=draw(st.integers(0, 30)), unit=draw(st.sampled_from("hd")))
        product = draw(st.sampled_from(CATALOGUE.product_ids()))
        treatments.append(Treatment(tuple(areas), product, when, with_time, injector_waits=waits))
    margin = draw(st.one_of(st.none(), st.floats(0, 60)))
    band = draw(st.one_of(st.none(), st.floats(0, 60)))
    method = draw(st.sampled_from(CATALOGUE.method_ids()))
    return Plan(tuple(treatments), method, TODAY, margin, band)


@st.composite
def random_faces(draw, samples) -> np.ndarray:
    """A real sample face, scaled, rotated, moved and jittered landmark by landmark: (1, 478, 3) float32."""
    landmarks = samples[draw(st.sampled_from(FACES))][1].landmarks[:1].astype(np.float64)
    scale = draw(st.floats(0.3, 2.5))
    angle = np.radians(draw(st.floats(-35, 35)))
    shift = np.array([draw(st.floats(-200, 200)), draw(st.floats(-200, 200))])
    jitter = draw(st.floats(0, 4))
    seed = draw(st.integers(0, 2**32 - 1))
    centre = landmarks[0, :, :2].mean(axis=0)
    rotation = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    xy = (landmarks[0, :, :2] - centre) @ rotation.T * scale + centre + shift
    xy += np.random.default_rng(seed).normal(0, jitter, xy.shape)
    out = landmarks.copy()
    out[0, :, :2] = xy
    out[0, :, 2] *= scale
    return out.astype(np.float32)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_no_segment_is_ever_greener_than_the_areas_it_passes(zone_sample_faces, data) -> None:
    plan = data.draw(random_plans())
    landmarks = data.draw(random_faces(zone_sample_faces))
    safety = evaluate(plan, CATALOGUE)
    geometry = face_geometry(landmarks, INDEX)
    assert_never_greener(geometry, safety, segment_status(geometry, safety))


# ---------------------------------------------------------------------------------------------------------
# screening withholds guidance
# ---------------------------------------------------------------------------------------------------------


def test_the_catalogue_asks_the_contraindication_questions() -> None:
    ids = CATALOGUE.question_ids
    assert set(ids) == {"heart", "vessels", "lymph", "skin"}
    for question in CATALOGUE.screening:
        assert question.question.endswith("?") and question.action
        assert all(e.address and e.grade for e in CATALOGUE.evidence(question.sources))
    assert "thrombosis" in CATALOGUE.question("vessels").question
    assert "cancer" in CATALOGUE.question("lymph").question


@pytest.mark.parametrize("question", ["heart", "vessels", "lymph", "skin"])
def test_any_yes_withholds_guidance_and_no_segment_is_safe(zone_sample_faces, question) -> None:
    """The defect: a "yes" only hid the animated guide; the green strokes stayed."""
    answers = {q: q == question for q in CATALOGUE.question_ids}
    plan = Plan((parse_treatment("lips=ha_filler@2026-11-20"),), "hands", TODAY, screening=answers)
    safety = evaluate(plan, CATALOGUE)
    assert safety.withheld and safety.guidance.status == "withheld"
    assert safety.guidance.answered_yes == (question,)
    assert CATALOGUE.question(question).question in safety.guidance.reasons[0]
    assert safety.guidance.actions == (CATALOGUE.question(question).action,)
    assert safety.verdict("lips").status == NO_TOUCH, "treated areas still show"
    for name in FACES:
        statuses = segment_status(face_geometry(zone_sample_faces[name][1], INDEX), safety)
        assert statuses.size and not (statuses == SAFE).any()


def test_all_no_gives_guidance_and_unanswered_questions_are_listed() -> None:
    everything_no = evaluate(
        Plan(today=TODAY, screening=dict.fromkeys(CATALOGUE.question_ids, False)), CATALOGUE
    )
    assert not everything_no.withheld and everything_no.guidance.unanswered == ()
    half = evaluate(Plan(today=TODAY, screening={"heart": False}), CATALOGUE).guidance
    assert not half.withheld and half.unanswered == ("vessels", "lymph", "skin")
    assert half.as_json()["guidance"] == "given"


def test_a_reported_warning_sign_withholds_guidance(zone_sample_faces) -> None:
    safety = evaluate(Plan(today=TODAY), CATALOGUE)
    urgent = CATALOGUE.stop_signs[0]
    paused = withhold(safety, urgent.title, urgent.action)
    geometry = face_geometry(zone_sample_faces["astronaut"][1], INDEX)
    assert (segment_status(geometry, safety) == SAFE).all()
    assert paused.withheld and not (segment_status(geometry, paused) == SAFE).any()
    assert paused.guidance.as_json()["guidance_reasons"] == [urgent.title]


def test_the_front_end_gate_waits_for_answers_and_pauses_on_a_warning_sign(zone_sample_faces) -> None:
    geometry = face_geometry(zone_sample_faces["astronaut"][1], INDEX)
    unanswered = evaluate(Plan(today=TODAY), CATALOGUE)
    assert not gated(unanswered, CATALOGUE).withheld, "the CLI reports unanswered questions, the app asks"
    waiting = gated(unanswered, CATALOGUE, require_answers=True)
    assert waiting.withheld and "not all answered" in waiting.guidance.reasons[0]
    assert not (segment_status(geometry, waiting) == SAFE).any()
    answered = evaluate(Plan(today=TODAY, screening=dict.fromkeys(CATALOGUE.question_ids, False)), CATALOGUE)
    assert not gated(answered, CATALOGUE, require_answers=True).withheld
    paused = gated(answered, CATALOGUE, require_answers=True, warning_sign="urgent")
    assert paused.withheld and paused.guidance.actions == (CATALOGUE.stop_signs[0].action,)
    assert not (segment_status(geometry, paused) == SAFE).any()
    with pytest.raises(ValueError, match="unknown warning sign 'rash'"):
        gated(answered, CATALOGUE, warning_sign="rash")


# ---------------------------------------------------------------------------------------------------------
# stop signs and evidence
# ---------------------------------------------------------------------------------------------------------


def test_stop_signs_are_two_tiers_of_data_with_sources() -> None:
    urgent, inflammatory = CATALOGUE.stop_signs
    assert urgent.level == "urgent" and "urgent" in urgent.title.lower()
    signs = " ".join(urgent.signs).lower()
    for sign in ("white", "blanching", "blue-red", "pain", "vision"):
        assert sign in signs
    assert "emergency" in urgent.action or "urgent" in urgent.action
    grades = {e.grade for e in CATALOGUE.evidence(urgent.sources)}
    assert {"reg", "peer"} <= grades
    assert inflammatory.level == "contact_injector" and "injector" in inflammatory.action
    assert {"Redness", "Swelling", "Burning", "Itching"} <= set(inflammatory.signs)
    assert any("rash" in s.lower() and "hives" in s.lower() for s in inflammatory.signs)
    assert "more than a week" in inflammatory.threshold and "manufacturer" in inflammatory.threshold
    juvederm = CATALOGUE.evidence(inflammatory.sources)[0]
    assert juvederm.grade == "mfr" and juvederm.address == "juvederm.ca/safety-and-side-effects"


def test_no_rule_points_to_hearsay() -> None:
    """The defect: every rule's source read "domain notes: ...", which points to nothing a user can open."""
    text = DEFAULT_CATALOGUE.read_text()
    assert "domain notes" not in text
    for rule in CATALOGUE.rules:
        evidence = CATALOGUE.evidence(rule.sources)
        assert any(e.address for e in evidence), rule.name
        assert all(e.grade in {"mfr", "reg", "peer", "prof", "clinic", "blog"} and e.figure for e in evidence)
    assert CATALOGUE.rule_for("ha_filler", "hands", "cheek_left").range_text == "6 h to 14 days"
    assert CATALOGUE.rule_for("botox", "hands", "forehead").range_text == "4 h to 10 days"


def test_every_verdict_a_rule_decides_lists_an_addressed_graded_source() -> None:
    moments = [TODAY + timedelta(days=d) for d in (0, 3, 10, 16, 25)]
    treated = tuple(
        Treatment(tuple(CATALOGUE.area_ids), product, datetime(2026, 11, 20))
        for product in CATALOGUE.product_ids()
    )
    for method in CATALOGUE.method_ids():
        for today in moments:
            for verdict in evaluate(Plan(treated, method, today), CATALOGUE).verdicts:
                assert verdict.decided_by == "catalogue" and verdict.rule is not None
                assert any(e.address and e.grade for e in verdict.evidence), verdict
                assert verdict.range_text and verdict.rule.name in verdict.explanation
                document = verdict.as_json()
                assert document["sources"] and document["sources"][0]["address"]


def test_the_lips_have_their_own_rule() -> None:
    verdict = evaluate(
        Plan((parse_treatment("lips=ha_filler@2026-11-20"),), "hands", TODAY), CATALOGUE
    ).verdict("lips")
    assert verdict.rule.areas == ("lips",) and verdict.range_text == "0 h to 14 days"
    assert "beautybydrkay.com/posttreatment-care/" in {e.address for e in verdict.evidence}
    assert "injector" in verdict.note


def test_vessel_care_cites_its_sources() -> None:
    plan = Plan((parse_treatment("nasolabial_left=ha_filler@2026-11-20"),), "hands", date(2026, 12, 10))
    verdict = evaluate(plan, CATALOGUE).verdict("nasolabial_left")
    assert verdict.status == CAUTION and "vessel-rich" in verdict.reason
    assert "fda.gov/MedicalDevices/Safety/AlertsandNotices/ucm448255.htm" in {
        e.address for e in verdict.evidence
    }


# ---------------------------------------------------------------------------------------------------------
# the injector's word wins
# ---------------------------------------------------------------------------------------------------------


def test_the_injectors_wait_overrides_the_catalogue_for_that_area(zone_sample_faces) -> None:
    two_days = {"lips": Span.model_validate("2d")}
    treated = Treatment(("lips", "chin"), "ha_filler", datetime(2026, 11, 19), injector_waits=two_days)
    safety = evaluate(Plan((treated,), "hands", TODAY), CATALOGUE)
    lips, chin = safety.verdict("lips"), safety.verdict("chin")
    assert lips.status == SAFE and lips.decided_by == "injector" and lips.safe_from == datetime(2026, 11, 21)
    assert "injector" in lips.reason and "injector's instruction" in lips.explanation
    assert lips.as_json()["decided_by"] == "injector"
    assert chin.status == NO_TOUCH and chin.decided_by == "catalogue", "only the area the injector named"
    longer = Treatment(
        ("cheek_left",),
        "ha_filler",
        datetime(2026, 10, 1),
        injector_waits={"cheek_left": Span.model_validate("60d")},
    )
    verdict = evaluate(Plan((longer,), "hands", TODAY), CATALOGUE).verdict("cheek_left")
    assert verdict.status == NO_TOUCH and verdict.decided_by == "injector", "stricter than the catalogue too"
    assert verdict.safe_from == datetime(2026, 11, 30)
    hours = Treatment(
        ("forehead",), "botox", date(2026, 11, 21), injector_waits={"forehead": Span.model_validate("12h")}
    )
    verdict = evaluate(Plan((hours,), "hands", datetime(2026, 11, 22, 11, 0)), CATALOGUE).verdict("forehead")
    assert verdict.status == NO_TOUCH, "12 h from a date without a time count from the end of that day"


# ---------------------------------------------------------------------------------------------------------
# the sources view and the chart's footnotes
# ---------------------------------------------------------------------------------------------------------


def test_evidence_rows_and_footnotes_cover_every_treated_area() -> None:
    plan = Plan(
        (
            parse_treatment("lips,nasolabial_left=ha_filler@2026-11-20"),
            Treatment(
                ("forehead",),
                "botox",
                datetime(2026, 11, 19),
                injector_waits={"forehead": Span.model_validate("5d")},
            ),
        ),
        "hands",
        TODAY,
    )
    safety = evaluate(plan, CATALOGUE)
    rows = {row.area_id: row for row in evidence_rows(safety, CATALOGUE)}
    assert set(rows) == {"lips", "nasolabial_left", "forehead"}
    assert rows["lips"].rule == "ha_filler/hands on lips" and rows["lips"].range == "0 h to 14 days"
    assert rows["nasolabial_left"].default_wait == "14 days" and rows["nasolabial_left"].sources
    assert (
        rows["forehead"].decided_by == "your injector's instruction"
        and "injector" in rows["forehead"].explanation
    )
    notes = footnotes(safety, CATALOGUE)
    assert notes.injector == ("forehead",)
    assert len({e.source_id for e in notes.sources}) == len(notes.sources), "each source numbered once"
    for area in ("lips", "nasolabial_left"):
        cited = [notes.sources[n - 1].source_id for n in notes.marks[area]]
        assert cited == list(dict.fromkeys(e.source_id for e in rows[area].sources))
    lines = notes.lines()
    assert lines[0].startswith("[1] ") and all(
        e.address in line for e, line in zip(notes.sources, lines, strict=True) if e.address
    )
