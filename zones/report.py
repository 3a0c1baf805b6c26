"""The JSON a face gets in reports (CLI output, app downloads): its zones and its strokes, in frame pixels."""

from __future__ import annotations

from typing import Any

import numpy as np

from zones.catalogue import Catalogue
from zones.geometry import FaceGeometry
from zones.safety import CAUTION, NO_TOUCH, STATUS_NAMES, SafetyMap
from zones.wording import format_day, format_moment


def _points(array: np.ndarray) -> list[list[float]]:
    return np.round(array.astype(np.float64), 1).tolist()


def face_report(
    geometry: FaceGeometry, safety: SafetyMap, statuses: np.ndarray, face_index: int, catalogue: Catalogue
) -> dict[str, list[dict[str, Any]]]:
    """``{"zones": [...], "strokes": [...]}`` for face ``face_index``.

    zones: id, label, kind, side (the subject's own), status, safe_from (ISO or null), reason,
    polygon [[x, y], ...].
    strokes: id, label, step, points [[x, y], ...] in drawing order, segment_status (one name per
    consecutive pair of points). ``statuses`` is ``segment_status(geometry, safety)``, shape (F, S).
    """
    index = geometry.index
    if not 0 <= face_index < len(geometry):
        raise IndexError(f"face {face_index} out of range for {len(geometry)} faces")
    if statuses.shape != (len(geometry), index.num_segments):
        raise ValueError(f"statuses must be ({len(geometry)}, {index.num_segments}), got {statuses.shape}")
    names = np.asarray(STATUS_NAMES)
    zones = [
        {
            "id": area.id,
            "label": area.label,
            "kind": area.kind,
            "side": area.side,
            "status": STATUS_NAMES[int(safety.area_status[a])],
            "safe_from": format_moment(safety.verdicts[a].safe_from),
            "reason": safety.verdicts[a].reason,
            "polygon": _points(polygon),
        }
        for a, (area, polygon) in enumerate(zip(catalogue.areas, geometry.polygons(face_index), strict=True))
    ]
    segments = np.split(names[statuses[face_index]], index.segment_offsets[1:-1])
    strokes = [
        {
            "id": line.id,
            "label": line.label,
            "step": line.step,
            "points": _points(points),
            "segment_status": segment_names.tolist(),
        }
        for line, points, segment_names in zip(
            catalogue.lines, geometry.strokes(face_index), segments, strict=True
        )
    ]
    return {"zones": zones, "strokes": strokes}


def attention_rows(safety: SafetyMap, catalogue: Catalogue) -> list[dict[str, str]]:
    """The areas that are not simply safe, for the app's plan table: area, status, until, why, source."""
    return [
        {
            "area": area.label,
            "status": "no touch" if verdict.status == NO_TOUCH else "gently",
            "until": format_day(verdict.safe_from if verdict.status == NO_TOUCH else verdict.caution_until),
            "why": verdict.reason,
            "source": verdict.source,
        }
        for area, verdict in zip(catalogue.areas, safety.verdicts, strict=True)
        if verdict.status in (NO_TOUCH, CAUTION)
    ]
