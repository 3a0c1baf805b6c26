"""The touch guard against the catalogue's real outlines: the hand-on-forehead photo, portraits without a
hand, the sample clip where a hand covers the nose and eyes; only areas drawn are guarded (the plan's face,
what the camera sees): the hand photo beside a second person, a turned head."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime

import cv2
import numpy as np
import pytest

from pipeline import Settings, pipeline_for
from vision.assets import SAMPLE_CLIP, TURNED_FACE, ensure
from vision.faces import Faces
from vision.finder import FaceFinder
from vision.hands import TOUCH_LANDMARKS, HandDetector, HandOptions, Hands, HandTracker
from vision.io import read_image
from vision.landmarker import FaceTracker
from zones.geometry import GeometryIndex, face_geometry
from zones.plan import Plan, Treatment
from zones.safety import SafetyMap, evaluate
from zones.touch import FaceHold, TouchGuard, TouchHits, no_touch_hits

TODAY = date(2026, 11, 22)
UPPER_FACE = {"forehead", "glabella", "temple_left", "temple_right", "crows_feet_left", "crows_feet_right"}


@pytest.fixture(scope="module")
def sample_hands(zone_sample_faces) -> dict[str, Hands]:
    """name -> the hands MediaPipe finds in each of the conftest's sample images."""
    with HandDetector() as detector:
        return {name: detector.detect(image, color="bgr") for name, (image, _) in zone_sample_faces.items()}


def plan_for(
    areas: tuple[str, ...],
    product: str = "ha_filler",
    treated: datetime = datetime(2026, 11, 20),
    today: date | datetime = TODAY,
) -> Plan:
    return Plan((Treatment(areas, product, treated),) if areas else (), "hands", today)


def hits_on(hands: Hands, faces: Faces, index: GeometryIndex, safety: SafetyMap) -> TouchHits:
    """The hit test on a photo's one face (the plan's), as drawn: the areas the camera sees on it."""
    geometry = face_geometry(faces, index)
    return no_touch_hits(hands, geometry, safety, geometry.area_visible)


def touched(hits: TouchHits, index: GeometryIndex) -> set[str]:
    return {index.area_ids[a] for a in np.flatnonzero(hits.areas)}


@pytest.mark.parametrize(
    ("product", "treated", "today"),
    [
        ("ha_filler", datetime(2026, 11, 20), TODAY),  # 2 of 14 days
        ("botox", datetime(2026, 11, 22, 9, 0), datetime(2026, 11, 22, 15, 0)),  # 6 of 24 hours
    ],
)
def test_hand_on_the_treated_forehead_fires(
    zone_sample_faces, sample_hands, catalogue, index, product, treated, today
) -> None:
    _, faces = zone_sample_faces["hand_on_face"]
    safety = evaluate(plan_for(("forehead",), product, treated, today), catalogue)
    hits = hits_on(sample_hands["hand_on_face"], faces, index, safety)
    assert touched(hits, index) == {"forehead"}
    report = TouchGuard(index.area_ids, index.area_labels).update(hits, 0)
    assert report.active_labels == ("Forehead",)
    [row] = report.as_json()
    assert row["area"] == "forehead" and row["active"] and row["count"] == 1 and row["fingers"]


@pytest.mark.parametrize("treated", [(), ("lips", "chin", "nasolabial_right", "nasolabial_left")])
def test_hand_on_an_untreated_forehead_does_not_fire(
    zone_sample_faces, sample_hands, catalogue, index, treated
) -> None:
    _, faces = zone_sample_faces["hand_on_face"]
    safety = evaluate(plan_for(treated), catalogue)
    hits = hits_on(sample_hands["hand_on_face"], faces, index, safety)
    assert len(sample_hands["hand_on_face"]) == 1  # the hand is there, on skin that is not treated
    assert not hits.point_hits.any()


def test_hand_on_the_forehead_only_fires_where_it_lies_when_everything_is_treated(
    zone_sample_faces, sample_hands, catalogue, index
) -> None:
    _, faces = zone_sample_faces["hand_on_face"]
    safety = evaluate(plan_for(index.area_ids), catalogue)
    hits = hits_on(sample_hands["hand_on_face"], faces, index, safety)
    found = touched(hits, index)
    assert "forehead" in found
    assert found <= UPPER_FACE


@pytest.mark.parametrize("name", ["astronaut", "grace_hopper"])
def test_a_face_without_a_hand_never_fires(zone_sample_faces, sample_hands, catalogue, index, name) -> None:
    _, faces = zone_sample_faces[name]
    safety = evaluate(plan_for(index.area_ids), catalogue)
    hits = hits_on(sample_hands[name], faces, index, safety)
    report = TouchGuard(index.area_ids).update(hits, 0)
    assert len(sample_hands[name]) == 0 and not report.active.any() and report.as_json() == []


