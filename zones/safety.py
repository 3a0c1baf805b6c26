"""Which areas may be touched today and which stroke segments keep clear of the no-touch areas.

``evaluate(plan, catalogue)`` runs once per plan (rule look-ups, dates, margins) and gives a ``SafetyMap``;
``segment_status(geometry, safety)`` runs per frame and is pure numpy: distances from every segment midpoint
to every edge of every no-touch outline of every face by broadcasting, plus a crossing-number inside test.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

import numpy as np
from numpy.typing import NDArray

from zones.catalogue import Catalogue, Prescription, Rule
from zones.geometry import FaceGeometry, GeometryIndex
from zones.plan import Plan, PlanError, Treatment
from zones.wording import format_day

SAFE, CAUTION, NO_TOUCH = 0, 1, 2
STATUS_NAMES: tuple[str, str, str] = ("safe", "caution", "no_touch")
VESSEL_CARE_SOURCE = (
    "domain notes: vessel-rich areas often flagged for extra care "
    "(glabella, temples, nasolabial, infraorbital)"
)


@dataclass(frozen=True)
class Verdict:
    """One area under one plan: its status, the moment it is safe again for the plan's method, and why."""

    area_id: str
    status: int
    safe_from: datetime | None  # end of the no-touch wait; None when the area was not treated
    caution_until: datetime | None
    reason: str
    source: str
    note: str
    rule: Rule | None
    prescribed: Prescription | None = None


@dataclass(frozen=True, eq=False)
class SafetyMap:
    """Per-plan result. A areas in catalogue order; N of them no-touch.

    area_status (A,) uint8; margins_mm / caution_bands_mm (A,) float32, the bands kept around each area while
    it is no-touch; no_touch (N,) intp; edge tables (E,) over the concatenated outline points of the no-touch
    areas, so ``segment_status`` needs no per-frame look-up.
    """

    plan: Plan
    area_ids: tuple[str, ...]
    area_status: np.ndarray
    verdicts: tuple[Verdict, ...]
    margins_mm: np.ndarray
    caution_bands_mm: np.ndarray
    no_touch: np.ndarray
    edge_start: np.ndarray  # (E,) index into the P axis of FaceGeometry.area_points
    edge_end: np.ndarray  # (E,)
    edge_offsets: np.ndarray  # (N+1,) edges of no-touch area n are [edge_offsets[n], edge_offsets[n+1])

    @property
    def status_names(self) -> tuple[str, ...]:
        return tuple(STATUS_NAMES[s] for s in self.area_status)

    @property
    def safe_from(self) -> tuple[datetime | None, ...]:
        return tuple(v.safe_from for v in self.verdicts)

    @property
    def reasons(self) -> tuple[str, ...]:
        return tuple(v.reason for v in self.verdicts)

    @property
    def sources(self) -> tuple[str, ...]:
        return tuple(v.source for v in self.verdicts)

    def verdict(self, area_id: str) -> Verdict:
        return self.verdicts[self.area_ids.index(area_id)]


def _describe(treatment: Treatment, rule: Rule, method: str) -> str:
    return f"{treatment.product} on {format_day(treatment.treated_at)}, {method}: wait {rule.wait.text}"


def _wait_starts(treatment: Treatment, rule: Rule) -> datetime:
    """When the wait starts: the treatment time; for an hours rule and a date without time, the day's end."""
    if rule.wait.unit == "h" and not treatment.has_time:
        return treatment.treated_at + timedelta(days=1)
    return treatment.treated_at


def _treatment_verdict(area_id: str, treatment: Treatment, rule: Rule, plan: Plan) -> Verdict:
    """Status of ``area_id`` under one treatment and the rule deciding it."""
    now = plan.moment
    if rule.prescribed is not None:
        until = treatment.treated_at + timedelta(days=rule.prescribed.days)
        p = rule.prescribed
        active = now < until
        done = f"{treatment.product} on {format_day(treatment.treated_at)}"
        reason = (
            f"{done}: massage prescribed, {p.minutes:g} min {p.times_per_day}x a day "
            f"until {format_day(until)}"
            if active
            else f"{done}: prescribed massage days are over"
        )
        return Verdict(
            area_id, SAFE, None, until, reason, rule.source, rule.note, rule, p if active else None
        )
    safe_from = _wait_starts(treatment, rule) + rule.wait.delta
    caution_until = safe_from + rule.caution_tail.delta
    base = _describe(treatment, rule, plan.method)
    if now < safe_from:
        status, reason = NO_TOUCH, f"{base}; no touching until {format_day(safe_from)}"
    elif now < caution_until:
        status, reason = CAUTION, f"{base} (over); gently until {format_day(caution_until)}"
    else:
        status, reason = SAFE, f"{base} (over since {format_day(safe_from)})"
    return Verdict(area_id, status, safe_from, caution_until, reason, rule.source, rule.note, rule)


