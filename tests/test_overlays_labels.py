"""Labels that serve the face (issue 11, item 4), on real faces composed into a group photo, a tall portrait
and a small-face frame: one layout over every face, sized to the face, outside it with leader lines, and a
list of what found no room."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date
from pathlib import Path

import cv2
import numpy as np
import pytest
from label_scenes import group_photo, small_face, tall_portrait

import cli
import overlays.labels as labels_module
from overlays.compose import FaceZonesAnnotator, OverlayOptions
from overlays.labels import HIDDEN, NO_ROOM, LabelAnnotator, LabelLayout, face_flags, legible_px
from overlays.layout import FEW_BOXES, covers_mask
from overlays.scene import SceneData, StreamMemory
from pipeline import Settings, pipeline_for
from vision.faces import Faces
from zones.plan import Plan, parse_treatment

PLAN = Plan(
    tuple(
        parse_treatment(t)
        for t in (
            "nasolabial_left=ha_filler@2026-11-20",  # no-touch, 12 more days
            "cheek_right=ha_filler@2026-11-15",  # no-touch
            "forehead=botox@2026-11-21",  # no-touch
            "lips=ha_filler@2026-11-07",  # caution
        )
    ),
    "hands",
    date(2026, 11, 22),
)
SCENES = {"group": group_photo, "tall": tall_portrait, "small": small_face}


def analysed(
    frame: np.ndarray, faces: Faces, *, mirror: bool = False, **overlay: bool
) -> tuple[np.ndarray, SceneData]:
    """The frame as shown and its record, through the pipeline as in the app (stills: no guide, no HUD)."""
    settings = Settings(plan=PLAN, mirror=mirror, overlay=OverlayOptions(guide=False, hud=False, **overlay))
    return pipeline_for(settings).process(frame, faces)


@pytest.fixture(scope="module")
def scenes(zone_sample_faces) -> dict[str, tuple[np.ndarray, Faces]]:
    """name -> (frame, faces): the composed frames, each face carrying the mesh found on its real photo."""
    return {name: make(zone_sample_faces) for name, make in SCENES.items()}


def overlap(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``(N, 4)``, ``(M, 4)`` boxes -> ``(N, M) bool`` whether they overlap (touching edges do not)."""
    a, b = np.asarray(a, float)[:, None], np.asarray(b, float)[None]
    return (
        (a[..., 0] < b[..., 2]) & (b[..., 0] < a[..., 2]) & (a[..., 1] < b[..., 3]) & (b[..., 1] < a[..., 3])
    )


def label_boxes(layout: LabelLayout) -> np.ndarray:
    return np.array([spot.box for spot in layout.labels], float).reshape(-1, 4)


def assert_clear(layout: LabelLayout, data: SceneData) -> None:
    """The layout invariants: nothing placed overlaps anything else placed or leaves the image, no label
    covers another face (its landmarks' box), and nothing covers a no-touch area of any face (margin
    included)."""
    width, height = data.frame_size
    everything = np.array([p.box for p in layout.placed], float).reshape(-1, 4)  # labels and the list panel
    clash = overlap(everything, everything)
    np.fill_diagonal(clash, False)
    assert not clash.any()
    assert (
        (everything[:, :2] >= 0).all()
        and (everything[:, 2] <= width).all()
        and (everything[:, 3] <= height).all()
    )
    owner = np.array([spot.face for spot in layout.labels], int)
    covers = overlap(label_boxes(layout), data.faces.boxes)
    assert not covers[owner[:, None] != np.arange(len(data.faces))[None, :]].any()
    for region in data.regions:
        for x0, y0, x1, y1 in everything.astype(int):
            rx0, ry0 = region.box[:2]
            patch = region.no_touch_mask[
                max(y0 - ry0, 0) : max(y1 - ry0, 0), max(x0 - rx0, 0) : max(x1 - rx0, 0)
            ]
            assert not patch.any()


def moved(faces: Faces, shift: tuple[float, float], which: list[int] | None = None) -> Faces:
    """``faces`` with faces ``which`` (all when None) moved by ``shift`` px."""
    step = np.zeros((len(faces), 1, 3), np.float32)
    step[which if which is not None else slice(None), 0, :2] = shift
    return replace(faces, landmarks=faces.landmarks + step, boxes=faces.boxes + np.tile(step[:, 0, :2], 2))


