"""Pixel-level tests of the overlay annotators on real sample faces (issue 4); every record comes from the
pipeline, as in the app (issue 10)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import cv2
import numpy as np
import pytest

from overlays.areas import ZoneAnnotator
from overlays.compose import FaceZonesAnnotator, OverlayOptions
from overlays.guide import GuideAnnotator
from overlays.hud import HudAnnotator
from overlays.labels import LabelAnnotator, short_label
from overlays.layout import NOTHING_TAKEN
from overlays.legend import LegendAnnotator, status_rows
from overlays.mesh import TESSELATION_EDGES, MeshAnnotator
from overlays.paths import as_complex, head_shifts, offset_vertices
from overlays.scene import SceneData
from overlays.strokes import StrokeAnnotator
from overlays.style import NO_TOUCH_RED, SAFE_GREEN
from pipeline import Settings, pipeline_for
from vision.faces import FaceQuality, Faces
from zones.plan import Plan, parse_treatment
from zones.safety import NO_TOUCH, SAFE
from zones.touch import TouchGuard, TouchHits

TODAY = date(2026, 11, 22)


def plan_of(*treatments: str) -> Plan:
    return Plan(tuple(parse_treatment(t) for t in treatments), "hands", TODAY)


NASOLABIAL_PLAN = plan_of("nasolabial_left=ha_filler@2026-11-20")  # filler 2 days ago: no-touch
MIXED_PLAN = plan_of(
    "nasolabial_left=ha_filler@2026-11-20", "forehead=botox@2026-11-21", "lips=ha_filler@2026-11-07"
)


def record(
    faces: Faces,
    plan: Plan,
    *,
    timestamp_s: float = 0.0,
    current_line: str | None = None,
    fps: float | None = None,
) -> SceneData:
    """The frame's record as the pipeline makes it (shipped catalogue, no selfie flip)."""
    pipeline = pipeline_for(Settings(plan=plan, current_line=current_line))
    return pipeline.analyse(faces, timestamp_ms=timestamp_s * 1000.0, fps=fps)


def scene_for(zone_sample_faces, plan: Plan, name: str = "grace_hopper", **kwargs):
    image, faces = zone_sample_faces[name]
    return image.copy(), record(faces, plan, **kwargs)


def area_mask(data: SceneData, area_id: str, *, grow_px: float = 0.0, shrink_px: int = 0) -> np.ndarray:
    """``(H, W) bool`` inside one area's outline, grown by ``grow_px`` (a disc) or shrunk by ``shrink_px``."""
    width, height = data.frame_size
    mask = np.zeros((height, width), np.uint8)
    outline = data.geometry.polygons(0)[data.geometry.area_ids.index(area_id)]
    cv2.fillPoly(mask, [np.rint(outline).astype(np.int32)], 1)
    if grow_px:
        size = 2 * int(np.ceil(grow_px)) + 1
        mask = cv2.dilate(mask, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (size, size)))
    if shrink_px:
        mask = cv2.erode(mask, np.ones((2 * shrink_px + 1, 2 * shrink_px + 1), np.uint8))
    return mask.astype(bool)


def redness(image: np.ndarray, where: np.ndarray) -> float:
    pixels = image[where].astype(np.float32)
    return float(np.mean(pixels[:, 2] - 0.5 * (pixels[:, 0] + pixels[:, 1])))


def near(image: np.ndarray, color: tuple[int, int, int], tolerance: int) -> np.ndarray:
    return np.abs(image.astype(np.int16) - np.array(color, np.int16)).max(axis=-1) <= tolerance


