"""A person's history as the CLI prints it and the app draws it: treatments, course, sessions, safe days.

``person_history`` gathers the stored records and asks the zones what they mean on a given day: the course's
status, the areas still no-touch, the moment each treated area is safe again for each method. ``to_json`` is
the CLI's ``history --json`` document; ``chart_rows`` are the marks of the app's timeline chart.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime, time
from typing import Any

from store.db import Store
from store.records import CourseRecord, MassageSession, PlanRecord, TreatmentRecord
from zones.catalogue import Catalogue
from zones.course import CourseStatus
from zones.plan import Plan
from zones.safety import NO_TOUCH, STATUS_NAMES, SafetyMap, TimelineEntry, evaluate, timeline
from zones.wording import format_day, format_moment


@dataclass(frozen=True)
class History:
    """Everything stored about one person, read on ``today`` with the catalogue in force."""

    name: str
    today: datetime
    treatments: tuple[TreatmentRecord, ...]
    courses: tuple[CourseRecord, ...]
    sessions: tuple[MassageSession, ...]
    settings: PlanRecord | None
    plan: Plan
    safety: SafetyMap
    safe_again: tuple[TimelineEntry, ...]
    catalogue: Catalogue

    def course_statuses(self) -> tuple[tuple[CourseRecord, CourseStatus], ...]:
        return tuple((record, record.course.status(self.today)) for record in self.courses)

    @property
    def open_course(self) -> tuple[CourseRecord, CourseStatus] | None:
        """The course still running today (the one whose treatment comes first), if any."""
        running = [(r, s) for r, s in self.course_statuses() if s.open]
        return min(running, key=lambda item: item[0].course.treatment_day) if running else None

    @property
    def no_touch(self) -> tuple[str, ...]:
        """Areas that may not be touched today with the plan's method, in catalogue order."""
        return tuple(v.area_id for v in self.safety.verdicts if v.status == NO_TOUCH)

    def today_text(self) -> str:
        """Where the person stands today, in a sentence or two."""
        labels = {area.id: area.label for area in self.catalogue.areas}
        parts = []
        running = self.open_course
        if running is not None:
            parts.append(running[1].message[0].upper() + running[1].message[1:] + ".")
        if self.no_touch:
            waits = []
            for area_id in self.no_touch:
                verdict = self.safety.verdict(area_id)
                waits.append(f"{labels[area_id]} (until {format_day(verdict.safe_from)})")
            parts.append(f"No touching today ({self.plan.method}): " + ", ".join(waits) + ".")
        else:
            parts.append(f"No treated area is off limits today ({self.plan.method}).")
        return " ".join(parts)

    def to_json(self) -> dict[str, Any]:
        """The ``history --json`` document."""
        labels = {area.id: area.label for area in self.catalogue.areas}
        return {
            "person": self.name,
            "today": self.today.isoformat(timespec="minutes"),
            "method": self.plan.method,
            "treatments": [_treatment_json(record) for record in self.treatments],
            "courses": [_course_json(record, status) for record, status in self.course_statuses()],
            "sessions": [_session_json(session) for session in self.sessions],
            "safe_again": [_entry_json(entry) for entry in self.safe_again],
            "today_summary": {
                "text": self.today_text(),
                "course": self.open_course[1].message if self.open_course else None,
                "no_touch": [
                    {
                        "area": area_id,
                        "label": labels[area_id],
                        "until": format_moment(self.safety.verdict(area_id).safe_from),
                    }
                    for area_id in self.no_touch
                ],
            },
        }

    def chart_rows(self) -> list[dict[str, Any]]:
        """One mark per event for the timeline chart: kind, lane, start, end (None: a point), label, state;
        a safe-again bar (one per treated area and method, in the area's lane) also names its method."""
        labels = {area.id: area.label for area in self.catalogue.areas}
        methods = {m.id: m.label for m in self.catalogue.methods}
        rows: list[dict[str, Any]] = []
        for record in self.treatments:
            t = record.treatment
            rows.append({
                "kind": "treatment", "lane": "Treatments", "start": t.treated_at, "end": None,
                "label": f"{t.product} on {', '.join(labels.get(a, a) for a in t.areas)}",
                "state": "planned" if t.planned else "done",
            })  # fmt: skip
        for course, _status in self.course_statuses():
            for item in course.course.sessions:
                state = "done" if item.done else ("missed" if item.due < self.today.date() else "to come")
                rows.append({
                    "kind": "course", "lane": "Preparatory course",
                    "start": datetime.combine(item.due, time()), "end": None,
                    "label": f"course session {item.number} of {len(course.course.sessions)}", "state": state,
                })  # fmt: skip
        for session in self.sessions:
            rows.append({
                "kind": "session", "lane": "Massage sessions", "start": session.started_at,
                "end": session.ended_at, "label": f"{session.mode} session ({session.method})",
                "state": "done",
            })  # fmt: skip
        for entry in self.safe_again:
            if entry.safe_from is None or entry.prescribed:
                continue
            method = methods.get(entry.method, entry.method)
            rows.append({
                "kind": "safe_again", "lane": entry.area_label, "method": method,
                "start": entry.treated_at, "end": entry.safe_from,
                "label": f"{entry.area_label}, {method}: safe again from {format_day(entry.safe_from)}",
                "state": "planned" if entry.planned else STATUS_NAMES[entry.status_today],
            })  # fmt: skip
        return rows


