"""Safety logic on real faces: which areas are no-touch, until when, and which stroke segments keep clear."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta

import cv2
import numpy as np
import pytest

from zones.catalogue import parse_catalogue
from zones.geometry import GeometryIndex, face_geometry
from zones.plan import Plan, PlanError, Treatment, parse_treatment
from zones.report import face_report
from zones.safety import (
    CAUTION,
    NO_TOUCH,
    SAFE,
    distances_to_polygons,
    evaluate,
    next_safe,
    segment_status,
    timeline,
)

TODAY = date(2026, 11, 22)
CHEEK_LINES = ("mid_cheek", "upper_cheek")


def line_statuses(index: GeometryIndex, statuses: np.ndarray, face: int = 0) -> dict[str, np.ndarray]:
    return dict(zip(index.line_ids, np.split(statuses[face], index.segment_offsets[1:-1]), strict=True))


def filler_plan(today: date | datetime = TODAY, **kwargs) -> Plan:
    return Plan((parse_treatment("nasolabial_left=ha_filler@2026-11-20"),), "hands", today, **kwargs)


@pytest.mark.parametrize("name", ["astronaut", "grace_hopper", "hand_on_face"])
def test_filler_in_the_left_nasolabial_fold_blocks_its_cheek_lines_only(
    zone_sample_faces, catalogue, index, name
) -> None:
    safety = evaluate(filler_plan(), catalogue)
    verdict = safety.verdict("nasolabial_left")
    assert verdict.status == NO_TOUCH and verdict.safe_from == datetime(2026, 12, 4)
    assert (verdict.safe_from.date() - TODAY).days == 12
    assert verdict.rule is not None and verdict.decided_by == "catalogue"
    assert verdict.evidence and all(e.address and e.grade for e in verdict.evidence)
    assert safety.area_ids[int(np.flatnonzero(safety.area_status == NO_TOUCH)[0])] == "nasolabial_left"
    assert int((safety.area_status == NO_TOUCH).sum()) == 1

    statuses = segment_status(face_geometry(zone_sample_faces[name][1], index), safety)
    by_line = line_statuses(index, statuses)
    for line in CHEEK_LINES:
        assert (by_line[f"{line}_left"] == NO_TOUCH).any(), f"{name}: {line}_left passes the filler untouched"
        assert (by_line[f"{line}_left"] == SAFE).any(), f"{name}: all of {line}_left is blocked"
    assert (by_line["upper_lip_left"] == NO_TOUCH).any(), "the upper lip stroke ends beside the treated fold"
    for line_id, status in by_line.items():
        if line_id.endswith("_right"):
            assert not (status == NO_TOUCH).any(), f"{name}: {line_id} is blocked"
            if not line_id.startswith("upper_lip"):  # starts on the midline, in the treated fold's band
                assert (status == SAFE).all(), f"{name}: {line_id} is not safe"
    assert (by_line["forehead_left"] == SAFE).all() and (by_line["brow_left"] == SAFE).all()
    assert not (by_line["neck_left"] == NO_TOUCH).any()


def test_thirty_days_later_all_is_safe(zone_sample_faces, catalogue, index) -> None:
    safety = evaluate(filler_plan(TODAY + timedelta(days=30)), catalogue)
    assert (safety.area_status == SAFE).all()
    verdict = safety.verdict("nasolabial_left")
    assert verdict.safe_from == datetime(2026, 12, 4) and "over" in verdict.reason
    statuses = segment_status(face_geometry(zone_sample_faces["grace_hopper"][1], index), safety)
    assert (statuses == SAFE).all()
    assert next_safe(safety) is None


def test_a_treated_vessel_rich_area_keeps_extra_care(catalogue, raw_catalogue) -> None:
    """Nasolabial (vessel-rich): no-touch 14 days, caution 2 more, then the 7-day vessel-care tail."""
    for day, expected in ((13, NO_TOUCH), (14, CAUTION), (16, CAUTION), (22, CAUTION), (23, SAFE)):
        verdict = evaluate(filler_plan(date(2026, 11, 20) + timedelta(days=day)), catalogue).verdict(
            "nasolabial_left"
        )
        assert verdict.status == expected, day
        assert verdict.caution_until == datetime(2026, 12, 13)
    assert (
        "vessel-rich"
        in evaluate(filler_plan(date(2026, 12, 10)), catalogue).verdict("nasolabial_left").reason
    )
    cheek = Plan((parse_treatment("cheek_left=ha_filler@2026-11-20"),), "hands", date(2026, 12, 7))
    assert evaluate(cheek, catalogue).verdict("cheek_left").status == SAFE, "no extra care off the vessels"
    always = parse_catalogue(
        {**raw_catalogue, "defaults": {**raw_catalogue["defaults"], "vessel_care": "always"}}
    )
    resting = evaluate(Plan((), "hands", TODAY), always)
    assert {resting.area_ids[a] for a in np.flatnonzero(resting.area_status == CAUTION)} == {
        area.id for area in always.areas if area.vessel_care
    }


def test_the_caution_tail_follows_the_wait(catalogue) -> None:
    rule = catalogue.rule_for("ha_filler", "hands", "cheek_left")
    treated = datetime(2026, 11, 1)
    plan = Plan((Treatment(("cheek_left",), "ha_filler", treated),), "hands", treated.date())
    moments = {
        NO_TOUCH: treated + rule.wait.delta - timedelta(minutes=1),
        CAUTION: treated + rule.wait.delta,
        SAFE: treated + rule.wait.delta + rule.caution_tail.delta,
    }
    for expected, moment in moments.items():
        verdict = evaluate(Plan(plan.treatments, "hands", moment), catalogue).verdict("cheek_left")
        assert verdict.status == expected, moment


def test_botox_in_the_forehead_with_microcurrent(catalogue) -> None:
    """The rule says 48 h: blocked until then, then a caution tail; hands only need 24 h."""
    now = datetime(2026, 11, 22, 14, 30)

    def status(method: str, hours_ago: float, *, with_time: bool = True) -> int:
        treated = now - timedelta(hours=hours_ago)
        when = treated if with_time else datetime.combine(treated.date(), datetime.min.time())
        plan = Plan((Treatment(("forehead",), "botox", when, with_time),), method, now)
        return evaluate(plan, catalogue).verdict("forehead").status

    assert catalogue.rule_for("botox", "microcurrent", "forehead").wait.delta == timedelta(hours=48)
    assert status("microcurrent", 47) == NO_TOUCH
    assert status("microcurrent", 48) == CAUTION
    assert status("hands", 47) == CAUTION
    assert status("microcurrent", 48 + 24 * 6) == SAFE
    # A date without a time: the treatment may have been late that day, so 48 h count from its end.
    assert status("microcurrent", 48, with_time=False) == NO_TOUCH
    plan = Plan((parse_treatment("forehead=botox@2026-11-20"),), "microcurrent", date(2026, 11, 22))
    verdict = evaluate(plan, catalogue).verdict("forehead")
    assert verdict.status == NO_TOUCH and verdict.safe_from == datetime(2026, 11, 23)
    assert any("48 h" in e.figure for e in verdict.evidence) and verdict.note


def test_plla_prescribes_massage_instead(zone_sample_faces, catalogue, index) -> None:
    plan = Plan((parse_treatment("cheek_left,cheek_right=plla@2026-11-20"),), "hands", TODAY)
    safety = evaluate(plan, catalogue)
    verdict = safety.verdict("cheek_left")
    assert verdict.status == SAFE and verdict.prescribed is not None
    assert (verdict.prescribed.minutes, verdict.prescribed.times_per_day, verdict.prescribed.days) == (
        5,
        5,
        5,
    )
    assert "prescribed" in verdict.reason
    statuses = segment_status(face_geometry(zone_sample_faces["astronaut"][1], index), safety)
    assert (statuses == SAFE).all()


def test_margins_follow_the_plan_override(zone_sample_faces, catalogue, index) -> None:
    geometry = face_geometry(zone_sample_faces["grace_hopper"][1], index)
    counts = []
    for margin in (0.0, 5.0, 10.0, 25.0):
        safety = evaluate(filler_plan(margin_mm=margin, caution_band_mm=10.0), catalogue)
        assert set(safety.margins_mm) == {margin}
        counts.append(int((segment_status(geometry, safety) == NO_TOUCH).sum()))
    assert counts == sorted(counts) and counts[0] < counts[-1]
    assert counts[0] > 0, "a stroke crossing the treated area is blocked even with no margin"


def test_the_latest_and_strictest_treatment_wins(catalogue) -> None:
    plan = Plan(
        (parse_treatment("lips=ha_filler@2026-10-01"), parse_treatment("lips,chin=ha_filler@2026-11-21")),
        "tools",
        TODAY,
    )
    safety = evaluate(plan, catalogue)
    assert safety.verdict("lips").safe_from == datetime(2026, 12, 5)
    assert next_safe(safety) == ("chin", datetime(2026, 12, 5))


def test_timeline_gives_every_method(catalogue) -> None:
    entries = timeline(filler_plan(), catalogue)
    by_method = {e.method: e for e in entries}
    assert set(by_method) == {"hands", "tools", "microcurrent"}
    assert by_method["hands"].safe_from == datetime(2026, 12, 4)
    assert by_method["microcurrent"].safe_from == datetime(2026, 11, 27)
    assert all(e.area_id == "nasolabial_left" and e.status_today == NO_TOUCH for e in entries)


def test_timeline_gives_each_area_its_strictest_verdict(catalogue) -> None:
    """Two treatments on one area: one entry per method, dated from the later one, as ``evaluate`` says."""
    treated = ("lips=ha_filler@2026-11-01", "lips,chin=ha_filler@2026-11-15")
    plan = Plan(tuple(map(parse_treatment, treated)), "hands", TODAY)
    entries = timeline(plan, catalogue)
    assert [(e.area_id, e.method) for e in entries[:2]] == [("lips", "hands"), ("chin", "hands")]
    lips = next(e for e in entries if (e.area_id, e.method) == ("lips", "hands"))
    assert lips.treated_at == datetime(2026, 11, 15)
    assert lips.safe_from == evaluate(plan, catalogue).verdict("lips").safe_from == datetime(2026, 11, 29)
    assert len(entries) == 2 * len(catalogue.methods)


def test_unknown_ids_are_refused_clearly(catalogue) -> None:
    with pytest.raises(PlanError, match=r"unknown area 'nasolabial'.*known areas: forehead"):
        evaluate(Plan((parse_treatment("nasolabial=ha_filler@2026-11-20"),), "hands", TODAY), catalogue)
    with pytest.raises(PlanError, match="unknown product 'juvederm'"):
        evaluate(Plan((parse_treatment("lips=juvederm@2026-11-20"),), "hands", TODAY), catalogue)
    with pytest.raises(PlanError, match="unknown method 'laser'"):
        evaluate(Plan((), "laser", TODAY), catalogue)


def test_evaluation_is_cached_per_plan(catalogue) -> None:
    assert evaluate(filler_plan(), catalogue) is evaluate(filler_plan(), catalogue)


def test_distances_match_opencv(catalogue) -> None:
    rng = np.random.default_rng(5)
    angles = np.sort(rng.uniform(0, 2 * np.pi, 30))
    star = (np.stack([np.cos(angles), np.sin(angles)], 1) * rng.uniform(20, 60, (30, 1)) + 100).astype(
        np.float32
    )
    square = np.array([[200, 200], [260, 200], [260, 260], [200, 260]], np.float32)
    outlines = np.concatenate([star, square])
    starts = np.arange(len(outlines))
    ends = np.concatenate([np.roll(np.arange(30), -1), 30 + np.roll(np.arange(4), -1)])
    points = rng.uniform(0, 300, (1, 3000, 2)).astype(np.float32)
    got = distances_to_polygons(points, outlines[None, starts], outlines[None, ends], np.array([0, 30, 34]))
    for n, polygon in enumerate((star, square)):
        signed = np.array([cv2.pointPolygonTest(polygon, tuple(map(float, p)), True) for p in points[0]])
        np.testing.assert_allclose(got[0, :, n], np.maximum(-signed, 0.0), atol=1e-2)


def test_mirrored_view_keeps_the_subjects_sides(zone_sample_faces, catalogue, index) -> None:
    faces = zone_sample_faces["grace_hopper"][1]
    safety = evaluate(filler_plan(), catalogue)
    plain = segment_status(face_geometry(faces, index), safety)
    both = segment_status(
        face_geometry(np.concatenate([faces.landmarks, faces.mirror().landmarks]), index), safety
    )
    np.testing.assert_array_equal(both[0], plain[0])
    np.testing.assert_array_equal(both[1], plain[0])


def test_face_report_is_json_in_frame_pixels(zone_sample_faces, catalogue, index) -> None:
    faces = zone_sample_faces["astronaut"][1].mirror()
    geometry = face_geometry(faces, index)
    safety = evaluate(filler_plan(), catalogue)
    report = json.loads(
        json.dumps(face_report(geometry, safety, segment_status(geometry, safety), 0, catalogue))
    )
    zones = {z["id"]: z for z in report["zones"]}
    assert set(zones) == set(index.area_ids)
    zone = zones["nasolabial_left"]
    assert set(zone) == {
        "id",
        "label",
        "kind",
        "side",
        "status",
        "safe_from",
        "reason",
        "polygon",
        "verdict",
        "visible_fraction",
        "visible",
    }
    assert (zone["status"], zone["safe_from"], zone["side"]) == ("no_touch", "2026-12-04", "left")
    outline = catalogue.areas[catalogue.area_index("nasolabial_left")].outline
    np.testing.assert_allclose(zone["polygon"], faces.landmarks[0, list(outline), :2], atol=0.06)
    assert zones["lips"]["safe_from"] is None and zones["lips"]["status"] == "safe"
    for stroke in report["strokes"]:
        assert set(stroke) == {"id", "label", "step", "points", "segment_status", "segment_visible"}
        assert len(stroke["segment_visible"]) == len(stroke["segment_status"])
        assert len(stroke["segment_status"]) == len(stroke["points"]) - 1
        assert set(stroke["segment_status"]) <= {"safe", "caution", "no_touch"}
    strokes = {s["id"]: s for s in report["strokes"]}
    assert "no_touch" in strokes["mid_cheek_left"]["segment_status"]
    # mirrored view: the subject's left cheek line is drawn on the image's left half
    assert np.mean(np.asarray(strokes["mid_cheek_left"]["points"])[:, 0]) < faces.landmarks[0, 4, 0]