def test_no_touch_area_is_tinted_hatched_and_outlined(zone_sample_faces) -> None:
    raw, data = scene_for(zone_sample_faces, NASOLABIAL_PLAN)
    assert data.area_status[data.geometry.area_ids.index("nasolabial_left")] == NO_TOUCH
    drawn = ZoneAnnotator().annotate(raw.copy(), data)
    inside = area_mask(data, "nasolabial_left", shrink_px=2)
    assert inside.sum() > 100
    assert redness(drawn, inside) > redness(raw, inside) + 25
    a = data.geometry.area_ids.index("nasolabial_left")
    with_margin = area_mask(data, "nasolabial_left", grow_px=float(data.margins_px[0, a]) - 2)
    # Diagonal hatching over area and margin: pixels on the frame-anchored stripes are clearly darker than
    # their neighbours off them, which they are not in the raw image.
    ys, xs = np.indices(with_margin.shape)
    on_stripe = (xs + ys) % ZoneAnnotator().hatch_spacing < ZoneAnnotator().hatch_thickness
    assert 0.1 < (on_stripe & with_margin).sum() / with_margin.sum() < 0.45

    def darkening(image: np.ndarray) -> float:
        grey = image.astype(np.float32).mean(axis=2)
        return float(grey[~on_stripe & with_margin].mean() - grey[on_stripe & with_margin].mean())

    assert darkening(drawn) > darkening(raw) + 25
    outline = data.geometry.polygons(0)[data.geometry.area_ids.index("nasolabial_left")]
    on_outline = drawn[np.rint(outline[:, 1]).astype(int), np.rint(outline[:, 0]).astype(int)]
    assert np.mean(near(on_outline[None], NO_TOUCH_RED, 60)) > 0.7
    # Far from every treated area (the chin is safe, outside the margin) nothing but a faint outline changes.
    chin = area_mask(data, "chin", shrink_px=4) & ~area_mask(data, "nasolabial_left", grow_px=40)
    assert np.array_equal(drawn[chin], raw[chin])


def test_opacity_sets_the_tint_strength(zone_sample_faces) -> None:
    raw, data = scene_for(zone_sample_faces, NASOLABIAL_PLAN)
    inside = area_mask(data, "nasolabial_left", shrink_px=3)
    faint = ZoneAnnotator(opacity=0.2, hatch_spacing=0).annotate(raw.copy(), data)
    strong = ZoneAnnotator(opacity=0.7, hatch_spacing=0).annotate(raw.copy(), data)
    assert redness(raw, inside) < redness(faint, inside) < redness(strong, inside)
    with pytest.raises(ValueError, match="opacity"):
        ZoneAnnotator(opacity=1.5)


def test_arrowhead_tips_sit_on_segment_ends_pointing_along() -> None:
    points = np.array([[10, 10], [30, 10], [50, 50], [50, 20], [0, 0], [0, 0]], np.float32)
    starts, ends = np.array([0, 2, 4]), np.array([1, 3, 5])
    tips = np.repeat(ends, 4)  # a closed outline per head: tip, base corners, tip
    gather = np.concatenate([tips, np.repeat(starts, 4), tips])
    moved = offset_vertices(as_complex(points), gather, np.tile(head_shifts(8.0, 6.0), 3))
    heads = moved.view(np.float32).reshape(3, 4, 2)
    np.testing.assert_allclose(heads[:, 0], points[ends])
    np.testing.assert_allclose(heads[:, 3], points[ends])
    base_centre = heads[:2, 1:3].mean(axis=1)
    direction = (points[ends] - points[starts])[:2]
    direction /= np.linalg.norm(direction, axis=1, keepdims=True)
    np.testing.assert_allclose(heads[:2, 0] - base_centre, 8.0 * direction, atol=1e-4)
    np.testing.assert_allclose(np.linalg.norm(heads[:2, 1] - heads[:2, 2], axis=1), 6.0, atol=1e-4)
    np.testing.assert_allclose(heads[2], 0.0)  # a zero-length segment collapses onto its tip
    with pytest.raises(ValueError, match=r"\(N, 2\)"):
        as_complex(points[:, :1])