@pytest.mark.parametrize("name", list(SCENES))
@pytest.mark.parametrize("mirror", [False, True])
@pytest.mark.parametrize("large", [False, True])
def test_labels_keep_clear_of_each_other_faces_no_touch_zones_and_the_edge(
    scenes, name, mirror, large
) -> None:
    frame, faces = scenes[name]
    _, data = analysed(frame, faces, mirror=mirror, large_labels=large)
    annotator = FaceZonesAnnotator(OverlayOptions(guide=False, hud=False, large_labels=large))
    layout = annotator.label_layout(data)
    assert len(layout.labels) >= 3
    assert_clear(layout, data)
    # Nor the legend: one layout owner for the screen.
    everything = np.array([p.box for p in layout.placed], float)  # labels and the list panel
    legend = np.array([p.box for p in annotator.place(data)["legend"]], float)
    assert not overlap(everything, legend).any()


@pytest.mark.parametrize("name", list(SCENES))
def test_every_label_not_drawn_is_listed_and_the_list_is_on_the_image(scenes, name) -> None:
    frame, faces = scenes[name]
    _, data = analysed(frame, faces)
    annotator = LabelAnnotator(areas="all")  # more names than the frame has room for
    layout = annotator.layout(data)
    assert data.guided.sum() == 1  # the plan, and so its labels, belong to one face (issue 11, item 5)
    wanted = {
        (face, kind, label_id)
        for face in np.flatnonzero(data.guided).tolist()
        for kind, label_id in zip(*(lambda s: (s.kinds, s.ids))(annotator.label_set(data, face)), strict=True)
    }
    drawn = [(s.face, s.kind, s.id) for s in layout.labels]
    listed = [(u.face, u.kind, u.id) for u in layout.unlabelled]
    assert len(set(drawn)) == len(drawn) and len(set(listed)) == len(listed)
    assert set(drawn) | set(listed) == wanted and not set(drawn) & set(listed)
    assert all(u.reason == NO_ROOM for u in layout.unlabelled)
    if name in ("tall", "group"):  # room beside the plan's face for all nineteen names and the badges
        assert not listed and len(layout.placed) == len(layout.labels)
        return
    assert listed
    # The most important claim room first: every no-touch name is drawn before any safe name is listed.
    drawn_status = {s.status for s in layout.labels if s.kind == "zone"}
    assert "no_touch" in drawn_status
    no_touch_listed = [u for u in layout.unlabelled if u.status == "no_touch"]
    safe_drawn = [s for s in layout.labels if s.status == "safe" and s.kind == "zone"]
    assert not (no_touch_listed and safe_drawn) or name == "group"
    # The list is on the image too, as one panel after the labels, and its rows say what is left out.
    assert len(layout.placed) == len(layout.labels) + 1
    panel = layout.placed[-1]
    image = annotator.annotate(frame.copy(), data)
    assert not np.array_equal(
        image[panel.y : panel.box[3], panel.x : panel.box[2]],
        frame[panel.y : panel.box[3], panel.x : panel.box[2]],
    )
    assert not overlap(np.array([panel.box]), data.faces.boxes).any()


def test_labels_are_sized_to_the_face_not_the_frame(scenes, zone_sample_faces) -> None:
    frame, faces = scenes["tall"]
    _, tall = analysed(frame, faces)
    square = np.ascontiguousarray(frame[:720])
    _, short = analysed(square, replace(faces, image_size=(720, 720)))
    tall_layout, short_layout = (LabelAnnotator().layout(d) for d in (tall, short))
    heights = {s.box[3] - s.box[1] for s in tall_layout.labels if s.kind == "zone"}
    assert heights == {s.box[3] - s.box[1] for s in short_layout.labels if s.kind == "zone"}
    face_width = float(faces.boxes[0, 2] - faces.boxes[0, 0])
    assert all(s.box[2] - s.box[0] < 0.7 * face_width for s in tall_layout.labels)
    # A bigger face gets bigger labels, up to a ceiling; a small one keeps a legible floor.
    big = Faces(faces.landmarks * 1.5, faces.boxes * 1.5, faces.poses, (1080, 2700), faces.quality)
    big_frame = cv2.resize(frame, (1080, 2700))
    _, big_data = analysed(big_frame, big)
    size = LabelAnnotator().text_size
    assert size(big_data, 0) > size(tall, 0) + 2
    assert size(big_data, 0) <= 2 * legible_px((1080, 2700))
    small_frame, small = scenes["small"]
    _, small_data = analysed(small_frame, small)
    assert size(small_data, 0) == legible_px(small_data.frame_size)


