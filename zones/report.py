"""The JSON a face gets in reports (CLI output, app downloads): its zones and its strokes, in frame pixels."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from zones.catalogue import Catalogue
from zones.geometry import FaceGeometry
from zones.safety import CAUTION, NO_TOUCH, STATUS_NAMES, SafetyMap
from zones.wording import format_day, format_moment

SCHEMA_VERSION = 1
SCHEMA_PATH = Path(__file__).resolve().parent.parent / "schemas" / "analysis.schema.json"


def _points(array: np.ndarray) -> list[list[float]]:
    return np.round(array.astype(np.float64), 1).tolist()


def face_report(
    geometry: FaceGeometry, safety: SafetyMap, statuses: np.ndarray, face_index: int, catalogue: Catalogue
) -> dict[str, list[dict[str, Any]]]:
    """``{"zones": [...], "strokes": [...]}`` for face ``face_index``.

    zones: id, label, kind, side (the subject's own), status, safe_from (ISO or null), reason,
    polygon [[x, y], ...] (as drawn: on a turned head a point the camera cannot see sits on its nearest
    visible neighbour), visible_fraction (0..1, share of the outline the camera sees), visible (drawn),
    verdict (who decided, the rule, its default, the range its sources span and its sources).
    strokes: id, label, step, points [[x, y], ...] in drawing order, segment_status (one name per
    consecutive pair of points), segment_visible (one bool per segment: False over mesh the camera cannot
    see, or where a neck line would cross the face). ``statuses`` is ``segment_status(geometry, safety)``,
    shape (F, S).
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
            "verdict": safety.verdicts[a].as_json(),
            "visible_fraction": round(float(geometry.area_visible_fraction[face_index, a]), 3),
            "visible": bool(geometry.area_visible[face_index, a]),
        }
        for a, (area, polygon) in enumerate(zip(catalogue.areas, geometry.polygons(face_index), strict=True))
    ]
    seen = np.split(geometry.segment_visible[face_index], index.segment_offsets[1:-1])
    segments = np.split(names[statuses[face_index]], index.segment_offsets[1:-1])
    strokes = [
        {
            "id": line.id,
            "label": line.label,
            "step": line.step,
            "points": _points(points),
            "segment_status": segment_names.tolist(),
            "segment_visible": segment_seen.tolist(),
        }
        for line, points, segment_names, segment_seen in zip(
            catalogue.lines, geometry.strokes(face_index), segments, seen, strict=True
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


def guidance_report(safety: SafetyMap) -> dict[str, Any]:
    """The analysis JSON's top-level ``guidance`` ("given" or "withheld"), its reasons, actions and the
    screening state (questions answered yes, questions not answered)."""
    return safety.guidance.as_json()