def person_history(
    store: Store,
    name: str,
    catalogue: Catalogue,
    today: date | datetime | None = None,
    *,
    method: str | None = None,
) -> History:
    """Read everything of ``name`` and evaluate it on ``today`` (default now) with ``method`` (default the
    person's saved one, else hands)."""
    moment = (
        today
        if isinstance(today, datetime)
        else datetime.combine(today, time())
        if today is not None
        else datetime.now().replace(second=0, microsecond=0)
    )
    plan = store.plan(name, moment, method=method, catalogue=catalogue)
    return History(
        name=store.person(name).name,
        today=moment,
        treatments=store.treatments(name),
        courses=store.courses(name),
        sessions=store.sessions(name),
        settings=store.latest_plan(name),
        plan=plan,
        safety=evaluate(plan, catalogue),
        safe_again=timeline(plan, catalogue),
        catalogue=catalogue,
    )


def in_effect_plan(plan: Plan, *, limit: int | None = None) -> Plan:
    """The plan with only the treatments whose waits have started by its moment, recorded as done (the
    latest ``limit`` of them): what a map of that moment shows. A treatment planned for later today waits."""
    started = sorted(
        (
            replace(t, planned=False)
            for t in plan.treatments
            if t.in_effect(plan.moment) and t.treated_at <= plan.moment
        ),
        key=lambda t: t.treated_at,
    )
    kept = started[-limit:] if limit is not None else started
    return replace(plan, treatments=tuple(kept))


def _treatment_json(record: TreatmentRecord) -> dict[str, Any]:
    t = record.treatment
    return {
        "id": record.key,
        "areas": list(t.areas),
        "product": t.product,
        "date": t.when_text,
        "planned": t.planned,
        "planned_for": format_moment(record.planned_for),
        "injector_waits": dict(record.injector_waits),
        "note": record.note,
    }


def _course_json(record: CourseRecord, status: CourseStatus) -> dict[str, Any]:
    course = record.course
    return {
        "id": record.key,
        "treatment_id": record.treatment_key,
        "treatment_day": course.treatment_day.isoformat(),
        "open": status.open,
        "message": status.message,
        "done": status.done,
        "total": status.total,
        "wanted": list(course.wanted),
        "short": course.short,
        "closed_at": format_moment(course.closed_at),
        "closed_reason": course.closed_reason or None,
        "note": course.note,
        "source": course.source,
        "sessions": [
            {
                "id": item.key,
                "number": item.number,
                "due": item.due.isoformat(),
                "areas": list(item.areas),
                "lines": list(item.lines),
                "done": item.done,
                "done_at": format_moment(item.done_at),
            }
            for item in course.sessions
        ],
    }


def _session_json(session: MassageSession) -> dict[str, Any]:
    return {
        "id": session.key,
        "started_at": session.started_at.isoformat(timespec="minutes"),
        "ended_at": session.ended_at.isoformat(timespec="minutes") if session.ended_at else None,
        "method": session.method,
        "mode": session.mode,
        "lines": dict(session.lines),
        "warnings": dict(session.warnings),
        "stop_signs": list(session.stop_signs),
        "note": session.note,
    }


def _entry_json(entry: TimelineEntry) -> dict[str, Any]:
    return {
        "area": entry.area_id,
        "label": entry.area_label,
        "product": entry.product,
        "method": entry.method,
        "treated_at": format_moment(entry.treated_at),
        "safe_from": format_moment(entry.safe_from),
        "caution_until": format_moment(entry.caution_until),
        "status_today": STATUS_NAMES[entry.status_today],
        "planned": entry.planned,
        "prescribed": entry.prescribed,
    }