def test_drawn_arrowheads_point_in_the_line_direction(zone_sample_faces) -> None:
    """Across each arrowhead, green is wide near its base and narrow near its tip."""
    _, data = scene_for(zone_sample_faces, plan_of())
    annotator = StrokeAnnotator(halo=False)
    plan = annotator.plan(data, 0)
    points = data.geometry.line_points[0]
    starts, ends = points[plan.arrow_starts], points[plan.arrow_ends]
    canvas = np.full_like(zone_sample_faces["grace_hopper"][0], 128)
    annotator.annotate(canvas, data)
    length = annotator.sizes(float(data.geometry.px_per_mm[0]))[1]
    direction = (ends - starts) / np.linalg.norm(ends - starts, axis=1, keepdims=True)
    normal = np.stack([-direction[:, 1], direction[:, 0]], axis=1)
    across = np.linspace(-length, length, 41)

    def green_width(back: float) -> np.ndarray:
        samples = (ends - direction * back)[:, None, :] + across[None, :, None] * normal[:, None, :]
        pixels = canvas[np.rint(samples[..., 1]).astype(int), np.rint(samples[..., 0]).astype(int)]
        return near(pixels, SAFE_GREEN, 40).sum(axis=1) * (across[1] - across[0])

    assert len(ends) >= 8
    near_base, near_tip = green_width(0.85 * length), green_width(0.15 * length)
    assert np.mean(near_base > near_tip + 2) > 0.8
    assert np.mean(near_base > 0.5 * 0.9 * length) > 0.8


def test_no_green_stroke_pixel_inside_a_dilated_no_touch_area(zone_sample_faces) -> None:
    raw, data = scene_for(zone_sample_faces, MIXED_PLAN)
    annotator = FaceZonesAnnotator(OverlayOptions(labels=False, legend=False, hud=False))
    drawn = annotator.annotate(raw.copy(), data)
    forbidden = np.zeros(drawn.shape[:2], bool)
    for a in np.flatnonzero(data.area_status == NO_TOUCH):
        area_id = data.geometry.area_ids[a]
        forbidden |= area_mask(data, area_id, grow_px=float(data.margins_px[0, a]) - 1.0)
    green = near(drawn, SAFE_GREEN, 50) & ~near(raw, SAFE_GREEN, 50)
    assert green[~forbidden].sum() > 500  # the strokes are there...
    assert green[forbidden].sum() == 0  # ...and none of them enters a no-touch area or its margin


def test_zone_and_stroke_layers_switch_off_one_at_a_time(zone_sample_faces) -> None:
    raw, data = scene_for(zone_sample_faces, MIXED_PLAN)
    a = data.geometry.area_ids.index("nasolabial_left")
    inside = area_mask(data, "nasolabial_left", shrink_px=2)
    layers = {"labels": False, "legend": False, "hud": False, "guide": False}
    without_zones = FaceZonesAnnotator(OverlayOptions(zones=False, **layers)).annotate(raw.copy(), data)
    without_strokes = FaceZonesAnnotator(OverlayOptions(strokes=False, **layers)).annotate(raw.copy(), data)
    assert data.area_status[a] == NO_TOUCH
    assert redness(without_strokes, inside) > redness(raw, inside) + 25
    assert abs(redness(without_zones, inside) - redness(raw, inside)) < 1
    green = near(without_zones, SAFE_GREEN, 50) & ~near(raw, SAFE_GREEN, 50)
    assert green.sum() > 500
    assert (near(without_strokes, SAFE_GREEN, 50) & ~near(raw, SAFE_GREEN, 50)).sum() == 0


def test_no_stroke_pixel_of_any_colour_enters_the_no_touch_mask(zone_sample_faces) -> None:
    """Amber line ends and halos near a no-touch area are cut off exactly at its margin's edge."""
    raw, data = scene_for(zone_sample_faces, plan_of("jawline_left=ha_filler@2026-11-20"))
    zones_only = ZoneAnnotator().annotate(raw.copy(), data)
    with_strokes = StrokeAnnotator().annotate(zones_only.copy(), data)
    region = data.regions[0]
    inside = region.no_touch_mask.astype(bool)
    assert inside.sum() > 1000
    assert np.array_equal(region.view(with_strokes)[inside], region.view(zones_only)[inside])
    assert np.any(region.view(with_strokes) != region.view(zones_only))  # strokes were drawn around it