def test_hit_test_agrees_with_opencv_on_real_outlines(zone_sample_faces, catalogue, index) -> None:
    """Random points around a real face against OpenCV's signed distance to each treated outline."""
    _, faces = zone_sample_faces["grace_hopper"]
    treated = ("forehead", "lips", "nasolabial_left", "tear_trough_right")
    safety = evaluate(plan_for(treated), catalogue)
    geometry = face_geometry(faces, index)
    x0, y0, x1, y1 = geometry.boxes[0]
    rng = np.random.default_rng(3)
    points = rng.uniform((x0, y0), (x1, y1), (1000, 2)).astype(np.float32)
    landmarks = np.zeros((100, 21, 3), np.float32)  # 100 made-up hands whose touch points are those points
    landmarks[:, TOUCH_LANDMARKS, :2] = points.reshape(100, 10, 2)
    hands = Hands(landmarks, np.ones(100, np.float32), ("Right",) * 100, faces.image_size)
    hits = no_touch_hits(hands, geometry, safety, geometry.area_visible).point_hits[0]  # (T, A)
    margin_px = float(safety.margins_mm[0] * geometry.px_per_mm[0])
    polygons = geometry.polygons(0)
    for area in treated:
        a = index.area_ids.index(area)
        contour = polygons[a].reshape(-1, 1, 2)
        signed = np.array([cv2.pointPolygonTest(contour, (float(x), float(y)), True) for x, y in points])
        clear = np.abs(signed + margin_px) > 1e-2
        assert np.array_equal(hits[clear, a], signed[clear] >= -margin_px), area
        assert 0 < hits[:, a].sum() < len(points)
    others = [a for a, area in enumerate(index.area_ids) if area not in treated]
    assert not hits[:, others].any()


def test_geometry_and_safety_map_of_other_catalogues_are_refused(zone_sample_faces, catalogue, index) -> None:
    _, faces = zone_sample_faces["grace_hopper"]
    safety = evaluate(plan_for(("forehead",)), catalogue)
    fewer = SafetyMap(**{**vars(safety), "area_ids": safety.area_ids[:-1]})
    with pytest.raises(ValueError, match="different catalogues"):
        hits_on(Hands.empty(*faces.image_size), faces, index, fewer)


def test_a_hand_over_the_face_without_the_plan_raises_nothing(two_people, catalogue) -> None:
    """His hand on his forehead, the forehead treated: a warning when the plan is his, none when it is hers
    (his face is drawn with "no plan": the plan's zones are not on it)."""
    _, faces, hands = two_people
    plan = plan_for(("forehead",))
    his = pipeline_for(Settings(plan=plan, face=0)).analyse(faces, hands)
    hers = pipeline_for(Settings(plan=plan, face=1)).analyse(faces, hands)
    assert his.touch is not None and his.touch.active_labels == ("Forehead",)
    assert hers.touch is not None and not hers.touch.active.any() and hers.touch.as_json() == []


def test_a_fingertip_where_a_hidden_far_side_area_lies_raises_nothing(catalogue, index) -> None:
    """A head turned 40-45 degrees, its far cheek and tear trough treated: those areas are hidden (their
    outlines fall on the nose and the profile, over the near face). Fingertips on those outlines, which the
    hit test alone finds inside them, raise no warning."""
    image = read_image(ensure(TURNED_FACE))
    with FaceFinder() as finder:
        faces = finder.find(image, color="bgr").faces
    far = ("tear_trough_right", "cheek_right")
    pipeline = pipeline_for(Settings(plan=plan_for(far)))
    areas = [index.area_ids.index(area) for area in far]
    geometry = pipeline.analyse(faces).geometry
    outline = np.concatenate([geometry.polygons(0)[a] for a in areas])
    landmarks = np.zeros((1, 21, 3), np.float32)  # a made-up hand: its 10 touch points on those outlines
    landmarks[0, TOUCH_LANDMARKS, :2] = outline[np.linspace(0, len(outline) - 1, 10).astype(int)]
    hand = Hands(landmarks, np.ones(1, np.float32), ("Right",), faces.image_size)
    everywhere = np.ones((1, index.num_areas), bool)
    assert touched(no_touch_hits(hand, geometry, pipeline.safety, everywhere), index) == set(far)
    data = pipeline.analyse(faces, hand)
    assert data.guided[0] and not data.area_shown[0, areas].any(), "the plan's face, its far side not drawn"
    assert data.touch is not None and not data.touch.active.any()


def clip_frames(first: int, last: int) -> Iterator[tuple[int, np.ndarray]]:
    capture = cv2.VideoCapture(str(ensure(SAMPLE_CLIP)))
    try:
        for number in range(last):
            ok, frame = capture.read()
            if not ok:
                return
            if number >= first:
                yield number, cv2.resize(frame, (640, 480))
    finally:
        capture.release()


def test_clip_hand_over_the_treated_nose_warns_steadily(catalogue, index) -> None:
    """Frames 50-180 of the sample clip: the hand rises to the face around frame 58 and covers nose and eyes
    from about frame 90; the face landmarker loses the face now and then while the hand is on it."""
    safety = evaluate(plan_for(("nose",)), catalogue)
    nose = index.area_ids.index("nose")
    guard, hold = TouchGuard(index.area_ids, index.area_labels), FaceHold[Faces]()
    raw, warned, states = [], [], []
    with FaceTracker() as faces_tracker, HandTracker(HandOptions(stride=2)) as hands_tracker:
        for number, frame in clip_frames(50, 180):
            stamp = round(number * 1000 / 24) + 1
            held = hold.update(faces_tracker.track(frame, stamp, color="bgr"), stamp)
            hands = hands_tracker.track(frame, stamp, color="bgr")
            hits = hits_on(hands, held.value, index, safety)
            report = guard.update(hits, stamp, held.state)
            raw.append(bool(hits.areas[nose]))
            warned.append(bool(report.active[nose]))
            states.append(held.state)
    assert not any(warned[:8])  # frames 50-57: no hand near the face yet
    assert all(warned[55:65])  # frames 105-114: fingers over the nose
    assert "held" in states and "hidden" not in states  # brief losses of the face are bridged
    raw_onsets = int(np.sum(np.diff(np.asarray(raw, np.int8)) == 1))
    assert report.counts[nose] <= raw_onsets
    assert report.counts[nose] <= 2  # one touch, at most one re-entry: the hysteresis does not flicker
    assert set(report.active_labels) <= set(index.area_labels)
