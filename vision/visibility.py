"""Which landmarks the camera sees: facing direction and self-occlusion behind the nose, from the mesh alone.

A turned head shows the far cheek foreshortened and partly behind the nose; zones and strokes drawn there land
on the nose bridge and the profile. Each landmark is visible when its surface faces the camera (the area-
weighted normal of its triangles, from MediaPipe's consistently wound canonical triangles, points towards the
viewer by more than ``MIN_FACING``) and no nearer part of the protruding nose covers it. Everything is array
arithmetic over the 898 triangles and all faces at once; what depends only on the mesh's topology is built
once; the occlusion test runs only for landmarks inside the occluders' boxes.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from vision.canonical import MESH_VERTICES, canonical_mesh, canonical_triangles
from vision.faces import IRIS_LEFT, IRIS_RIGHT, NUM_LANDMARKS

MIN_FACING = 0.0  # a landmark whose normal points away from the camera (or edge-on) is hidden
OCCLUSION_MIN_FACING = -0.5  # landmarks turned further away than this are not tested for occlusion
# the nose hides what lies behind it: canonical triangles whose centre stands this far forward, above the lip
OCCLUDER_MIN_Z_CM, OCCLUDER_MIN_Y_CM = 5.0, -2.4
DEPTH_MARGIN = 0.02  # a landmark is behind an occluder when deeper by this share of the face width
EYE_CORNERS = {"right": (33, 133), "left": (263, 362)}
_NEXT, _AFTER = [1, 2, 0], [2, 0, 1]  # axis orders of a cross product


@dataclass(frozen=True)
class _Topology:
    """What depends on the canonical mesh alone, built once: each triangle's corner ids ``first``, ``second``,
    ``third (T,)``; ``corner_slots (3 * T * 3,)`` the flat (vertex, axis) slot each triangle's normal adds to,
    corner by corner; the occluder triangle ids ``occluders (O,)``; their corners as ``occluder_vertices
    (468,) bool`` and as ids ``nose_vertices (N,)``."""

    first: np.ndarray
    second: np.ndarray
    third: np.ndarray
    corner_slots: np.ndarray
    occluders: np.ndarray
    occluder_vertices: np.ndarray
    nose_vertices: np.ndarray


@lru_cache(maxsize=1)
def _topology() -> _Topology:
    triangles = canonical_triangles()
    centres = canonical_mesh()[triangles].mean(axis=1)
    occluders = np.flatnonzero((centres[:, 2] > OCCLUDER_MIN_Z_CM) & (centres[:, 1] > OCCLUDER_MIN_Y_CM))
    occluder_vertices = np.zeros(MESH_VERTICES, bool)
    occluder_vertices[np.unique(triangles[occluders])] = True
    corner_slots = (3 * triangles.T[:, :, None] + np.arange(3)).reshape(-1)  # (corner, triangle, axis)
    first, second, third = (np.ascontiguousarray(column) for column in triangles.T)
    nose_vertices = np.flatnonzero(occluder_vertices)
    return _Topology(first, second, third, corner_slots, occluders, occluder_vertices, nose_vertices)


def landmark_visibility(landmarks: np.ndarray, min_facing: float = MIN_FACING) -> np.ndarray:
    """``(F, 478, 3)`` landmarks in pixels (x right, y down, z away from the camera, as ``Faces`` holds them)
    -> ``(F, 478) bool``: True where the camera sees the skin at that landmark (``landmark_facing``'s cosine
    above ``min_facing`` and not behind the nose). Raises ``ValueError`` for another shape.
    """
    facing, occluded = landmark_facing(landmarks)
    return (facing > min_facing) & ~occluded


def landmark_facing(landmarks: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(F, 478, 3)`` landmarks -> ``(F, 478) float32`` cosine between each landmark's normal and the view
    (1: faces the camera, 0: edge-on, below 0: turned away) and ``(F, 478) bool`` behind the nose.

    A face seen from the front shows more front-facing than back-facing triangle area, so each face's own sum
    of normals tells which winding faces the camera: a mirrored (selfie) view, which reverses the winding,
    needs no flag. Irises take their eye corners' values. Only landmarks facing better than
    ``OCCLUSION_MIN_FACING`` are tested for occlusion. All faces at once. Raises ``ValueError`` for another
    shape.
    """
    points = np.asarray(landmarks, np.float32)
    if points.ndim != 3 or points.shape[1:] != (NUM_LANDMARKS, 3):
        raise ValueError(f"landmarks must be (F, 478, 3), got {points.shape}")
    topology = _topology()
    count = points.shape[0]
    mesh = points[:, :MESH_VERTICES]
    origin = mesh[:, topology.first]  # (F, T, 3) each triangle's first corner, then its two edges
    edge0, edge1 = mesh[:, topology.second] - origin, mesh[:, topology.third] - origin
    # the cross product by hand: np.cross costs twice as much on these small arrays
    normals = edge0[..., _NEXT] * edge1[..., _AFTER] - edge0[..., _AFTER] * edge1[..., _NEXT]
    # front faces point at the viewer (-z); whichever sign dominates the face's summed normal is the front
    towards = np.where(normals[:, :, 2].sum(axis=1) < 0, -1.0, 1.0).astype(np.float32)
    # area-weighted vertex normals: every triangle's normal added to its three corners, in one bincount
    slots = topology.corner_slots + (3 * MESH_VERTICES) * np.arange(count)[:, None]
    spread = np.broadcast_to(normals[:, None], (count, 3, *normals.shape[1:]))
    vertex_normals = np.bincount(
        slots.reshape(-1), spread.reshape(-1), minlength=count * MESH_VERTICES * 3
    ).reshape(count, MESH_VERTICES, 3)
    length = np.maximum(np.linalg.norm(vertex_normals, axis=2), 1e-12)
    cosine = (towards[:, None] * vertex_normals[:, :, 2] / length).astype(np.float32)
    # occluders do not hide themselves; landmarks turned well away are not worth testing
    testable = ~topology.occluder_vertices & (cosine > OCCLUSION_MIN_FACING)
    occluded = _behind(
        mesh, origin, edge0, edge1, towards, testable, topology.occluders, topology.nose_vertices
    )
    facing = np.zeros((count, NUM_LANDMARKS), np.float32)
    hidden = np.zeros((count, NUM_LANDMARKS), bool)
    facing[:, :MESH_VERTICES], hidden[:, :MESH_VERTICES] = cosine, occluded
    for side, iris in (("right", IRIS_RIGHT), ("left", IRIS_LEFT)):
        eye = list(EYE_CORNERS[side])
        facing[:, iris] = np.asarray(facing[:, eye].min(axis=1))[:, None]
        hidden[:, iris] = np.asarray(hidden[:, eye].any(axis=1))[:, None]
    return facing, hidden