def test_labels_stay_unmirrored_and_name_the_subjects_side(zone_sample_faces) -> None:
    raw, data = scene_for(zone_sample_faces, NASOLABIAL_PLAN)
    mirrored_image = np.ascontiguousarray(raw[:, ::-1])
    mirrored = record(data.faces.mirror(), NASOLABIAL_PLAN)
    labels = LabelAnnotator(steps=False)
    for scene, image in ((data, raw.copy()), (mirrored, mirrored_image.copy())):
        placed = labels.place(scene, NOTHING_TAKEN)
        assert len(placed) == 1
        sprite, x, y = placed[0].sprite, placed[0].x, placed[0].y
        labels.annotate(image, scene)
        patch = image[y : y + sprite.height, x : x + sprite.width]
        mask = sprite.mask.astype(bool)
        assert np.array_equal(patch[mask], sprite.pixels[mask])  # the sprite as rendered, not flipped
        flipped = sprite.pixels[:, ::-1][mask[:, ::-1]]
        assert not np.array_equal(patch[mask[:, ::-1]], flipped)
    # The subject's left fold is on the image's right unmirrored and on its left mirrored; the text says (L).
    nose_x = data.faces.landmarks[0, 1, 0]
    first = labels.place(data, NOTHING_TAKEN)[0]
    assert first.x + first.sprite.width / 2 > nose_x
    first = labels.place(mirrored, NOTHING_TAKEN)[0]
    assert first.x + first.sprite.width / 2 < raw.shape[1] - nose_x
    assert short_label("Nasolabial fold (left)") == "Nasolabial fold (L)"


def test_labels_never_overlap_also_in_large_mode(zone_sample_faces) -> None:
    _, data = scene_for(zone_sample_faces, MIXED_PLAN, name="astronaut")
    heights = {}
    for large in (False, True):
        annotator = LabelAnnotator(large=large, areas="all")
        layout = annotator.layout(data)
        placed = layout.placed[: len(layout.labels)]
        assert len(placed) >= 8
        boxes = np.array([p.box for p in placed])
        a, b = boxes[:, None], boxes[None]
        overlap = (
            (a[..., 0] < b[..., 2])
            & (b[..., 0] < a[..., 2])
            & (a[..., 1] < b[..., 3])
            & (b[..., 1] < a[..., 3])
        )
        np.fill_diagonal(overlap, False)
        assert not overlap.any()
        assert ((boxes[:, :2] >= 0) & (boxes[:, 2:] <= [data.frame_size[0], data.frame_size[1]])).all()
        heights[large] = annotator.text_size(data, 0)
    assert heights[True] > 1.5 * heights[False]


def test_guide_is_deterministic_and_travels_forwards(zone_sample_faces) -> None:
    raw, data = scene_for(zone_sample_faces, plan_of(), timestamp_s=1.0, current_line="jaw_right")
    guide = GuideAnnotator()
    line, travelled = guide.position(data)
    later = guide.position(replace(data, timestamp_s=1.5))
    assert data.geometry.line_ids[line] == "jaw_right" and later[0] == line
    assert later[1] > travelled  # start to end of the line, in its direction
    first = guide.annotate(raw.copy(), data)
    assert np.array_equal(first, guide.annotate(raw.copy(), replace(data, timestamp_s=1.0)))
    assert not np.array_equal(first, guide.annotate(raw.copy(), replace(data, timestamp_s=1.5)))
    index = data.geometry.index
    segment = int(index.segment_offsets[line]) + int(travelled)
    expected = data.geometry.line_points[0, index.segment_start[segment]]
    x, y = np.rint(expected).astype(int)
    assert (first[y - 3 : y + 4, x - 3 : x + 4] > 230).all(axis=-1).any()  # the white dot is about there
    assert guide.position(replace(data, current_line="no_such_line")) is None


