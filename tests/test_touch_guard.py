"""The touch guard's state: hysteresis over time stamps, touch counts, the JSON rows, the face hold."""

from __future__ import annotations

import numpy as np
import pytest

from zones.touch import FaceHold, TouchGuard, TouchHits


def _hits(*areas: bool) -> TouchHits:
    """Hit flags for one face and one touch point per area (the point at index i touches area i)."""
    flags = np.diag(np.array(areas, bool))[None]  # (1, A, A)
    return TouchHits(points=np.zeros((len(areas), 2), np.float32), point_hits=flags)


def _run(guard: TouchGuard, frames: list[tuple[float, tuple[bool, ...]]]):
    return [guard.update(_hits(*flags), t) for t, flags in frames]


def test_warning_shows_on_the_first_frame_a_fingertip_enters() -> None:
    guard = TouchGuard(["forehead", "lips"])
    reports = _run(guard, [(0, (False, False)), (33, (True, False))])
    assert not reports[0].active.any()
    assert reports[1].active.tolist() == [True, False]  # same frame: 0 ms after entering, well under 100 ms
    assert reports[1].entered_ms[0] == 33 and np.isnan(reports[1].entered_ms[1])
    assert reports[1].active_labels == ("forehead",)


def test_one_missed_frame_neither_flickers_nor_counts_twice() -> None:
    guard = TouchGuard(["forehead"])
    timeline = [(t, (t not in (99, 198),)) for t in range(0, 400, 33)]  # the hand tracker misses two frames
    reports = _run(guard, timeline)
    assert all(r.active[0] for r in reports)
    assert reports[-1].counts.tolist() == [1]
    assert reports[-1].entered_ms[0] == 0


def test_clears_shortly_after_the_fingertip_leaves_and_counts_each_touch_once() -> None:
    guard = TouchGuard(["forehead", "lips"], ["Forehead", "Lips"], release_ms=300)
    touching = _run(guard, [(0, (True, False)), (100, (True, True)), (150, (False, True))])
    assert touching[-1].counts.tolist() == [1, 1]
    quiet = (False, False)
    after = _run(guard, [(200, quiet), (399, quiet), (400, quiet), (450, quiet)])
    assert [r.active.tolist() for r in after] == [[True, True], [True, True], [False, True], [False, False]]
    again = _run(guard, [(500, (True, False)), (1000, quiet), (1500, (True, False))])
    assert [r.counts.tolist() for r in again] == [[2, 1], [2, 1], [3, 1]]
    assert again[-1].as_json() == [
        {"area": "forehead", "label": "Forehead", "active": True, "count": 3, "fingers": ["thumb"]},
        {"area": "lips", "label": "Lips", "active": False, "count": 1, "fingers": []},
    ]


def test_fingers_name_tips_and_pads_of_both_hands() -> None:
    point_hits = np.zeros((1, 20, 1), bool)
    point_hits[0, [1, 17], 0] = True  # first hand's index tip, second hand's middle-finger pad
    hits = TouchHits(points=np.zeros((20, 2), np.float32), point_hits=point_hits)
    report = TouchGuard(["forehead"]).update(hits, 0)
    assert report.as_json()[0]["fingers"] == ["index", "middle"]
    assert report.touching.sum() == 2


def test_guard_refuses_mismatched_areas_and_time_going_back() -> None:
    with pytest.raises(ValueError, match="1 labels for 2 areas"):
        TouchGuard(["forehead", "lips"], ["Forehead"])
    guard = TouchGuard(["forehead", "lips"])
    with pytest.raises(ValueError, match="hits cover 1 areas, the guard 2"):
        guard.update(_hits(True), 0)
    guard.update(_hits(True, False), 100)
    with pytest.raises(ValueError, match="time went back"):
        guard.update(_hits(True, False), 50)
    guard.reset()
    assert guard.update(_hits(False, False), 50).counts.tolist() == [0, 0]


def test_no_hands_means_no_warning() -> None:
    report = TouchGuard(["forehead"]).update(TouchHits.none(1), 0)
    assert not report.active.any() and report.as_json() == []


def test_face_hold_keeps_the_last_face_for_half_a_second_then_says_hidden() -> None:
    hold: FaceHold[list[str]] = FaceHold(hold_ms=500, forget_ms=3000)
    assert hold.update([], 0).state == "absent"
    face = ["geometry"]
    assert hold.update(face, 1000).state == "live"
    for t in (1033, 1250, 1500):
        held = hold.update([], t)
        assert held.state == "held" and held.value is face and held.lost_ms == t - 1000
    hidden = hold.update([], 1533)
    assert hidden.state == "hidden" and hidden.value == []
    assert hold.update([], 4001).state == "absent"
    back = hold.update(["again"], 4033)
    assert back.state == "live" and back.value == ["again"]