def test_zone_labels_sit_outside_the_face_with_a_leader_to_their_zone(scenes) -> None:
    for name in ("tall", "small"):
        frame, faces = scenes[name]
        _, data = analysed(frame, faces)
        layout = LabelAnnotator().layout(data)
        zones = [(s, p) for s, p in zip(layout.labels, layout.placed, strict=False) if s.kind == "zone"]
        assert len(zones) == 4  # three no-touch areas and the lips in caution: all found room beside the face
        face = data.faces.boxes[0]
        for spot, placed in zones:
            assert not overlap(np.array([spot.box]), face[None]).any(), spot
            assert placed.leader == spot.anchor
            x0, y0, x1, y1 = spot.box
            assert not (x0 <= spot.anchor[0] <= x1 and y0 <= spot.anchor[1] <= y1)  # the zone stays in view
        drawn = FaceZonesAnnotator(OverlayOptions(guide=False, hud=False, legend=False)).annotate(
            frame.copy(), data
        )
        without = FaceZonesAnnotator(
            OverlayOptions(guide=False, hud=False, legend=False, labels=False)
        ).annotate(frame.copy(), data)
        for spot, _ in zones:  # the leader line is drawn: pixels change half-way along it
            box = np.array(spot.box, float)
            start = np.clip(spot.anchor, box[:2], box[2:])
            x, y = np.rint((start + np.array(spot.anchor)) / 2).astype(int)
            assert np.any(drawn[y - 1 : y + 2, x - 1 : x + 2] != without[y - 1 : y + 2, x - 1 : x + 2])


def test_a_mirrored_frame_keeps_each_label_on_its_subjects_side(scenes) -> None:
    frame, faces = scenes["group"]
    sides = {}
    for mirror in (False, True):
        _, data = analysed(frame, faces, mirror=mirror)
        layout = LabelAnnotator(areas="all").layout(data)
        sided = [s for s in layout.labels if s.kind == "zone" and s.id.endswith(("_left", "_right"))]
        assert len(sided) >= 6
        for spot in sided:
            landmarks = data.faces.landmarks[spot.face]
            nose = landmarks[1, 0]
            # the screen side of the subject's left follows the mesh's own ids (the selfie view flips it)
            towards_left = np.sign(landmarks[263, 0] - landmarks[33, 0])
            side = towards_left if spot.id.endswith("_left") else -towards_left
            assert np.sign(spot.anchor[0] - nose) == side
            x0, _, x1, _ = spot.box
            face_x0, face_x1 = data.faces.boxes[spot.face, [0, 2]]
            if x1 <= face_x0 or x0 >= face_x1:  # beside the face: on its zone's side
                assert np.sign((x0 + x1) / 2 - nose) == side, spot
            else:  # above or below it: reaching over to its zone's side
                assert (x1 > nose) if side > 0 else (x0 < nose), spot
            assert ("(L)" in spot.text) == spot.id.endswith("_left") and spot.text.count("(") == 1
            sides[mirror, spot.face, spot.id] = side
    # the same labels, each on the other screen side in the selfie view
    assert {key[1:] for key in sides} and all(
        sides[True, face, i] == -sides[False, face, i]
        for _, face, i in sides
        if (True, face, i) in sides and (False, face, i) in sides
    )


def test_labels_stay_put_on_a_stream_while_their_spot_is_free(scenes) -> None:
    frame, faces = scenes["tall"]
    _, data = analysed(frame, faces)
    annotator = LabelAnnotator()
    memory = StreamMemory()
    first = annotator.layout(replace(data, memory=memory))
    lips = next(s for s in first.labels if s.id == "lips")
    # Something takes the lips label's spot for a frame: it moves; freed again, with the stream's memory it
    # keeps its new spot, a photo (no memory) takes the best spot again.
    blocker = np.array([lips.box], np.float32)
    moved = annotator.layout(replace(data, memory=memory), blocker)
    moved_lips = next(s for s in moved.labels if s.id == "lips")
    assert not overlap(np.array([moved_lips.box]), blocker).any()
    shifted = replace(
        faces, landmarks=faces.landmarks + np.float32([3, 2, 0]), boxes=faces.boxes + np.float32([3, 2, 3, 2])
    )
    _, next_frame = analysed(frame, shifted)
    kept = annotator.layout(replace(next_frame, memory=memory))
    kept_lips = next(s for s in kept.labels if s.id == "lips")
    np.testing.assert_allclose(np.subtract(kept_lips.box, moved_lips.box), [3, 2, 3, 2], atol=1)
    fresh = next(s for s in annotator.layout(next_frame).labels if s.id == "lips")
    np.testing.assert_allclose(np.subtract(fresh.box, lips.box), [3, 2, 3, 2], atol=1)


