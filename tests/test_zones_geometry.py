"""Zone geometry on real faces: outlines are simple, on the face, mirrored and where their names say."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from vision.faces import NUM_LANDMARKS
from zones.catalogue import load_catalogue
from zones.geometry import GeometryIndex, face_axes, face_geometry, px_per_mm, reference_landmarks
from zones.plan import Plan, Treatment
from zones.safety import evaluate, segment_status

FRONTAL = ("astronaut", "grace_hopper")
FACE_OVAL = [10, 338, 297, 332, 284, 251, 389, 356, 454, 323, 361, 288, 397, 365, 379, 378, 400, 377, 152,
             148, 176, 149, 150, 136, 172, 58, 132, 93, 234, 127, 162, 21, 54, 103, 67, 109]  # fmt: skip
MIDLINE = [10, 151, 9, 8, 168, 6, 197, 195, 5, 4, 1, 19, 94, 2, 164, 0, 17, 18, 200, 199, 175, 152]


def self_intersections(polygon: np.ndarray) -> int:
    """How many pairs of non-adjacent edges of a closed polygon cross (all pairs at once, by broadcasting)."""
    a, b = polygon, np.roll(polygon, -1, axis=0)

    def orient(p, q, r):
        return np.sign(
            (q[..., 0] - p[..., 0]) * (r[..., 1] - p[..., 1])
            - (q[..., 1] - p[..., 1]) * (r[..., 0] - p[..., 0])
        )

    a1, b1, a2, b2 = a[:, None], b[:, None], a[None, :], b[None, :]
    crossing = (orient(a1, b1, a2) * orient(a1, b1, b2) < 0) & (orient(a2, b2, a1) * orient(a2, b2, b1) < 0)
    n = len(polygon)
    i, j = np.triu_indices(n, k=2)
    adjacent = (i == 0) & (j == n - 1)
    return int(crossing[i[~adjacent], j[~adjacent]].sum())


def shoelace(polygon: np.ndarray) -> float:
    x, y = polygon[:, 0].astype(np.float64), polygon[:, 1].astype(np.float64)
    return 0.5 * float(np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1)))


def inside(polygon: np.ndarray, point: np.ndarray, tolerance_px: float = 0.0) -> bool:
    return cv2.pointPolygonTest(polygon.astype(np.float32), tuple(map(float, point)), True) >= -tolerance_px


def centroid(polygon: np.ndarray) -> np.ndarray:
    return polygon.mean(axis=0)


def test_self_intersection_helper_catches_a_bow_tie() -> None:
    square = np.array([[0, 0], [10, 0], [10, 10], [0, 10]], np.float32)
    assert self_intersections(square) == 0
    assert self_intersections(square[[0, 1, 3, 2]]) == 1


@pytest.mark.parametrize("name", ["astronaut", "grace_hopper", "hand_on_face"])
def test_outlines_are_simple_positive_and_on_the_face(zone_sample_faces, index, name) -> None:
    _, faces = zone_sample_faces[name]
    geometry = face_geometry(faces, index)
    oval = faces.landmarks[0, FACE_OVAL, :2]
    tolerance = 0.02 * float(np.linalg.norm(oval.max(0) - oval.min(0)))
    on_mesh = np.split(~index.area_offset.any(axis=1), index.area_offsets[1:-1])
    for area_id, polygon, kept in zip(index.area_ids, geometry.polygons(0), on_mesh, strict=True):
        assert self_intersections(polygon) == 0, f"{name}: {area_id} crosses itself"
        assert abs(shoelace(polygon)) > 20.0, f"{name}: {area_id} has no area"
        # points the catalogue moves off the mesh (the forehead's top row, up to the hairline) may leave it
        assert all(inside(oval, p, tolerance) for p in polygon[kept]), f"{name}: {area_id} leaves the face"


@pytest.mark.parametrize("name", FRONTAL)
def test_outlines_wind_consistently_left_and_right(zone_sample_faces, index, name) -> None:
    """Mirror images wind the other way round: a left outline must wind opposite to its right twin."""
    geometry = face_geometry(zone_sample_faces[name][1], index)
    polygons = dict(zip(index.area_ids, geometry.polygons(0), strict=True))
    for area_id in polygons:
        if area_id.endswith("_left"):
            twin = area_id.removesuffix("_left") + "_right"
            assert np.sign(shoelace(polygons[area_id])) == -np.sign(shoelace(polygons[twin])), area_id


@pytest.mark.parametrize("name", FRONTAL)
def test_left_and_right_areas_mirror_each_other(zone_sample_faces, index, name) -> None:
    faces = zone_sample_faces[name][1]
    geometry = face_geometry(faces, index)
    xy = faces.landmarks[0, :, :2].astype(np.float64)
    centre = xy[MIDLINE].mean(axis=0)
    direction = np.linalg.svd(xy[MIDLINE] - centre)[2][0]
    normal = np.array([-direction[1], direction[0]])
    height = np.linalg.norm(xy[152] - xy[10])
    polygons = dict(zip(index.area_ids, geometry.polygons(0), strict=True))
    lines = dict(zip(index.line_ids, geometry.strokes(0), strict=True))
    for shapes in (polygons, lines):
        pairs = [(k, k.removesuffix("_left") + "_right") for k in shapes if k.endswith("_left")]
        assert pairs
        for left_id, right_id in pairs:
            left, right = shapes[left_id].astype(np.float64), shapes[right_id].astype(np.float64)
            reflected = left - 2.0 * ((left - centre) @ normal)[:, None] * normal
            error = np.linalg.norm(reflected - right, axis=1).mean() / height
            assert error < 0.04, f"{name}: {left_id} reflected is {error:.3f} face heights from {right_id}"


@pytest.mark.parametrize("name", ["astronaut", "grace_hopper", "hand_on_face"])
def test_areas_lie_where_their_names_say(zone_sample_faces, index, name) -> None:
    faces = zone_sample_faces[name][1]
    xy = faces.landmarks[0, :, :2]
    geometry = face_geometry(faces, index)
    area = dict(zip(index.area_ids, geometry.polygons(0), strict=True))
    across, down, _ = face_axes(xy[None])
    across, down = across[0], down[0]

    def below(a, b) -> bool:  # a lies below b along the face's own down axis
        return float((a - b) @ down) > 0

    for mouth_point in (13, 14, 78, 308):  # inner lips: the mouth
        assert inside(area["lips"], xy[mouth_point]), f"lips miss landmark {mouth_point}"
    assert inside(area["glabella"], xy[8]) and inside(area["forehead"], xy[151])
    assert inside(area["nose"], xy[4]) and inside(area["chin"], xy[199])
    for side, ala, corner, eye_in, eye_out, cheek in (
        ("right", 129, 61, 133, 33, 50),
        ("left", 358, 291, 362, 263, 280),
    ):
        midpoint = 0.5 * (xy[ala] + xy[corner])
        assert inside(area[f"nasolabial_{side}"], midpoint, 2.0), (
            f"nasolabial_{side} is not between nose and mouth"
        )
        trough = centroid(area[f"tear_trough_{side}"])
        assert below(trough, xy[eye_in]) and below(trough, xy[eye_out]) and not below(trough, xy[4])
        eye_span = sorted([float(xy[eye_in] @ across), float(xy[eye_out] @ across)])
        assert eye_span[0] - 5 <= float(trough @ across) <= eye_span[1] + 5, (
            f"tear_trough_{side} not under the eye"
        )
        assert inside(area[f"cheek_{side}"], xy[cheek])
        assert below(centroid(area[f"marionette_{side}"]), xy[corner])
        outward = 1.0 if side == "left" else -1.0  # "across" points to the subject's left
        for lateral in ("crows_feet", "temple"):
            assert outward * float((centroid(area[f"{lateral}_{side}"]) - xy[eye_out]) @ across) > 0, lateral
        assert outward * float((centroid(area[f"jawline_{side}"]) - xy[152]) @ across) > 0


def test_subject_left_is_on_the_image_right_and_mirroring_keeps_ids(zone_sample_faces, index) -> None:
    faces = zone_sample_faces["grace_hopper"][1]
    cheek_left, cheek_right = index.area_ids.index("cheek_left"), index.area_ids.index("cheek_right")
    plain = face_geometry(faces, index)
    mirrored = face_geometry(faces.mirror(), index)
    assert centroid(plain.polygons(0)[cheek_left])[0] > centroid(plain.polygons(0)[cheek_right])[0]
    assert centroid(mirrored.polygons(0)[cheek_left])[0] < centroid(mirrored.polygons(0)[cheek_right])[0]
    np.testing.assert_allclose(
        mirrored.area_points[..., 0], faces.width - plain.area_points[..., 0], atol=1e-3
    )
    np.testing.assert_allclose(
        mirrored.line_points[..., 0], faces.width - plain.line_points[..., 0], atol=1e-2
    )


@pytest.mark.parametrize("name", FRONTAL)
def test_scale_strokes_and_neck(zone_sample_faces, index, name) -> None:
    faces = zone_sample_faces[name][1]
    geometry = face_geometry(faces, index)
    xy = faces.landmarks[0, :, :2]
    scale = float(geometry.px_per_mm[0])
    face_width_mm = float(np.linalg.norm(xy[454] - xy[234])) / scale
    assert 110 < face_width_mm < 170, f"{name}: face {face_width_mm:.0f} mm wide; the iris scale is off"
    segments = np.linalg.norm(np.diff(geometry.line_points[0], axis=0), axis=1)
    within_lines = np.ones(len(segments), bool)
    within_lines[index.line_offsets[1:-1] - 1] = False  # no "segment" joins the end of one line to the next
    lengths_mm = segments[within_lines] / scale
    assert lengths_mm.max() < 9.0 and np.median(lengths_mm) > 2.0
    neck = geometry.strokes(0)[index.line_ids.index("neck_right")]
    _, down, height = face_axes(xy[None])
    depth = (neck - xy[152]) @ down[0] / height[0]
    assert depth[0] < 0 < depth[-1] and 0.3 < depth[-1] < 0.9, (
        "the neck stroke runs from the ear to below the chin"
    )
    assert np.all(np.diff((neck - neck[0]) @ down[0]) > 0), "the neck stroke runs down"
    box = geometry.boxes[0]
    assert box[3] >= neck[:, 1].max() - 1e-3 and box[1] <= xy[:, 1].min() + 1e-3


def test_batch_equals_faces_one_by_one(zone_sample_faces, index) -> None:
    stacked = np.concatenate(
        [zone_sample_faces[n][1].landmarks for n in ("astronaut", "grace_hopper", "hand_on_face")]
    )
    batch = face_geometry(stacked, index)
    for f in range(3):
        single = face_geometry(stacked[f : f + 1], index)
        np.testing.assert_allclose(batch.area_points[f], single.area_points[0])
        np.testing.assert_allclose(batch.line_points[f], single.line_points[0], rtol=1e-5, atol=1e-3)
        assert batch.px_per_mm[f] == pytest.approx(single.px_per_mm[0])


def test_bad_shapes_are_refused_with_the_shape_named(index) -> None:
    for bad in (np.zeros((478, 3)), np.zeros((1, 468, 3)), np.zeros((1, 478, 4))):
        with pytest.raises(ValueError, match=r"\(F, 478"):
            face_geometry(bad, index)
    with pytest.raises(ValueError, match="NaN"):
        face_geometry(np.full((1, 478, 3), np.nan), index)


def test_scale_falls_back_to_the_pupils_when_the_irises_are_implausible(zone_sample_faces) -> None:
    xy = zone_sample_faces["grace_hopper"][1].landmarks[:, :, :2].copy()
    good = px_per_mm(xy)[0]
    xy[:, 469:473], xy[:, 474:478] = xy[:, 468:469], xy[:, 473:474]  # irises collapsed to their centres
    assert px_per_mm(xy)[0] == pytest.approx(np.linalg.norm(xy[0, 468] - xy[0, 473]) / 63.0)
    assert px_per_mm(xy)[0] == pytest.approx(good, rel=0.2)


coordinates = st.one_of(
    st.floats(-2000, 2000, width=32), st.sampled_from([np.nan, np.inf, -np.inf, 1e30, 0.0])
)


@st.composite
def distorted_faces(draw) -> np.ndarray:
    """The reference face squashed, rotated, shifted, noised and with some landmarks collapsed onto one."""
    face = reference_landmarks()[0].astype(np.float64)
    angle = draw(st.floats(-np.pi, np.pi))
    scale = draw(st.floats(0.0, 20.0))
    squash = draw(st.floats(0.0, 2.0))
    rotation = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    face = (face * [1.0, squash]) @ rotation.T * scale + draw(st.floats(-500, 500))
    seed = draw(st.integers(0, 2**31))
    rng = np.random.default_rng(seed)
    face += rng.normal(0.0, draw(st.floats(0.0, 50.0)), face.shape)
    collapsed = rng.random(NUM_LANDMARKS) < draw(st.floats(0.0, 1.0))
    face[collapsed] = face[draw(st.integers(0, NUM_LANDMARKS - 1))]
    return np.concatenate([face, np.zeros((NUM_LANDMARKS, 1))], axis=1)[None].astype(np.float32)


@settings(max_examples=60, deadline=None)
@given(
    landmarks=st.one_of(
        arrays(
            np.float32,
            st.tuples(st.integers(0, 3), st.just(NUM_LANDMARKS), st.sampled_from([2, 3])),
            elements=coordinates,
        ),
        st.builds(lambda v, f: np.full((f, NUM_LANDMARKS, 3), v, np.float32), coordinates, st.integers(1, 2)),
        distorted_faces(),
    )
)
def test_any_landmarks_give_a_result_or_a_clear_error(landmarks) -> None:
    catalogue = load_catalogue()
    index = GeometryIndex.from_catalogue(catalogue)
    try:
        geometry = face_geometry(landmarks, index)
    except ValueError as err:
        assert "NaN" in str(err) or "1e7" in str(err)
        return
    faces = len(landmarks)
    assert geometry.area_points.shape == (faces, len(index.area_index), 2)
    assert np.isfinite(geometry.line_points).all() and np.isfinite(geometry.px_per_mm).all()
    plan = Plan((Treatment(("lips", "forehead", "cheek_left"), "ha_filler", Plan().moment),), "hands")
    statuses = segment_status(geometry, evaluate(plan, catalogue))
    assert statuses.shape == (faces, index.num_segments) and statuses.dtype == np.uint8
    assert set(np.unique(statuses)) <= {0, 1, 2}