def _behind(
    mesh: np.ndarray,
    origin: np.ndarray,
    edge0: np.ndarray,
    edge1: np.ndarray,
    towards: np.ndarray,
    testable: np.ndarray,
    occluders: np.ndarray,
    nose_vertices: np.ndarray,
) -> np.ndarray:
    """``(F, 468) bool``: ``testable (F, 468)`` vertices covered by a nearer front-facing occluder triangle.

    ``mesh (F, 468, 3)``; ``origin``, ``edge0``, ``edge1 (F, T, 3)`` each triangle's first corner and its two
    edges; ``towards (F,)`` the sign of a front face's normal z; ``occluders (O,)`` triangle ids and
    ``nose_vertices`` their corners' ids. Vertices inside the box of a face's occluders are paired with the
    front triangles whose boxes hold them, then a barycentric point-in-triangle test in the image plane and
    the triangle's depth there against the vertex's.
    """
    a, e0, e1 = origin[:, occluders], edge0[:, occluders], edge1[:, occluders]  # (F, O, 3)
    det = e0[..., 0] * e1[..., 1] - e0[..., 1] * e1[..., 0]  # the normal's z: its sign tells front from back
    front = towards[:, None] * det > 0
    low = a[..., :2] + np.minimum(np.minimum(e0[..., :2], e1[..., :2]), 0.0)  # (F, O, 2) triangle boxes
    high = a[..., :2] + np.maximum(np.maximum(e0[..., :2], e1[..., :2]), 0.0)
    xy = mesh[..., :2]
    nose = xy[:, nose_vertices]  # no vertex outside the occluders' box (F, 1, 2) can be covered
    nose_low, nose_high = nose.min(axis=1, keepdims=True), nose.max(axis=1, keepdims=True)
    candidate = testable & ((xy >= nose_low) & (xy <= nose_high)).all(axis=2)
    hidden = np.zeros(testable.shape, bool)
    most = int(candidate.sum(axis=1).max(initial=0))
    if most == 0:
        return hidden
    # each face's candidates first (padded to the most any face has), against that face's triangle boxes
    vertex = np.argsort(~candidate, axis=1, kind="stable")[:, :most]  # (F, K)
    valid = np.take_along_axis(candidate, vertex, axis=1)
    q = np.take_along_axis(mesh, vertex[..., None], axis=1)  # (F, K, 3)
    qx, qy = q[..., 0, None], q[..., 1, None]  # (F, K, 1) against (F, 1, O)
    inside = (valid[..., None] & front[:, None]) & (low[:, None, :, 0] <= qx) & (high[:, None, :, 0] >= qx)
    inside &= (low[:, None, :, 1] <= qy) & (high[:, None, :, 1] >= qy)
    pairs = np.flatnonzero(inside)  # flat, then split: much cheaper than a 3-D nonzero
    if pairs.size == 0:
        return hidden
    owner, rest = np.divmod(pairs, inside.shape[1] * inside.shape[2])
    rows, cols = np.divmod(rest, inside.shape[2])
    pa, p0, p1, pq = a[owner, cols], e0[owner, cols], e1[owner, cols], q[owner, rows]
    d = pq - pa
    u = (d[:, 0] * p1[:, 1] - d[:, 1] * p1[:, 0]) / det[owner, cols]
    v = (p0[:, 0] * d[:, 1] - p0[:, 1] * d[:, 0]) / det[owner, cols]
    depth = pa[:, 2] + u * p0[:, 2] + v * p1[:, 2]
    width = np.ptp(mesh[..., 0], axis=1)
    margin = DEPTH_MARGIN * np.where(width > 0, width, 1.0)[owner]
    covered = (u >= 0) & (v >= 0) & (u + v <= 1) & (pq[:, 2] > depth + margin)
    hidden[owner[covered], vertex[owner[covered], rows[covered]]] = True
    return hidden
