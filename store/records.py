"""What the store hands out and takes in: frozen records, detached from any database session.

``key`` is the record's id in the store (None for a record not stored yet). Treatments and courses are the
zones' own types (``zones.plan.Treatment``, ``zones.course.Course``) wrapped with their keys.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from zones.course import Course
from zones.plan import Treatment


@dataclass(frozen=True)
class Person:
    """Someone whose treatments and sessions are kept: the default "me", or a practitioner's client."""

    key: int
    name: str
    created_at: datetime


@dataclass(frozen=True)
class TreatmentRecord:
    """A stored treatment. ``planned_for`` keeps the booked moment once a planned treatment is marked done.

    ``injector_waits``: the waits the person's injector gave, area id -> duration (``10d``, ``48h``).
    """

    key: int
    treatment: Treatment
    injector_waits: Mapping[str, str]
    note: str
    created_at: datetime
    planned_for: datetime | None = None
    done_marked_at: datetime | None = None


@dataclass(frozen=True)
class PlanRecord:
    """A person's plan settings as saved: method, screening answers (question id -> answer), margins."""

    key: int
    saved_at: datetime
    method: str
    screening: Mapping[str, str] = field(default_factory=dict)
    margin_mm: float | None = None
    caution_mm: float | None = None


@dataclass(frozen=True)
class MassageSession:
    """One massage session: when, with which method and in which mode (``guided``, ``by hand``...), the
    lines done (line id -> repetitions), touch-guard warnings (area id -> count), the stop signs the
    person reported, and a note."""

    started_at: datetime
    method: str
    ended_at: datetime | None = None
    mode: str = "by hand"
    lines: Mapping[str, int] = field(default_factory=dict)
    warnings: Mapping[str, int] = field(default_factory=dict)
    stop_signs: tuple[str, ...] = ()
    note: str = ""
    key: int | None = None


@dataclass(frozen=True)
class CourseRecord:
    """A stored preparatory course, with the key of the treatment it prepares."""

    key: int
    treatment_key: int
    proposed_at: datetime
    course: Course
