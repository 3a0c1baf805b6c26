"""What the camera cannot see is not drawn: per-landmark visibility from the mesh, per-zone visible fractions,
per-segment visibility, neck lines from each side's own visible jaw, and the forehead up to the hairline.

Real photos: frontal samples, a real head turned about 40-45 degrees and one turned about 10-15 degrees
(fetched by checksum at set-up), and a real frontal mesh rotated in 3D.
"""

from __future__ import annotations

from collections.abc import Iterator

import cv2
import numpy as np
import pytest

from vision.assets import GROUP_PHOTO, SLIGHTLY_TURNED_FACE, TURNED_FACE, ensure
from vision.canonical import canonical_mesh, canonical_triangles
from vision.faces import Faces
from vision.finder import FaceFinder
from vision.io import read_image
from vision.visibility import landmark_visibility
from zones.catalogue import load_catalogue
from zones.geometry import AREA_MIN_VISIBLE, FACE_OVAL, GeometryIndex, face_axes, face_geometry

ON_THE_NOSE_IOD = 0.05  # deeper inside the nose's outline than this (in eye distances) is "on the nose"


@pytest.fixture(scope="module")
def catalogue():
    return load_catalogue(None)


@pytest.fixture(scope="module")
def index(catalogue) -> GeometryIndex:
    return GeometryIndex.from_catalogue(catalogue)


@pytest.fixture(scope="module")
def photos() -> Iterator[dict[str, Faces]]:
    """name -> the faces the finder maps in it: the turned heads and the group photo."""
    with FaceFinder() as finder:
        yield {
            name: finder.find(read_image(ensure(asset)), color="bgr").faces
            for name, asset in (
                ("turned", TURNED_FACE),
                ("slightly_turned", SLIGHTLY_TURNED_FACE),
                ("group", GROUP_PHOTO),
            )
        }


@pytest.fixture(scope="module")
def turned(photos) -> Faces:
    faces = photos["turned"]
    assert len(faces) == 1 and faces.poses[0, 0] < -30, "the subject turned to their right by 30+ degrees"
    return faces


def _outline(catalogue, area_id: str) -> list[int]:
    return list(catalogue.areas[catalogue.area_index(area_id)].outline)


def test_canonical_triangles_are_consistently_wound() -> None:
    triangles = canonical_triangles()
    assert triangles.shape == (898, 3) and triangles.min() == 0 and triangles.max() == 467
    mesh = canonical_mesh()
    normals = np.cross(
        mesh[triangles[:, 1]] - mesh[triangles[:, 0]], mesh[triangles[:, 2]] - mesh[triangles[:, 0]]
    )
    assert (normals[:, 2] > 0).mean() > 0.97  # seen from the front (+z), counter-clockwise with y up


def test_frontal_faces_are_seen_whole(zone_sample_faces, photos, index) -> None:
    faces = [zone_sample_faces[name][1] for name in ("astronaut", "grace_hopper")] + [photos["group"]]
    for face in faces:
        geometry = face_geometry(face, index)
        assert geometry.landmark_visible[:, :468].mean() > 0.97
        assert geometry.area_visible.all(), "every zone of a frontal face stays visible"
        assert geometry.area_visible_fraction.min() >= 0.8
        assert geometry.segment_visible.mean() > 0.98


def test_the_far_side_of_a_turned_head_is_hidden_and_the_near_side_seen(turned, index) -> None:
    geometry = face_geometry(turned, index)
    fraction = dict(zip(index.area_ids, geometry.area_visible_fraction[0].tolist(), strict=True))
    # turned to the subject's right: their right side is the far side
    for area_id in ("temple_right", "tear_trough_right", "cheek_right", "jawline_right", "crows_feet_right"):
        assert fraction[area_id] < AREA_MIN_VISIBLE, area_id
    for area_id in (
        "temple_left",
        "tear_trough_left",
        "cheek_left",
        "jawline_left",
        "crows_feet_left",
        "lips",
    ):
        assert fraction[area_id] == 1.0, area_id
    assert AREA_MIN_VISIBLE <= fraction["nose"] < 1.0  # the nose is drawn, but only the part the camera sees


def test_nothing_of_the_far_side_is_drawn_on_the_nose(turned, catalogue, index) -> None:
    """The issue's failure: the far cheek, tear trough, crow's feet and nasolabial collapse onto the nose."""
    geometry = face_geometry(turned, index)
    xy = turned.landmarks[0, :, :2]
    nose = xy[_outline(catalogue, "nose")].astype(np.float32).reshape(-1, 1, 2)
    eyes = float(np.linalg.norm(xy[468] - xy[473]))

    def depth_in_nose(point: np.ndarray) -> float:
        return cv2.pointPolygonTest(nose, (float(point[0]), float(point[1])), True) / eyes

    for a, polygon in enumerate(geometry.polygons(0)):
        if index.area_sides[a] == "right" and geometry.area_visible[0, a]:
            assert max(map(depth_in_nose, polygon)) < ON_THE_NOSE_IOD, index.area_ids[a]
    middles = geometry.segment_midpoints()[0]
    for s in np.flatnonzero(geometry.segment_visible[0]):
        line = index.segment_line[s]
        if index.line_sides[line] == "right":
            assert depth_in_nose(middles[s]) < ON_THE_NOSE_IOD, index.line_ids[line]