def test_legend_names_the_next_area_to_become_safe(zone_sample_faces) -> None:
    raw, data = scene_for(zone_sample_faces, MIXED_PLAN)
    rows = [text for text, _ in status_rows(data.safety, data.geometry.index.area_labels)]
    assert "Next safe: Forehead" in rows  # botox yesterday: safe tomorrow, before the nasolabial filler
    assert any(text.startswith("Mon 23 Nov") for text in rows)
    legend = LegendAnnotator()
    drawn = legend.annotate(raw.copy(), data)
    x0, y0, x1, y1 = legend.place(data, NOTHING_TAKEN)[0].box
    sprite = legend.sprite(data)
    assert np.array_equal(
        drawn[y0:y1, x0:x1][sprite.mask.astype(bool)], sprite.pixels[sprite.mask.astype(bool)]
    )
    quiet = [text for text, _ in status_rows(record(data.faces, plan_of()).safety, ())]
    assert "Next safe" not in " ".join(quiet)


def test_hud_shows_fps_and_the_quality_hint(zone_sample_faces) -> None:
    raw, data = scene_for(zone_sample_faces, plan_of(), fps=29.6)
    hud = HudAnnotator(corner="bottom-left")
    plain = hud.annotate(raw.copy(), data)
    changed = np.any(plain != raw, axis=-1)
    assert changed[-60:, :200].any() and not changed[:-60].any()
    hinted = replace(data, faces=replace(data.faces, quality=(FaceQuality(("too_small",), "Move closer"),)))
    with_hint = hud.annotate(raw.copy(), hinted)
    assert np.any(with_hint != raw, axis=-1).sum() > changed.sum()


def test_hud_notes_fit_inside_a_tall_portrait(zone_sample_faces) -> None:
    _, data = scene_for(zone_sample_faces, plan_of(), fps=29.6)
    tall = np.full((1024, 817, 3), 90, np.uint8)  # a phone portrait: the frame narrower than it is high
    hinted = replace(
        data,
        faces=replace(
            data.faces,
            image_size=(817, 1024),
            quality=(FaceQuality(("too_small", "too_turned"), "Move closer and face the camera"),),
        ),
    )
    assert any(len(note) > 50 for note in hinted.notes)
    hud = HudAnnotator(corner="bottom-left")
    placed = hud.place(hinted, NOTHING_TAKEN)
    assert len(placed) == 1 + min(len(hinted.notes), hud.max_notes)
    for row in placed:
        x0, y0, x1, y1 = row.box
        assert min(x0, y0) >= 0 and x1 <= 817 and y1 <= 1024, f"a HUD row leaves the frame: {row.box}"
    hud.annotate(tall, hinted)


def test_mesh_draws_every_edge_in_one_call(zone_sample_faces) -> None:
    image, faces = zone_sample_faces["astronaut"]
    drawn = MeshAnnotator(contour_color=None).annotate(image.copy(), record(faces, plan_of()))
    middles = np.rint(faces.landmarks[0, TESSELATION_EDGES, :2].mean(axis=1)).astype(int)
    hit = np.any(drawn[middles[:, 1], middles[:, 0]] != image[middles[:, 1], middles[:, 0]], axis=-1)
    assert hit.mean() > 0.9


def test_safe_plan_draws_every_stroke_green(zone_sample_faces) -> None:
    raw, data = scene_for(zone_sample_faces, plan_of())
    assert not (data.segment_status == NO_TOUCH).any()
    drawn = StrokeAnnotator().annotate(raw.copy(), data)
    status = data.segment_status[0]
    middle = np.rint(data.geometry.segment_midpoints()[0][status == SAFE]).astype(int)
    on_line = near(drawn[middle[:, 1], middle[:, 0]][None], SAFE_GREEN, 60)[0]
    assert on_line.mean() > 0.9


@pytest.mark.parametrize("shift", [(-200, 0), (300, 250), (-2000, -2000)])
def test_faces_at_or_beyond_the_frame_edge_draw_without_error(zone_sample_faces, shift) -> None:
    raw, data = scene_for(zone_sample_faces, MIXED_PLAN)
    offset = np.array([*shift, 0], np.float32)
    faces = replace(
        data.faces, landmarks=data.faces.landmarks + offset, boxes=data.faces.boxes + offset[[0, 1, 0, 1]]
    )
    moved = record(faces, MIXED_PLAN, fps=30.0)
    drawn = FaceZonesAnnotator(OverlayOptions(mesh=True)).annotate(raw.copy(), moved)
    assert drawn.shape == raw.shape