def test_faces_without_labels_stay_obstacles_and_hidden_zones_are_listed(scenes, monkeypatch) -> None:
    frame, faces = scenes["group"]
    _, data = analysed(frame, faces)
    labelled, area_visible, segment_visible = face_flags(data)
    assert labelled.sum() == 1 and area_visible.all() and segment_visible.all()  # frontal faces, one plan
    labelled = np.ones_like(labelled)
    labelled[1] = False  # e.g. a mesh that does not fit, or a face the plan is not for
    area_visible = area_visible.copy()
    cheek = data.geometry.area_ids.index("cheek_right")
    area_visible[0, cheek] = False  # the far cheek of a turned head
    monkeypatch.setattr(labels_module, "face_flags", lambda _: (labelled, area_visible, segment_visible))
    layout = LabelAnnotator().layout(data)
    assert 1 not in {s.face for s in layout.labels} | {u.face for u in layout.unlabelled}
    assert not overlap(label_boxes(layout), data.faces.boxes[1:2]).any()
    hidden = [u for u in layout.unlabelled if u.reason == HIDDEN]
    assert [(u.face, u.id, u.text) for u in hidden] == [(0, "cheek_right", "Cheek (R) · 7 d: turn your head")]
    assert (0, "cheek_right") not in {(s.face, s.id) for s in layout.labels}
    assert layout.placed[-1].sprite.height > 0 and len(layout.placed) == len(layout.labels) + 1  # the list


def test_cli_json_gives_labels_and_the_unlabelled(tmp_path: Path, scenes) -> None:
    frame, _ = scenes["tall"]
    image = tmp_path / "portrait.png"
    cv2.imwrite(str(image), frame)
    treat = [
        a
        for t in ("nasolabial_left=ha_filler@2026-11-20", "forehead=botox@2026-11-21")
        for a in ("--treat", t)
    ]
    documents = {}
    for mirror in (False, True):
        out = tmp_path / f"out{mirror}.json"
        args = ["annotate", str(image), "--json", str(out), "--today", "2026-11-22", *treat]
        assert cli.main(args + (["--mirror"] if mirror else [])) == 0
        documents[mirror] = json.loads(out.read_text())
    for mirror, document in documents.items():
        assert {"image", "plan", "faces", "touches", "labels", "unlabelled"} <= set(document)
        width, height = document["image"]["width"], document["image"]["height"]
        [face] = document["faces"]
        nose_x = face["landmarks"][1][0]
        texts = {label["text"] for label in document["labels"]}
        assert {"Nasolabial fold (L) · 12 d", "Forehead · 1 d"} <= texts
        for label in document["labels"]:
            assert {"face", "text", "box", "anchor"} <= set(label) and label["face"] == 0
            x0, y0, x1, y1 = label["box"]
            assert 0 <= x0 < x1 <= width and 0 <= y0 < y1 <= height
            assert 0 <= label["anchor"][0] <= width and 0 <= label["anchor"][1] <= height
        for item in document["unlabelled"]:
            assert {"face", "text"} <= set(item)
        fold = next(label for label in document["labels"] if label["id"] == "nasolabial_left")
        # The subject's left: the image's right in the photo, its left in the selfie view.
        assert ((fold["box"][0] + fold["box"][2]) / 2 > nose_x) != mirror


@pytest.mark.parametrize("name", list(SCENES))
def test_a_face_moved_by_two_pixels_keeps_its_labels_spots(scenes, name) -> None:
    frame, faces = scenes[name]
    annotator = LabelAnnotator()
    memory = StreamMemory()
    _, data = analysed(frame, faces)
    first = annotator.layout(replace(data, memory=memory))
    _, next_frame = analysed(frame, moved(faces, (2, -1)))
    kept = annotator.layout(replace(next_frame, memory=memory))
    # Every label is still drawn, at the same spot beside or on its face: its box follows the face.
    assert [(s.face, s.id) for s in kept.labels] == [(s.face, s.id) for s in first.labels]
    shift = np.subtract(label_boxes(kept), label_boxes(first))
    np.testing.assert_allclose(shift, np.tile([2, -1], (len(shift), 2)), atol=1)
    assert_clear(kept, next_frame)


