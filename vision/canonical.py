"""MediaPipe's canonical face mesh, read from the face landmarker bundle: vertices and triangles.

The bundle (a zip) holds ``geometry_pipeline_metadata_landmarks.binarypb``, a ``GeometryPipelineMetadata``
protobuf whose Python classes the mediapipe wheel does not ship. Its wire format is small enough to read by
hand: field 1 is the canonical ``Mesh3d``, whose field 3 is the vertex buffer (5 float32 per vertex: x, y,
z in centimetres with y up, then u, v texture coordinates) and field 4 the index buffer (898 triangles, three
vertex ids each, consistently wound: counter-clockwise seen from the front with y up).
"""

from __future__ import annotations

import struct
import zipfile
from functools import lru_cache
from pathlib import Path

import numpy as np

from vision.assets import FACE_LANDMARKER, ensure

_MEMBER = "geometry_pipeline_metadata_landmarks.binarypb"
_MESH_FIELD = 1
_VERTEX_FIELD = 3
_INDEX_FIELD = 4
_FLOATS_PER_VERTEX = 5
MESH_VERTICES = 468


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


def _mesh_fields(blob: bytes) -> list[tuple[int, int, bytes | int]]:
    meshes = [v for n, w, v in _fields(blob) if n == _MESH_FIELD and w == 2]
    if not meshes or not isinstance(meshes[0], bytes):
        raise TemplateError("no canonical mesh in the geometry metadata")
    return _fields(meshes[0])


def parse_canonical_mesh(blob: bytes) -> np.ndarray:
    """``GeometryPipelineMetadata`` bytes -> canonical vertices ``(468, 3) float32`` (cm, y up)."""
    floats: list[float] = []
    for number, wire, value in _mesh_fields(blob):
        if number != _VERTEX_FIELD:
            continue
        if wire == 5 and isinstance(value, bytes):  # unpacked repeated float
            floats.append(struct.unpack("<f", value)[0])
        elif wire == 2 and isinstance(value, bytes):  # packed repeated float
            floats.extend(np.frombuffer(value, "<f4").tolist())
    vertices = np.asarray(floats, np.float32)
    if vertices.size != MESH_VERTICES * _FLOATS_PER_VERTEX:
        raise TemplateError(
            f"expected {MESH_VERTICES} vertices, found {vertices.size / _FLOATS_PER_VERTEX:g}"
        )
    return vertices.reshape(MESH_VERTICES, _FLOATS_PER_VERTEX)[:, :3].copy()


def parse_triangles(blob: bytes) -> np.ndarray:
    """``GeometryPipelineMetadata`` bytes -> the canonical mesh's triangles ``(T, 3) intp`` vertex ids."""
    ids: list[int] = []
    for number, wire, value in _mesh_fields(blob):
        if number != _INDEX_FIELD:
            continue
        if wire == 0 and isinstance(value, int):  # unpacked repeated uint32
            ids.append(value)
        elif wire == 2 and isinstance(value, bytes):  # packed repeated varints
            pos = 0
            while pos < len(value):
                item, pos = _varint(value, pos)
                ids.append(item)
    triangles = np.asarray(ids, np.intp)
    if triangles.size == 0 or triangles.size % 3 or triangles.max() >= MESH_VERTICES:
        raise TemplateError(f"the canonical mesh's index buffer is not triangles of {MESH_VERTICES} vertices")
    return triangles.reshape(-1, 3)


def _metadata(model_path: str | None) -> bytes:
    bundle = Path(model_path) if model_path else ensure(FACE_LANDMARKER)
    try:
        with zipfile.ZipFile(bundle) as archive:
            return archive.read(_MEMBER)
    except (OSError, KeyError, zipfile.BadZipFile) as err:
        raise TemplateError(f"{bundle} holds no readable {_MEMBER}: {err}") from err


@lru_cache(maxsize=2)
def canonical_mesh(model_path: str | None = None) -> np.ndarray:
    """MediaPipe's canonical face ``(468, 3) float32``, read once from the face landmarker bundle."""
    return parse_canonical_mesh(_metadata(model_path))


@lru_cache(maxsize=2)
def canonical_triangles(model_path: str | None = None) -> np.ndarray:
    """The canonical mesh's triangles ``(898, 3) intp`` (read-only), read once from the bundle."""
    triangles = parse_triangles(_metadata(model_path))
    triangles.setflags(write=False)
    return triangles
