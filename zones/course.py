"""The preparatory course: a few massage sessions on and around the areas of a planned filler treatment.

The catalogue's ``course`` entry holds the count, the spacing and its source. ``propose_course`` lays the
sessions out over the days before the treatment (all before its day, none on it); ``Course.status`` says where
a person stands on a given day. On the treatment day, or once the treatment is marked done, the course is
closed and the waiting rules of ``zones.safety`` take over.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import numpy as np

from zones.catalogue import Catalogue
from zones.geometry import GeometryIndex, face_geometry, reference_landmarks
from zones.plan import PlanError, Treatment
from zones.safety import distances_to_polygons
from zones.wording import format_day


@dataclass(frozen=True)
class CourseSession:
    """One session of a course: its number (from 1), the day it is due, what it covers, when it was done.

    ``key`` is the store's id of the session (None for a fresh proposal).
    """

    number: int
    due: date
    areas: tuple[str, ...]
    lines: tuple[str, ...]
    done_at: datetime | None = None
    key: int | None = None

    @property
    def done(self) -> bool:
        return self.done_at is not None


@dataclass(frozen=True)
class CourseStatus:
    """Where a course stands on one day: open or closed, sessions done, the next one due, the missed ones."""

    open: bool
    done: int
    total: int
    next: CourseSession | None
    missed: tuple[CourseSession, ...]
    message: str


@dataclass(frozen=True)
class Course:
    """The course before ``treatment``: its sessions, the count the source asks for, and whether it is closed.

    ``closed_at`` / ``closed_reason`` are set when the treatment is marked done (or the course is ended by
    hand); a course is also over from the treatment day on, done or not.
    """

    treatment: Treatment
    sessions: tuple[CourseSession, ...]
    wanted: tuple[int, int]
    note: str
    source: str
    closed_at: datetime | None = None
    closed_reason: str = ""

    @property
    def treatment_day(self) -> date:
        return self.treatment.treated_at.date()

    @property
    def short(self) -> bool:
        """Fewer sessions than the source's fewest fit before the treatment day."""
        return len(self.sessions) < self.wanted[0]

    def session_for(self, day: date) -> CourseSession | None:
        """The session a massage done on ``day`` ticks off: the latest one not done that was due by then, else
        the next one not done; None when the course is over on that day."""
        if self.closed_at is not None or day >= self.treatment_day:
            return None
        open_sessions = [s for s in self.sessions if not s.done]
        due = [s for s in open_sessions if s.due <= day]
        return due[-1] if due else (open_sessions[0] if open_sessions else None)

    def status(self, today: date | datetime) -> CourseStatus:
        """Where the course stands on ``today``."""
        day = today.date() if isinstance(today, datetime) else today
        done = sum(s.done for s in self.sessions)
        total = len(self.sessions)
        missed = tuple(s for s in self.sessions if not s.done and s.due < day)
        if self.closed_at is not None or day >= self.treatment_day:
            if self.closed_at is not None:
                why = self.closed_reason or "closed"
                message = (
                    f"course closed on {format_day(self.closed_at.date())} ({why}): {done} of {total} done"
                )
            else:
                message = (
                    f"the treatment day ({format_day(self.treatment_day)}) has come: the course is over "
                    f"({done} of {total} done) and the waiting rules take over"
                )
            return CourseStatus(False, done, total, None, missed, message)
        upcoming = [s for s in self.sessions if not s.done and s.due >= day]
        following = upcoming[0] if upcoming else None
        if following is None:
            treated = format_day(self.treatment_day)
            message = f"all {total} course sessions are behind you ({done} done); treatment on {treated}"
        elif following.due == day:
            message = (
                f"course session {following.number} of {total} is due today: {', '.join(following.areas)}"
            )
        else:
            message = f"next course session {following.number} of {total} on {format_day(following.due)}"
        if missed:
            message += f"; {len(missed)} missed"
        return CourseStatus(True, done, total, following, missed, message)


def applies(treatment: Treatment, catalogue: Catalogue) -> bool:
    """Whether ``treatment`` calls for a preparatory course (a planned treatment with a course product)."""
    return (
        treatment.planned and catalogue.course is not None and treatment.product in catalogue.course.products
    )


