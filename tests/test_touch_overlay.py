"""The touch layers on the hand photo: the touched area flashes (only where it is drawn), a banner names it,
tips get dots."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime

import cv2
import numpy as np
import pytest

from overlays.layout import paste_all
from overlays.scene import SceneData
from overlays.style import CAUTION_AMBER, NO_TOUCH_RED
from overlays.touch import TouchAnnotator, TouchBannerAnnotator
from pipeline import Settings, pipeline_for
from vision.faces import Faces
from vision.hands import FINGERTIPS, HandDetector, Hands
from zones.plan import Plan, Treatment
from zones.touch import TouchGuard, TouchHits, TouchReport, no_touch_hits


@pytest.fixture(scope="module")
def scene_parts(zone_sample_faces):
    """(image, the pipeline's record with the forehead treated, hits of the real hand, hands) on the hand
    photo."""
    image, faces = zone_sample_faces["hand_on_face"]
    with HandDetector() as detector:
        hands = detector.detect(image, color="bgr")
    plan = Plan((Treatment(("forehead",), "ha_filler", datetime(2026, 11, 20)),), "hands", date(2026, 11, 22))
    data = pipeline_for(Settings(plan=plan)).analyse(faces)
    return image, data, no_touch_hits(hands, data.geometry, data.safety, data.area_shown), hands


def touch_layers(image: np.ndarray, data: SceneData, report: TouchReport) -> np.ndarray:
    """A copy of ``image`` with the flash and dots, then the banner, of ``report`` drawn from the record."""
    shown = replace(data, touch=report)
    return TouchBannerAnnotator().annotate(TouchAnnotator().annotate(image.copy(), shown), shown)


def interior(data: SceneData, face: int, area: str) -> np.ndarray:
    """``(H, W) bool`` the area's outline on ``face`` shrunk by 8 px, away from outline strokes."""
    width, height = data.frame_size
    mask = np.zeros((height, width), np.uint8)
    outline = data.geometry.polygons(face)[data.geometry.area_ids.index(area)]
    cv2.fillPoly(mask, [np.rint(outline).astype(np.int32)], 1)
    return cv2.erode(mask, np.ones((17, 17), np.uint8)).astype(bool)


def forehead_interior(data: SceneData, hits: TouchHits) -> np.ndarray:
    """``(H, W) bool`` the forehead's interior (``interior``), away from finger dots too."""
    mask = interior(data, 0, "forehead").astype(np.uint8)
    for x, y in np.rint(hits.points).astype(int):
        cv2.circle(mask, (int(x), int(y)), 30, 0, -1)
    return mask.astype(bool)


def redness(image: np.ndarray, where: np.ndarray) -> float:
    pixels = image[where].astype(np.float32)
    return float(np.mean(pixels[:, 2] - 0.5 * (pixels[:, 0] + pixels[:, 1])))


def colour_share(image: np.ndarray, color: tuple[int, int, int], rows: slice) -> float:
    return float(np.mean(np.all(image[rows] == np.array(color, np.uint8), axis=-1)))


def test_touched_area_flashes_then_keeps_its_outline(scene_parts) -> None:
    image, data, hits, _ = scene_parts
    guard = TouchGuard(data.geometry.area_ids, data.geometry.index.area_labels)
    annotator = TouchAnnotator(blink_ms=250)
    interior = forehead_interior(data, hits)
    assert interior.sum() > 500
    on = annotator.annotate(image.copy(), replace(data, touch=guard.update(hits, 1000)))
    off_report = guard.update(hits, 1250)
    assert annotator.flash_on(off_report)[data.geometry.area_ids.index("forehead")] == np.False_
    off = annotator.annotate(image.copy(), replace(data, touch=off_report))
    assert redness(on, interior) > redness(image, interior) + 60
    assert np.array_equal(off[interior], image[interior])  # dark phase: the skin shows through
    assert not np.array_equal(off, image)  # ... but the outline and dots remain
    back_on = annotator.annotate(image.copy(), replace(data, touch=guard.update(hits, 1500)))
    assert np.array_equal(back_on[interior], on[interior])


def test_banner_names_the_area_and_dots_mark_the_fingertips(scene_parts) -> None:
    image, data, hits, hands = scene_parts
    report = TouchGuard(data.geometry.area_ids, data.geometry.index.area_labels).update(hits, 0)
    out = touch_layers(image, data, report)
    assert colour_share(out, NO_TOUCH_RED, slice(0, 80)) > 0.1  # the red banner across the top
    assert colour_share(image, NO_TOUCH_RED, slice(0, 80)) == 0.0
    tips = np.rint(hands.landmarks[0, FINGERTIPS, :2]).astype(int)
    changed = np.any(out[tips[:, 1], tips[:, 0]] != image[tips[:, 1], tips[:, 0]], axis=1)
    assert changed.all()


def test_the_flash_lights_the_plan_face_only(two_people) -> None:
    """His hand photo beside Grace Hopper, the plan hers, her forehead touched: her forehead flashes, his
    (drawn with "no plan") does not."""
    image, faces, _ = two_people
    plan = Plan((Treatment(("forehead",), "ha_filler", datetime(2026, 11, 20)),), "hands", date(2026, 11, 22))
    data = pipeline_for(Settings(plan=plan, face=1)).analyse(faces)
    forehead = data.geometry.area_ids.index("forehead")
    flags = np.zeros((1, 1, len(data.geometry.area_ids)), bool)
    flags[0, 0, forehead] = True
    report = TouchGuard(data.geometry.area_ids).update(TouchHits(np.zeros((1, 2), np.float32), flags), 0)
    out = TouchAnnotator().annotate(image.copy(), replace(data, touch=report))
    his, hers = (interior(data, face, "forehead") for face in (0, 1))
    assert redness(out, hers) > redness(image, hers) + 60
    assert np.array_equal(out[his], image[his])


def test_nothing_drawn_without_hands_or_touches(scene_parts) -> None:
    image, data, _, _ = scene_parts
    nobody = no_touch_hits(Hands.empty(*data.frame_size), data.geometry, data.safety, data.area_shown)
    report = TouchGuard(data.geometry.area_ids).update(nobody, 0)
    assert np.array_equal(touch_layers(image, data, report), image)
    assert np.array_equal(touch_layers(image, data, None), image)  # hands not tracked


def test_hidden_face_gets_its_own_banner(scene_parts) -> None:
    image, data, _, _ = scene_parts
    areas = len(data.geometry.area_ids)
    report = TouchGuard(data.geometry.area_ids).update(TouchHits.none(areas), 0, face_state="hidden")
    faceless = pipeline_for(Settings(plan=data.safety.plan)).analyse(Faces.empty(*data.frame_size))
    out = touch_layers(image, faceless, report)
    assert colour_share(out, CAUTION_AMBER, slice(0, 80)) > 0.1


def test_report_and_scene_from_different_catalogues_are_refused(scene_parts) -> None:
    image, data, hits, _ = scene_parts
    report = TouchGuard(tuple(reversed(data.geometry.area_ids))).update(hits, 0)
    with pytest.raises(ValueError, match="different catalogues"):
        TouchAnnotator().annotate(image.copy(), replace(data, touch=report))


def test_touched_areas_blink_in_step_and_a_new_touch_lights_up_at_once() -> None:
    guard, annotator = TouchGuard(["forehead", "lips", "chin"]), TouchAnnotator(blink_ms=250)

    def frame(t: float, *flags: bool) -> list[bool]:
        hits = TouchHits(np.zeros((3, 2), np.float32), np.diag(np.array(flags))[None])
        return annotator.flash_on(guard.update(hits, t)).tolist()

    assert frame(0, True, False, False) == [True, False, False]
    assert frame(260, True, False, False) == [False, False, False]  # dark half
    assert frame(300, True, True, False) == [True, True, False]  # lips enters: both light up together
    assert frame(560, True, True, False) == [False, False, False]
    assert frame(800, True, True, False) == [True, True, False]


@pytest.mark.parametrize(("panel", "where"), [((0, 0, 600, 200), "beside"), ((0, 0, 1200, 200), "below")])
def test_banner_keeps_clear_of_the_legend(scene_parts, panel, where) -> None:
    image, data, hits, _ = scene_parts
    report = TouchGuard(data.geometry.area_ids, data.geometry.index.area_labels).update(hits, 0)
    placed = TouchBannerAnnotator().place(replace(data, touch=report), np.array([panel], np.float32))
    out = paste_all(np.zeros_like(image), placed)
    ys, xs = np.nonzero(np.all(out == np.array(NO_TOUCH_RED, np.uint8), axis=-1))
    assert len(xs) > 1000
    _, _, right, bottom = panel
    assert not np.any((xs < right) & (ys < bottom))  # nothing under the panel
    assert (ys.min() < bottom) == (where == "beside")
