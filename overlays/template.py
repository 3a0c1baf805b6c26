"""A neutral frontal face for the printable chart: MediaPipe's canonical face mesh, from the model bundle.

The face landmarker bundle (a zip) holds ``geometry_pipeline_metadata_landmarks.binarypb``, a
``GeometryPipelineMetadata`` protobuf whose Python classes the mediapipe wheel does not ship. Its wire format
is small enough to read by hand: field 1 is the canonical ``Mesh3d``, whose field 3 is the vertex buffer
(5 float32 per vertex: x, y, z in centimetres with y up, then u, v texture coordinates).
"""

from __future__ import annotations

import struct
import zipfile
from functools import lru_cache
from pathlib import Path

import numpy as np

from vision.assets import FACE_LANDMARKER, ensure
from vision.faces import IRIS_LEFT, IRIS_RIGHT, NUM_LANDMARKS, Faces

_MEMBER = "geometry_pipeline_metadata_landmarks.binarypb"
_MESH_FIELD = 1
_VERTEX_FIELD = 3
_FLOATS_PER_VERTEX = 5
MESH_VERTICES = 468
# Eye corners and lids around each iris (subject's right: 33/133/159/145, left: 263/362/386/374).
_EYE_RING = {"right": (33, 133, 159, 145), "left": (263, 362, 386, 374)}


class TemplateError(ValueError):
    """The model bundle does not hold a readable canonical mesh."""


def _varint(data: bytes, pos: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        if pos >= len(data):
            raise TemplateError("truncated varint in the canonical mesh")
        byte = data[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        shift += 7
        if byte < 0x80:
            return value, pos


def _take(data: bytes, pos: int, size: int) -> bytes:
    if pos + size > len(data):
        raise TemplateError("truncated field in the canonical mesh")
    return data[pos : pos + size]


def _fields(data: bytes) -> list[tuple[int, int, bytes | int]]:
    """Decode one protobuf message into ``(field number, wire type, value)`` triples (no nesting)."""
    out: list[tuple[int, int, bytes | int]] = []
    pos = 0
    while pos < len(data):
        key, pos = _varint(data, pos)
        number, wire = key >> 3, key & 7
        if wire == 0:
            value, pos = _varint(data, pos)
            out.append((number, wire, value))
        elif wire in (1, 5):
            size = 8 if wire == 1 else 4
            out.append((number, wire, _take(data, pos, size)))
            pos += size
        elif wire == 2:
            size, pos = _varint(data, pos)
            out.append((number, wire, _take(data, pos, size)))
            pos += size
        else:
            raise TemplateError(f"unsupported protobuf wire type {wire}")
    return out


def parse_canonical_mesh(blob: bytes) -> np.ndarray:
    """``GeometryPipelineMetadata`` bytes -> canonical vertices ``(468, 3) float32`` (cm, y up)."""
    meshes = [v for n, w, v in _fields(blob) if n == _MESH_FIELD and isinstance(v, bytes)]
    if not meshes:
        raise TemplateError("no canonical mesh in the geometry metadata")
    floats: list[float] = []
    for number, wire, value in _fields(meshes[0]):
        if number != _VERTEX_FIELD or not isinstance(value, bytes):
            continue
        if wire == 5:  # unpacked repeated float
            floats.append(struct.unpack("<f", value)[0])
        elif wire == 2:  # packed repeated float
            floats.extend(np.frombuffer(value, "<f4").tolist())
    vertices = np.asarray(floats, np.float32)
    if vertices.size != MESH_VERTICES * _FLOATS_PER_VERTEX:
        raise TemplateError(
            f"expected {MESH_VERTICES} vertices, found {vertices.size / _FLOATS_PER_VERTEX:g}"
        )
    return vertices.reshape(MESH_VERTICES, _FLOATS_PER_VERTEX)[:, :3].copy()


@lru_cache(maxsize=2)
def canonical_mesh(model_path: str | None = None) -> np.ndarray:
    """MediaPipe's canonical face ``(468, 3) float32``, read once from the face landmarker bundle."""
    bundle = Path(model_path) if model_path else ensure(FACE_LANDMARKER)
    try:
        with zipfile.ZipFile(bundle) as archive:
            blob = archive.read(_MEMBER)
    except (OSError, KeyError, zipfile.BadZipFile) as err:
        raise TemplateError(f"{bundle} holds no readable {_MEMBER}: {err}") from err
    return parse_canonical_mesh(blob)


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