def test_no_neck_stroke_crosses_the_lips_or_the_face(
    turned, photos, zone_sample_faces, catalogue, index
) -> None:
    for faces in (turned, photos["slightly_turned"], zone_sample_faces["grace_hopper"][1]):
        geometry = face_geometry(faces, index)
        for f in range(len(faces)):
            xy = faces.landmarks[f, :, :2]
            lips = xy[_outline(catalogue, "lips")].astype(np.float32).reshape(-1, 1, 2)
            chin = xy[_outline(catalogue, "chin")].astype(np.float32).reshape(-1, 1, 2)
            for line_id in ("neck_right", "neck_left"):
                line = index.line_ids.index(line_id)
                points = geometry.strokes(f)[line]
                seen = geometry.segment_visible[
                    f, index.segment_offsets[line] : index.segment_offsets[line + 1]
                ]
                assert seen.any(), f"{line_id} drawn at all"
                for s in np.flatnonzero(seen):
                    for point in (points[s], points[s + 1], (points[s] + points[s + 1]) / 2):
                        where = (float(point[0]), float(point[1]))
                        assert cv2.pointPolygonTest(lips, where, False) < 0, line_id
                        assert cv2.pointPolygonTest(chin, where, False) < 0, line_id


def test_the_far_neck_line_hangs_from_a_visible_jaw_point(turned, index) -> None:
    geometry = face_geometry(turned, index)
    line = index.line_ids.index("neck_right")
    start = geometry.strokes(0)[line][0]
    xy = turned.landmarks[0, :, :2]
    jaw = [i for i in FACE_OVAL if geometry.landmark_visible[0, i]]
    nearest = jaw[int(np.argmin(np.linalg.norm(xy[jaw] - start, axis=1)))]
    assert geometry.landmark_visible[0, nearest]
    assert not geometry.landmark_visible[0, 132], "the far jaw angle itself is out of sight"


def test_visibility_follows_a_real_mesh_rotated_in_3d(zone_sample_faces) -> None:
    """Grace Hopper's frontal mesh turned about its vertical axis: the far side disappears, symmetrically."""
    faces = zone_sample_faces["grace_hopper"][1]
    mesh = faces.landmarks[0].astype(np.float64)
    centre = mesh[:468].mean(axis=0)
    seen = {}
    for degrees in (-50.0, 0.0, 50.0):
        angle = np.radians(degrees)
        rotation = np.array(
            [[np.cos(angle), 0, np.sin(angle)], [0, 1, 0], [-np.sin(angle), 0, np.cos(angle)]]
        )
        turned = (mesh - centre) @ rotation.T + centre
        seen[degrees] = landmark_visibility(turned[None].astype(np.float32))[0]
    assert seen[0.0][:468].mean() > 0.97
    left_cheek, right_cheek = 454, 234  # the outline's widest points, subject's left and right
    assert seen[50.0][right_cheek] != seen[50.0][left_cheek]
    assert seen[-50.0][right_cheek] != seen[-50.0][left_cheek]
    assert seen[50.0][right_cheek] == seen[-50.0][left_cheek]
    for degrees in (-50.0, 50.0):
        assert 0.55 < seen[degrees][:468].mean() < 0.9


def test_visibility_is_the_same_in_the_mirrored_view(turned) -> None:
    np.testing.assert_array_equal(
        landmark_visibility(turned.landmarks), landmark_visibility(turned.mirror().landmarks)
    )


def test_visibility_of_several_faces_at_once_is_each_face_alone(turned, photos) -> None:
    """All faces go through one batch: a turned head among frontal ones (and no faces at all) changes
    nothing face by face."""
    group = photos["group"].landmarks
    landmarks = np.concatenate([group[:2], turned.landmarks, group[2:]])
    together = landmark_visibility(landmarks)
    alone = np.concatenate([landmark_visibility(face[None]) for face in landmarks])
    np.testing.assert_array_equal(together, alone)
    assert (~together[2, :468]).sum() > (~together[[0, 1, 3], :468]).sum(axis=1).max()
    assert landmark_visibility(np.zeros((0, 478, 3), np.float32)).shape == (0, 478)


def test_visibility_rejects_a_bad_shape() -> None:
    with pytest.raises(ValueError, match="478"):
        landmark_visibility(np.zeros((1, 468, 3), np.float32))


def test_without_depth_only_the_face_crossing_rule_hides(turned, index) -> None:
    """2-column landmarks carry no depth: every landmark counts as seen, yet the far neck line, left hanging
    from the far jaw angle, would cross the face and is hidden all the same."""
    geometry = face_geometry(turned.landmarks[..., :2], index)
    assert geometry.landmark_visible.all() and geometry.area_visible.all()
    hidden = np.flatnonzero(~geometry.segment_visible[0])
    assert hidden.size and index.segment_off_mesh[hidden].all()
    assert {index.line_ids[index.segment_line[s]] for s in hidden} == {"neck_right"}


def test_the_forehead_reaches_above_the_mesh_along_the_face(zone_sample_faces, catalogue, index) -> None:
    faces = zone_sample_faces["grace_hopper"][1]
    geometry = face_geometry(faces, index)
    xy = faces.landmarks[:, :, :2]
    _, down, height = face_axes(xy)
    forehead = geometry.polygons(0)[catalogue.area_index("forehead")]
    rise = float(((xy[0, 10] - forehead) @ down[0]).max() / height[0])  # how far above landmark 10
    assert 0.05 < rise < 0.15
    top = catalogue.areas[catalogue.area_index("forehead")].outline.index(10)
    np.testing.assert_allclose(forehead[top], xy[0, 10] - 0.08 * height[0] * down[0], atol=0.5)