def _area_verdict(
    area_id: str, vessel_care: bool, treatments: list[Treatment], plan: Plan, catalogue: Catalogue
) -> Verdict:
    """The strictest verdict over one area's treatments (latest date on a tie), else its resting state.

    A treated vessel-rich area stays at caution for the catalogue's ``vessel_care_tail`` after its own tail.
    """
    verdicts = []
    for treatment in treatments:
        rule = catalogue.rule_for(treatment.product, plan.method, area_id)
        if rule is None:
            raise PlanError(
                f"the catalogue {catalogue.source_path or ''} has no rule for {treatment.product} with "
                f"{plan.method} (area {area_id}); add one under rules"
            )
        verdicts.append(_treatment_verdict(area_id, treatment, rule, plan))
    if verdicts:
        worst = max(verdicts, key=lambda v: (v.status, v.safe_from or datetime.min))
        if not vessel_care or worst.prescribed is not None or worst.caution_until is None:
            return worst
        extra_care_until = worst.caution_until + catalogue.defaults.vessel_care_tail.delta
        if worst.status == NO_TOUCH or plan.moment >= extra_care_until:
            return replace(worst, caution_until=extra_care_until)
        reason = f"{worst.reason}; vessel-rich area: extra care until {format_day(extra_care_until)}"
        return replace(worst, status=CAUTION, caution_until=extra_care_until, reason=reason)
    if vessel_care and catalogue.defaults.vessel_care == "always":
        return Verdict(area_id, CAUTION, None, None, "vessel-rich area: extra care", VESSEL_CARE_SOURCE,
                       "Light pressure only.", None)  # fmt: skip
    return Verdict(area_id, SAFE, None, None, "not treated", "", "", None)


def evaluate(plan: Plan, catalogue: Catalogue) -> SafetyMap:
    """Statuses, safe-from dates, reasons, sources and margins of every area under ``plan`` (cached per plan).

    Raises ``PlanError`` for areas, products or methods the catalogue does not know.
    """
    return _evaluate(plan, catalogue)


@functools.lru_cache(maxsize=32)
def _evaluate(plan: Plan, catalogue: Catalogue) -> SafetyMap:
    plan.check(catalogue)
    index = GeometryIndex.from_catalogue(catalogue)
    by_area: dict[str, list[Treatment]] = {}
    for treatment in plan.treatments:
        for area_id in treatment.areas:
            by_area.setdefault(area_id, []).append(treatment)
    verdicts = tuple(
        _area_verdict(area.id, area.vessel_care, by_area.get(area.id, []), plan, catalogue)
        for area in catalogue.areas
    )
    status = np.asarray([v.status for v in verdicts], np.uint8)
    margins = np.asarray(
        [
            catalogue.margins(v.rule)
            if v.rule is not None
            else (catalogue.defaults.margin_mm, catalogue.defaults.caution_mm)
            for v in verdicts
        ],
        np.float32,
    ).reshape(-1, 2)
    if plan.margin_mm is not None:
        margins[:, 0] = plan.margin_mm
    if plan.caution_mm is not None:
        margins[:, 1] = plan.caution_mm
    margins[:, 1] = np.maximum(margins[:, 1], margins[:, 0])
    no_touch = np.flatnonzero(status == NO_TOUCH).astype(np.intp)
    starts = [np.arange(index.area_offsets[a], index.area_offsets[a + 1]) for a in no_touch]
    edge_start = np.concatenate(starts).astype(np.intp) if starts else np.zeros(0, np.intp)
    edge_end = (
        np.concatenate([np.roll(s, -1) for s in starts]).astype(np.intp) if starts else np.zeros(0, np.intp)
    )
    edge_offsets = np.cumsum([0] + [len(s) for s in starts]).astype(np.intp)
    result = SafetyMap(
        plan=plan,
        area_ids=catalogue.area_ids,
        area_status=status,
        verdicts=verdicts,
        margins_mm=margins[:, 0].copy(),
        caution_bands_mm=margins[:, 1].copy(),
        no_touch=no_touch,
        edge_start=edge_start,
        edge_end=edge_end,
        edge_offsets=edge_offsets,
    )
    for array in (
        status,
        result.margins_mm,
        result.caution_bands_mm,
        no_touch,
        edge_start,
        edge_end,
        edge_offsets,
    ):
        array.setflags(write=False)
    return result


