"""A neutral frontal face for the printable chart: MediaPipe's canonical face mesh (``vision.canonical``)."""

from __future__ import annotations

import numpy as np

from vision.canonical import MESH_VERTICES, TemplateError, canonical_mesh, parse_canonical_mesh
from vision.faces import IRIS_LEFT, IRIS_RIGHT, NUM_LANDMARKS, Faces

__all__ = ["TemplateError", "canonical_mesh", "parse_canonical_mesh", "template_faces"]

# Eye corners and lids around each iris (subject's right: 33/133/159/145, left: 263/362/386/374).
_EYE_RING = {"right": (33, 133, 159, 145), "left": (263, 362, 386, 374)}


def _with_irises(mesh: np.ndarray) -> np.ndarray:
    """468 mesh points -> 478 landmarks: each iris as its eye's centre plus four rim points."""
    landmarks = np.zeros((NUM_LANDMARKS, 3), np.float32)
    landmarks[: len(mesh)] = mesh
    for side, iris in (("right", IRIS_RIGHT), ("left", IRIS_LEFT)):
        ring = mesh[list(_EYE_RING[side])]
        centre = ring.mean(axis=0)
        radius = 0.22 * np.linalg.norm(ring[0, :2] - ring[1, :2])
        offsets = np.array(
            [[0, 0, 0], [radius, 0, 0], [0, -radius, 0], [-radius, 0, 0], [0, radius, 0]], np.float32
        )
        landmarks[iris] = centre + offsets
    return landmarks


def template_faces(width: int, height: int, *, face_fraction: float = 0.62, centre_y: float = 0.46) -> Faces:
    """The canonical face drawn frontally in a ``width`` x ``height`` canvas, as a one-face ``Faces``.

    The face (mesh height) fills ``face_fraction`` of the canvas height; image y grows downwards, so the
    mesh's y (up) is negated. Landmark ids keep the subject's sides (subject's left on the image's right).
    """
    landmarks = _with_irises(canonical_mesh())
    span = landmarks[:MESH_VERTICES, 1].max() - landmarks[:MESH_VERTICES, 1].min()
    scale = face_fraction * height / span
    centre = (landmarks[:MESH_VERTICES].max(axis=0) + landmarks[:MESH_VERTICES].min(axis=0)) / 2
    pixels = np.empty_like(landmarks)
    pixels[:, 0] = width / 2 + (landmarks[:, 0] - centre[0]) * scale
    pixels[:, 1] = height * centre_y - (landmarks[:, 1] - centre[1]) * scale
    pixels[:, 2] = -(landmarks[:, 2] - centre[2]) * scale  # MediaPipe: smaller z is nearer the camera
    box = np.concatenate([pixels[:, :2].min(axis=0), pixels[:, :2].max(axis=0)])
    return Faces(
        landmarks=pixels[None].astype(np.float32),
        boxes=box[None].astype(np.float32),
        poses=np.zeros((1, 3), np.float32),
        image_size=(width, height),
    )
