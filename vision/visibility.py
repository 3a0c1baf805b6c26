"""Which landmarks the camera sees: facing direction and self-occlusion behind the nose, from the mesh alone.

A turned head shows the far cheek foreshortened and partly behind the nose; zones and strokes drawn there land
on the nose bridge and the profile. Each landmark is visible when its surface faces the camera (the area-
weighted normal of its triangles, from MediaPipe's consistently wound canonical triangles, points towards the
viewer by more than ``MIN_FACING``) and no nearer part of the protruding nose covers it. Everything is array
arithmetic over the 898 triangles; the occlusion test runs only for landmarks inside the occluders' boxes.
"""

from __future__ import annotations

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


@lru_cache(maxsize=1)
def _tables() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Triangles (T, 3), occluder triangle ids, occluder vertices (468,) bool."""
    triangles = canonical_triangles()
    centres = canonical_mesh()[triangles].mean(axis=1)
    occluders = np.flatnonzero((centres[:, 2] > OCCLUDER_MIN_Z_CM) & (centres[:, 1] > OCCLUDER_MIN_Y_CM))
    occluder_vertices = np.zeros(MESH_VERTICES, bool)
    occluder_vertices[np.unique(triangles[occluders])] = True
    return triangles, occluders, occluder_vertices


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
    ``OCCLUSION_MIN_FACING`` are tested for occlusion. Raises ``ValueError`` for another shape.
    """
    points = np.asarray(landmarks, np.float32)
    if points.ndim != 3 or points.shape[1:] != (NUM_LANDMARKS, 3):
        raise ValueError(f"landmarks must be (F, 478, 3), got {points.shape}")
    triangles, occluders, occluder_vertices = _tables()
    count = points.shape[0]
    mesh = points[:, :MESH_VERTICES]
    corners = mesh[:, triangles]  # (F, T, 3, 3)
    normals = np.cross(corners[:, :, 1] - corners[:, :, 0], corners[:, :, 2] - corners[:, :, 0])
    # front faces point at the viewer (-z); whichever sign dominates the face's summed normal is the front
    towards = np.where(normals[:, :, 2].sum(axis=1) < 0, -1.0, 1.0).astype(np.float32)[:, None]
    # area-weighted vertex normals: every triangle's normal added to its three corners, one bincount per axis
    slots = (triangles[None] + MESH_VERTICES * np.arange(count)[:, None, None]).reshape(-1)
    spread = np.repeat(normals.reshape(-1, 3), 3, axis=0)
    vertex_normals = np.stack(
        [np.bincount(slots, spread[:, axis], minlength=count * MESH_VERTICES) for axis in range(3)], axis=1
    ).reshape(count, MESH_VERTICES, 3)
    length = np.maximum(np.linalg.norm(vertex_normals, axis=2), 1e-12)
    cosine = (towards * vertex_normals[:, :, 2] / length).astype(np.float32)
    occluded = np.zeros((count, MESH_VERTICES), bool)
    front = towards * normals[:, occluders, 2] > 0
    for face in range(count):
        # occluders do not hide themselves; landmarks turned well away are not worth testing
        skip = occluder_vertices | (cosine[face] <= OCCLUSION_MIN_FACING)
        occluded[face] = _behind(mesh[face], corners[face, occluders[front[face]]], skip)
    facing = np.zeros((count, NUM_LANDMARKS), np.float32)
    hidden = np.zeros((count, NUM_LANDMARKS), bool)
    facing[:, :MESH_VERTICES], hidden[:, :MESH_VERTICES] = cosine, occluded
    for side, iris in (("right", IRIS_RIGHT), ("left", IRIS_LEFT)):
        eye = list(EYE_CORNERS[side])
        facing[:, iris] = np.asarray(facing[:, eye].min(axis=1))[:, None]
        hidden[:, iris] = np.asarray(hidden[:, eye].any(axis=1))[:, None]
    return facing, hidden


def _behind(mesh: np.ndarray, occluders: np.ndarray, skip: np.ndarray) -> np.ndarray:
    """``(468,) bool``: vertices (but those in ``skip``) covered by a nearer occluder triangle.

    ``mesh (468, 3)``, ``occluders (O, 3, 3)`` front-facing triangles. Barycentric point-in-triangle test in
    the image plane, then the triangle's depth at that point against the vertex's depth.
    """
    hidden = np.zeros(len(mesh), bool)
    if len(occluders) == 0:
        return hidden
    low, high = occluders[..., :2].min(axis=(0, 1)), occluders[..., :2].max(axis=(0, 1))
    candidates = np.flatnonzero(~skip & (mesh[:, :2] >= low).all(axis=1) & (mesh[:, :2] <= high).all(axis=1))
    if candidates.size == 0:
        return hidden
    # pairs (vertex, triangle) whose boxes overlap, then the exact test on those few
    p = mesh[candidates]
    tri_low, tri_high = occluders[..., :2].min(axis=1), occluders[..., :2].max(axis=1)
    rows, cols = np.nonzero(
        (p[:, None, 0] >= tri_low[None, :, 0])
        & (p[:, None, 0] <= tri_high[None, :, 0])
        & (p[:, None, 1] >= tri_low[None, :, 1])
        & (p[:, None, 1] <= tri_high[None, :, 1])
    )
    if rows.size == 0:
        return hidden
    a, b, c, q = occluders[cols, 0], occluders[cols, 1], occluders[cols, 2], p[rows]
    e0, e1, e2 = b - a, c - a, q - a
    det = e0[:, 0] * e1[:, 1] - e0[:, 1] * e1[:, 0]
    safe = np.where(np.abs(det) > 1e-9, det, np.inf)
    u = (e2[:, 0] * e1[:, 1] - e2[:, 1] * e1[:, 0]) / safe
    v = (e0[:, 0] * e2[:, 1] - e0[:, 1] * e2[:, 0]) / safe
    depth = a[:, 2] + u * e0[:, 2] + v * e1[:, 2]
    width = float(np.ptp(mesh[:, 0])) or 1.0
    covered = (u >= 0) & (v >= 0) & (u + v <= 1) & (q[:, 2] > depth + DEPTH_MARGIN * width)
    hidden[candidates[rows[covered]]] = True
    return hidden