def test_the_plan_goes_on_one_face_of_several(zone_sample_faces) -> None:
    """Two faces in view: the plan's zones go on the largest (or the chosen one), the other gets none."""
    raw, data = scene_for(zone_sample_faces, NASOLABIAL_PLAN)
    canvas = np.zeros((raw.shape[0], raw.shape[1] * 2, 3), np.uint8)
    canvas[:, : raw.shape[1]] = raw
    canvas[:, raw.shape[1] :] = raw
    faces, width = data.faces, raw.shape[1]
    twin = replace(
        faces,
        landmarks=np.concatenate([faces.landmarks, faces.landmarks + np.array([width, 0, 0], np.float32)]),
        boxes=np.concatenate([faces.boxes, faces.boxes + np.array([width, 0, width, 0], np.float32)]),
        poses=np.concatenate([faces.poses, faces.poses]),
        quality=faces.quality * 2,
        image_size=(canvas.shape[1], canvas.shape[0]),
    )
    both = record(twin, NASOLABIAL_PLAN)
    drawn = ZoneAnnotator().annotate(canvas.copy(), both)
    left = area_mask(both, "nasolabial_left", shrink_px=2)
    right = np.roll(left, raw.shape[1], axis=1)
    assert both.plan_face == 0 and both.guided.tolist() == [True, False]
    assert redness(drawn, left) > redness(canvas, left) + 25
    assert redness(drawn, right) == pytest.approx(redness(canvas, right), abs=1.0)
    assert "1 other face: no plan" in both.notes
    second = pipeline_for(Settings(plan=NASOLABIAL_PLAN, face=1)).analyse(twin)
    drawn = ZoneAnnotator().annotate(canvas.copy(), second)
    assert redness(drawn, right) > redness(canvas, right) + 25
    assert redness(drawn, left) == pytest.approx(redness(canvas, left), abs=1.0)
    missing = pipeline_for(Settings(plan=NASOLABIAL_PLAN, face=5)).analyse(twin)
    assert missing.plan_face is None and not missing.guided.any()
    assert missing.notes[0].startswith("Face 5 not found")


def overlaps(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``(N, 4)``, ``(M, 4)`` boxes x0 y0 x1 y1 -> ``(N, M) bool`` whether they overlap."""
    a, b = a[:, None], b[None]
    return (
        (a[..., 0] < b[..., 2]) & (b[..., 0] < a[..., 2]) & (a[..., 1] < b[..., 3]) & (b[..., 1] < a[..., 3])
    )


def test_screen_layers_never_cover_each_other(zone_sample_faces) -> None:
    """Legend, HUD, touch banner and labels share the screen: no box of one overlaps a box of another."""
    _, data = scene_for(zone_sample_faces, MIXED_PLAN, name="astronaut", fps=30.0)
    areas = len(data.geometry.area_ids)
    hidden = TouchGuard(data.geometry.area_ids).update(TouchHits.none(areas), 0, face_state="hidden")
    data = replace(data, touch=hidden)  # the amber "face hidden" banner across the top
    annotator = FaceZonesAnnotator(OverlayOptions(large_labels=True))
    placed = annotator.place(data)
    assert all(placed[name] for name in ("legend", "hud", "touch_banner", "labels"))
    owner = np.array([name for name, items in placed.items() for _ in items])
    boxes = np.array([item.box for items in placed.values() for item in items])
    assert not (overlaps(boxes, boxes) & (owner[:, None] != owner[None, :])).any()
    # Left to themselves the large labels would run under a panel: the shared layout moved them.
    alone = np.array([item.box for item in LabelAnnotator(large=True).place(data, NOTHING_TAKEN)])
    assert overlaps(alone, boxes[owner != "labels"]).any()
