"""The analysis JSON's schema (schemas/analysis.schema.json) describes what zones report, and catches the
two things the contract exists for: a verdict a rule decided without sources, and a safe segment while
guidance is withheld."""

from __future__ import annotations

import copy
import json
from datetime import date

import jsonschema
import numpy as np
import pytest

from zones.catalogue import load_catalogue
from zones.geometry import GeometryIndex, face_geometry
from zones.plan import Plan, parse_treatment
from zones.report import SCHEMA_PATH, SCHEMA_VERSION, face_report, guidance_report
from zones.safety import evaluate, segment_status

CATALOGUE = load_catalogue()
INDEX = GeometryIndex.from_catalogue(CATALOGUE)
VALIDATOR = jsonschema.Draft202012Validator(json.loads(SCHEMA_PATH.read_text()))


def document(faces, plan: Plan) -> dict:
    """What ``cli.py annotate --json`` writes, built from the same zones functions."""
    safety = evaluate(plan, CATALOGUE)
    geometry = face_geometry(faces, INDEX)
    statuses = segment_status(geometry, safety)
    return json.loads(
        json.dumps(
            {
                "schema_version": SCHEMA_VERSION,
                "image": {"width": 640, "height": 480, "mirrored": False},
                "plan": plan.to_json(include_today=True),
                **guidance_report(safety),
                "faces": [
                    {
                        "landmarks": np.round(faces.landmarks[i].astype(float), 2).tolist(),
                        "box": faces.boxes[i].astype(float).tolist(),
                        "pose": {"yaw": 0.0, "pitch": 0.0, "roll": 0.0},
                        "quality": {},
                        **face_report(geometry, safety, statuses, i, CATALOGUE),
                    }
                    for i in range(len(faces))
                ],
                "touches": [],
            }
        )
    )


def plan(**kwargs) -> Plan:
    treated = (
        parse_treatment("lips,nasolabial_left=ha_filler@2026-11-20"),
        parse_treatment("forehead=botox@2026-11-19"),
    )
    return Plan(treated, "hands", date(2026, 11, 22), **kwargs)


def test_the_schema_is_valid_and_versioned() -> None:
    schema = json.loads(SCHEMA_PATH.read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    assert schema["properties"]["schema_version"]["const"] == SCHEMA_VERSION
    assert schema["$id"].endswith(f":{SCHEMA_VERSION}")


def test_zone_reports_follow_the_schema_with_sources(zone_sample_faces) -> None:
    report = document(zone_sample_faces["astronaut"][1], plan(screening={"heart": False}))
    VALIDATOR.validate(report)
    zones = {z["id"]: z for z in report["faces"][0]["zones"]}
    verdict = zones["lips"]["verdict"]
    assert verdict["decided_by"] == "catalogue" and verdict["rule"] == "ha_filler/hands on lips"
    assert verdict["range"] == "0 h to 14 days" and verdict["default_wait"] == "14d"
    assert all(s["address"] and s["grade"] for s in verdict["sources"])
    assert report["guidance"] == "given" and report["screening"]["unanswered"] == ["vessels", "lymph", "skin"]


def test_the_schema_refuses_a_rule_verdict_without_sources(zone_sample_faces) -> None:
    report = document(zone_sample_faces["astronaut"][1], plan())
    broken = copy.deepcopy(report)
    next(z for z in broken["faces"][0]["zones"] if z["id"] == "lips")["verdict"]["sources"] = []
    with pytest.raises(jsonschema.ValidationError):
        VALIDATOR.validate(broken)


def test_withheld_guidance_follows_the_schema_and_the_schema_refuses_a_safe_segment(
    zone_sample_faces,
) -> None:
    report = document(zone_sample_faces["grace_hopper"][1], plan(screening={"heart": True}))
    VALIDATOR.validate(report)
    assert report["guidance"] == "withheld" and report["screening"]["answered_yes"] == ["heart"]
    assert report["guidance_reasons"] and report["guidance_actions"]
    segments = [s for stroke in report["faces"][0]["strokes"] for s in stroke["segment_status"]]
    assert segments and "safe" not in segments
    broken = copy.deepcopy(report)
    broken["faces"][0]["strokes"][0]["segment_status"][0] = "safe"
    with pytest.raises(jsonschema.ValidationError):
        VALIDATOR.validate(broken)