def distances_to_polygons(
    points: NDArray[np.float32],
    starts: NDArray[np.float32],
    ends: NDArray[np.float32],
    edge_offsets: NDArray[np.intp],
) -> NDArray[np.float32]:
    """Distance from points to polygons, 0 inside: points (F, S, 2), edges (F, E, 2) -> (F, S, N) float32.

    Polygon n owns edges ``[edge_offsets[n], edge_offsets[n+1])`` (every polygon has at least one edge).
    Broadcasts over all faces, points and edges at once; degenerate (zero-length) edges are fine.
    """
    px, py = points[:, :, None, 0], points[:, :, None, 1]  # (F, S, 1)
    ax, ay = starts[:, None, :, 0], starts[:, None, :, 1]  # (F, 1, E)
    dx, dy = ends[:, None, :, 0] - ax, ends[:, None, :, 1] - ay
    length2 = dx * dx + dy * dy
    t = ((px - ax) * dx + (py - ay) * dy) / np.where(length2 > 0, length2, np.float32(1.0))
    t = np.clip(t, 0.0, 1.0)
    distance = np.hypot(px - ax - t * dx, py - ay - t * dy)
    straddles = (ay > py) != (ay + dy > py)
    x_cross = ax + (py - ay) * dx / np.where(dy != 0, dy, np.float32(1.0))
    crossings = straddles & (px < x_cross)
    first = edge_offsets[:-1]
    per_polygon = np.minimum.reduceat(distance, first, axis=2)
    inside = np.add.reduceat(crossings.astype(np.uint8), first, axis=2) % 2 == 1
    return np.where(inside, np.float32(0.0), per_polygon).astype(np.float32)


def segment_status(geometry: FaceGeometry, safety: SafetyMap) -> NDArray[np.uint8]:
    """Status of every stroke segment of every face: (F, S) uint8 of SAFE / CAUTION / NO_TOUCH.

    A segment is NO_TOUCH when its midpoint lies within the margin of a no-touch area (inside counts as 0 mm),
    CAUTION within the wider caution band, else SAFE. Millimetres become pixels through each face's own scale.
    """
    faces, segments = len(geometry), geometry.index.num_segments
    if (
        geometry.area_points.shape[1] != int(geometry.index.area_offsets[-1])
        or len(safety.area_ids) != geometry.index.num_areas
    ):
        raise ValueError("geometry and safety map come from different catalogues")
    if faces == 0 or segments == 0 or len(safety.no_touch) == 0:
        return np.zeros((faces, segments), np.uint8)
    distance = distances_to_polygons(
        geometry.segment_midpoints(),
        geometry.area_points[:, safety.edge_start],
        geometry.area_points[:, safety.edge_end],
        safety.edge_offsets,
    )
    scale = geometry.px_per_mm[:, None, None]
    margin = safety.margins_mm[safety.no_touch][None, None, :] * scale
    caution = safety.caution_bands_mm[safety.no_touch][None, None, :] * scale
    no_touch = (distance <= margin).any(axis=2)
    near = (distance <= caution).any(axis=2)
    return np.where(no_touch, NO_TOUCH, np.where(near, CAUTION, SAFE)).astype(np.uint8)


@dataclass(frozen=True)
class TimelineEntry:
    """When one treated area is safe again for one method: the verdict ``evaluate`` gives it (the app's chart
    draws these). ``treated_at`` is the area's latest treatment; ``safe_from`` is None when nothing is waited
    for (massage prescribed)."""

    area_id: str
    area_label: str
    product: str
    method: str
    treated_at: datetime
    safe_from: datetime | None
    caution_until: datetime | None
    status_today: int
    prescribed: bool
    source: str


def timeline(plan: Plan, catalogue: Catalogue) -> tuple[TimelineEntry, ...]:
    """Per method in the catalogue, then per treated area in catalogue order: the area's verdict under
    ``plan`` with that method (the strictest over its treatments, vessel care included)."""
    plan.check(catalogue)
    treatments: dict[str, list[Treatment]] = {}
    for treatment in plan.treatments:
        for area_id in treatment.areas:
            treatments.setdefault(area_id, []).append(treatment)
    entries = []
    for method in catalogue.method_ids():
        safety = evaluate(replace(plan, method=method), catalogue)
        for area in catalogue.areas:
            if area.id not in treatments:
                continue
            verdict = safety.verdict(area.id)
            latest = max(t.treated_at for t in treatments[area.id])
            product = verdict.rule.product if verdict.rule is not None else treatments[area.id][-1].product
            entries.append(
                TimelineEntry(
                    area.id,
                    area.label,
                    product,
                    method,
                    latest,
                    verdict.safe_from,
                    verdict.caution_until,
                    verdict.status,
                    verdict.rule is not None and verdict.rule.prescribed is not None,
                    verdict.source,
                )
            )
    return tuple(entries)


def next_safe(safety: SafetyMap) -> tuple[str, datetime] | None:
    """The no-touch area that becomes touchable first and when, or None when nothing is no-touch."""
    waiting = [(v.safe_from, v.area_id) for v in safety.verdicts if v.status == NO_TOUCH and v.safe_from]
    if not waiting:
        return None
    moment, area_id = min(waiting)
    return area_id, moment