def session_days(today: date, treatment_day: date, catalogue: Catalogue) -> tuple[date, ...]:
    """The days of a course from ``today`` to before ``treatment_day``, as the catalogue spaces them.

    As many sessions as fit ``every_days`` apart, within the source's [fewest, most]; when even the fewest do
    not fit, they move closer (``min_gap_days``), and when that is not enough, as many as fit (a short
    course). The last session is ``last_before_days`` before the treatment day; none falls on it or after it.
    """
    course = catalogue.course
    if course is None:
        return ()
    fewest, most = course.sessions
    end = treatment_day - timedelta(days=course.last_before_days)
    span = (end - today).days
    if span < 0:
        return ()
    count = min(max(span // course.every_days + 1, fewest), most)
    if (count - 1) * course.min_gap_days > span:
        count = span // course.min_gap_days + 1
    if count == 1:
        return (end,)
    length = min(span, (count - 1) * course.every_days)
    first = end - timedelta(days=length)
    return tuple(first + timedelta(days=round(i * length / (count - 1))) for i in range(count))


def propose_course(treatment: Treatment, catalogue: Catalogue, today: date | datetime) -> Course:
    """The course for a planned ``treatment`` seen from ``today``: sessions with their days, areas and lines.

    Raises ``PlanError`` when the treatment calls for no course (done already, or a product without one).
    """
    if not applies(treatment, catalogue) or catalogue.course is None:
        raise PlanError(
            f"treatment {treatment.to_text()}: a preparatory course is proposed for planned treatments with "
            f"{', '.join(catalogue.course.products) if catalogue.course else 'a course product'} only"
        )
    day = today.date() if isinstance(today, datetime) else today
    areas, lines = surroundings(treatment.areas, catalogue)
    days = session_days(day, treatment.treated_at.date(), catalogue)
    sessions = tuple(CourseSession(i + 1, due, areas, lines) for i, due in enumerate(days))
    course = catalogue.course
    return Course(treatment, sessions, course.sessions, course.note, course.source)


def surroundings(treated: tuple[str, ...], catalogue: Catalogue) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The areas and massage lines a course session covers for ``treated`` areas, in catalogue order.

    The treated areas, every area whose outline comes within the course's ``surroundings_mm`` of one of them
    on the reference face, every line passing that close, and the lines of the session's first phase (opening
    the neck, so the lymph has somewhere to go).
    """
    unknown = [a for a in treated if a not in catalogue.area_ids]
    if unknown:
        raise PlanError(
            f"unknown area {', '.join(map(repr, unknown))}; known areas: {', '.join(catalogue.area_ids)}"
        )
    return _surroundings(tuple(sorted(set(treated))), catalogue)


@functools.lru_cache(maxsize=64)
def _surroundings(treated: tuple[str, ...], catalogue: Catalogue) -> tuple[tuple[str, ...], tuple[str, ...]]:
    reach = catalogue.course.surroundings_mm if catalogue.course is not None else 0.0
    index = GeometryIndex.from_catalogue(catalogue)
    geometry = face_geometry(reference_landmarks(), index)
    mm = float(geometry.px_per_mm[0])
    chosen = [catalogue.area_index(a) for a in treated]
    edges = [np.arange(index.area_offsets[a], index.area_offsets[a + 1]) for a in chosen]
    starts = np.concatenate(edges)
    ends = np.concatenate([np.roll(e, -1) for e in edges])
    offsets = np.cumsum([0] + [len(e) for e in edges]).astype(np.intp)
    points = geometry.area_points[:, starts], geometry.area_points[:, ends]

    def near(candidates: np.ndarray) -> np.ndarray:
        """(1, C, 2) points -> (C,) bool: within reach of any treated area."""
        return distances_to_polygons(candidates, *points, offsets)[0].min(axis=1) <= reach * mm

    area_near = near(geometry.area_points)
    area_of_point = np.repeat(np.arange(index.num_areas), np.diff(index.area_offsets))
    areas = set(treated) | {index.area_ids[a] for a in np.unique(area_of_point[area_near])}
    line_near = near(geometry.line_points)
    line_of_point = np.repeat(np.arange(index.num_lines), np.diff(index.line_offsets))
    lines = {index.line_ids[line] for line in np.unique(line_of_point[line_near])}
    opening = set(catalogue.session[0].steps) if catalogue.session else set()
    lines |= {line.id for line in catalogue.lines if line.step in opening}
    return tuple(a for a in catalogue.area_ids if a in areas), tuple(
        i for i in catalogue.line_ids if i in lines
    )