def test_a_kept_label_gives_way_to_a_face_that_moves_under_it(scenes) -> None:
    frame, faces = scenes["group"]
    annotator = LabelAnnotator()
    memory = StreamMemory()
    _, data = analysed(frame, faces)
    first = annotator.layout(replace(data, memory=memory))
    [plan_face] = np.flatnonzero(data.guided).tolist()
    # A neighbour steps beside the plan's face, right under one of its labels beside the face.
    label = next(s for s in first.labels if s.kind == "zone")
    other = next(f for f in range(len(faces)) if f != plan_face)
    box = faces.boxes[other]
    target = np.array([(label.box[0] + label.box[2]) / 2, (label.box[1] + label.box[3]) / 2])
    shift = tuple((target - (box[:2] + box[2:]) / 2).tolist())
    _, next_frame = analysed(frame, moved(faces, shift, [other]))
    after = annotator.layout(replace(next_frame, memory=memory))
    assert_clear(after, next_frame)
    spot = next((s for s in after.labels if s.id == label.id), None)
    assert spot is None or not overlap(np.array([spot.box]), next_frame.faces.boxes[other : other + 1]).any()
    assert spot is None or spot.box != label.box  # it moved, or went to the list
    # The labels the neighbour does not reach keep their spots.
    untouched = [s for s in first.labels if not overlap(np.array([s.box]), next_frame.faces.boxes).any()]
    boxes = {(s.face, s.id): s.box for s in after.labels}
    assert sum(boxes.get((s.face, s.id)) == s.box for s in untouched) >= len(untouched) - 2


@pytest.mark.parametrize("name", list(SCENES))
def test_fresh_and_reused_layouts_of_a_moving_face_keep_the_invariants(scenes, name) -> None:
    frame, faces = scenes[name]
    annotator = LabelAnnotator(areas="all")  # crowded: every spot taken counts
    memory = StreamMemory()
    rng = np.random.default_rng(7)
    centre = faces.boxes[:, :2].mean(axis=0)
    for frame_number in range(12):
        # drift, jitter, and a face that grows and shrinks a little (a head coming closer)
        scale = np.float32(1 + 0.15 * np.sin(frame_number / 2))
        step = rng.normal(0, 1.5, 2) + frame_number * 1.5
        landmarks = faces.landmarks.copy()
        landmarks[..., :2] = (landmarks[..., :2] - centre) * scale + centre + step.astype(np.float32)
        boxes = (faces.boxes - np.tile(centre, 2)) * scale + np.tile(centre + step, 2)
        _, data = analysed(frame, replace(faces, landmarks=landmarks, boxes=boxes.astype(np.float32)))
        reused = annotator.layout(replace(data, memory=memory))
        fresh = annotator.layout(data)
        for layout in (reused, fresh):
            assert_clear(layout, data)
            assert {(s.face, s.id) for s in layout.labels} | {(u.face, u.id) for u in layout.unlabelled} == {
                (s.face, s.id) for s in fresh.labels
            } | {(u.face, u.id) for u in fresh.unlabelled}


def test_a_few_boxes_and_many_see_the_same_no_touch_pixels(scenes) -> None:
    frame, faces = scenes["tall"]
    _, data = analysed(frame, faces)
    [region] = [data.regions[f] for f in np.flatnonzero(data.guided).tolist()]
    assert region.no_touch_mask.any()
    rng = np.random.default_rng(3)
    x0, y0, x1, y1 = region.box
    corners = rng.uniform([x0 - 20, y0 - 20], [x1, y1], (200, 2))
    spots = np.concatenate([corners, corners + rng.uniform(2, 40, (200, 2))], axis=1).astype(np.float32)
    many = covers_mask(spots, region)  # the integral image
    few = np.concatenate([covers_mask(spots[i : i + FEW_BOXES], region) for i in range(0, 200, FEW_BOXES)])
    assert many.any() and not many.all()
    np.testing.assert_array_equal(few, many)
    # and both say what the mask's own pixels say
    ox, oy = region.box[:2]
    for box, covered in zip(spots, many, strict=True):
        a, b = np.floor(box[:2]).astype(int) - (ox, oy)
        c, d = np.ceil(box[2:]).astype(int) - (ox, oy)
        assert covered == region.no_touch_mask[max(b, 0) : max(d, 0), max(a, 0) : max(c, 0)].any()
