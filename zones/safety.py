"""Which areas may be touched today and which stroke segments keep clear of the treated areas.

``evaluate(plan, catalogue)`` runs once per plan (screening, rule look-ups, the injector's waits, dates,
margins) and gives a ``SafetyMap``; ``segment_status(geometry, safety)`` runs per frame and is pure numpy:
distances from every stroke segment to every edge of every no-touch and caution outline of every face by
broadcasting, plus a crossing-number inside test. A segment is never greener than the worst area it passes
through or near, and when screening withholds guidance no segment is safe.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray

from zones.catalogue import Catalogue, Evidence, Prescription, Rule, Span
from zones.geometry import FaceGeometry, GeometryIndex
from zones.plan import Plan, PlanError, Treatment
from zones.wording import format_day, format_moment

SAFE, CAUTION, NO_TOUCH = 0, 1, 2
STATUS_NAMES: tuple[str, str, str] = ("safe", "caution", "no_touch")
DecidedBy = Literal["catalogue", "injector", "vessel_care", "none"]
EDGE_TOLERANCE_PX = 0.5  # a stroke running along an outline touches it, whatever the rounding says


def sources_text(evidence: tuple[Evidence, ...]) -> str:
    """A one-line summary of cited sources: ``Teoxane UK (manufacturer): 6 h; …``."""
    return "; ".join(f"{e.publisher} ({e.grade_text}): {e.figure}" for e in evidence)


@dataclass(frozen=True)
class Verdict:
    """One area under one plan: its status, the moment it is safe again for the plan's method, and why."""

    area_id: str
    status: int
    safe_from: datetime | None  # end of the no-touch wait; None when the area was not treated
    caution_until: datetime | None
    reason: str
    source: str  # the cited sources in one line (``evidence`` holds them whole)
    note: str
    rule: Rule | None
    prescribed: Prescription | None = None
    decided_by: DecidedBy = "none"
    evidence: tuple[Evidence, ...] = ()
    range_text: str = ""  # the range of waits the rule's sources span

    @property
    def explanation(self) -> str:
        """Who decided this verdict, in words a user can check."""
        if self.decided_by == "injector":
            return f"Decided by your injector's instruction ({self.reason})."
        if self.decided_by == "catalogue" and self.rule is not None:
            return (
                f"Decided by the catalogue rule {self.rule.name}: default wait {self.rule.wait.text}; "
                f"the sources span {self.range_text}."
            )
        if self.decided_by == "vessel_care":
            return "Decided by the catalogue's extra care for vessel-rich areas."
        return "Not treated: no rule applies."

    def as_json(self) -> dict[str, Any]:
        """Who decided, the rule, its range and its sources (the CLI's per-zone ``verdict``)."""
        return {
            "decided_by": self.decided_by,
            "explanation": self.explanation,
            "rule": None if self.rule is None else self.rule.name,
            "default_wait": None if self.rule is None else self.rule.wait.code,
            "range": self.range_text or None,
            "caution_until": format_moment(self.caution_until),
            "note": self.note,
            "sources": [e.as_json() for e in self.evidence],
        }


@dataclass(frozen=True)
class Guidance:
    """Whether guidance may be given: the screening answers (and a reported warning sign) decide.

    ``withheld`` True: no stroke segment is safe; ``reasons`` say why (the questions answered yes, or the
    warning sign), ``actions`` what to do. ``unanswered`` lists question ids not answered yet.
    """

    withheld: bool
    reasons: tuple[str, ...] = ()
    actions: tuple[str, ...] = ()
    answered_yes: tuple[str, ...] = ()
    unanswered: tuple[str, ...] = ()

    @property
    def status(self) -> str:
        return "withheld" if self.withheld else "given"

    def as_json(self) -> dict[str, Any]:
        """The analysis JSON's top-level guidance fields."""
        return {
            "guidance": self.status,
            "guidance_reasons": list(self.reasons),
            "guidance_actions": list(self.actions),
            "screening": {"answered_yes": list(self.answered_yes), "unanswered": list(self.unanswered)},
        }


def screen(plan: Plan, catalogue: Catalogue) -> Guidance:
    """Guidance under the plan's screening answers: any "yes" withholds it, with the question and action."""
    answers = plan.answers
    yes = [q for q in catalogue.screening if answers.get(q.id) is True]
    return Guidance(
        withheld=bool(yes),
        reasons=tuple(f"You answered yes: {q.question}" for q in yes),
        actions=tuple(q.action for q in yes),
        answered_yes=tuple(q.id for q in yes),
        unanswered=tuple(q.id for q in catalogue.screening if q.id not in answers),
    )


@dataclass(frozen=True, eq=False)
class SafetyMap:
    """Per-plan result. A areas in catalogue order; N of them no-touch, G guarded (no-touch or caution).

    area_status (A,) uint8; margins_mm (A,) float32, the margin kept around each area; caution_bands_mm (A,)
    float32, the width of the caution band outside the margin of a no-touch area; no_touch (N,) intp; edge
    tables (E,) over the concatenated outline points of the no-touch areas; the ``guard_*`` tables the same
    over the guarded areas (``guarded`` (G,) intp), so ``segment_status`` needs no per-frame look-up.
    ``guidance`` says whether screening withholds guidance (then no segment is safe).
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
    guarded: np.ndarray  # (G,) intp: areas no-touch or caution
    guard_edge_start: np.ndarray  # (E',)
    guard_edge_end: np.ndarray  # (E',)
    guard_edge_offsets: np.ndarray  # (G+1,)
    guidance: Guidance = Guidance(withheld=False)

    @property
    def withheld(self) -> bool:
        return self.guidance.withheld

    @property
    def caution_reach_mm(self) -> np.ndarray:
        """(A,) float32: where each no-touch area's caution band ends, in mm from its outline."""
        return self.margins_mm + self.caution_bands_mm

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


def _injector_verdict(area_id: str, treatment: Treatment, wait: Span, rule: Rule, plan: Plan) -> Verdict:
    """The injector's own wait decides: no-touch until it ends, then safe (their instruction, not the
    catalogue's tail). A wait in hours from a date without a time counts from that day's end."""
    starts = (
        treatment.treated_at + timedelta(days=1)
        if wait.unit == "h" and not treatment.has_time
        else (treatment.treated_at)
    )
    safe_from = starts + wait.delta
    base = f"{treatment.product} on {treatment.when_text}: your injector's instruction, wait {wait.text}"
    if plan.moment < safe_from:
        status, reason = NO_TOUCH, f"{base}; no touching until {format_day(safe_from)}"
    else:
        status, reason = SAFE, f"{base} (over since {format_day(safe_from)})"
    return Verdict(
        area_id, status, safe_from, safe_from, reason, "your injector's instruction", rule.note, rule,
        decided_by="injector", range_text=rule.range_text,
    )  # fmt: skip


def _treatment_verdict(
    area_id: str, treatment: Treatment, rule: Rule, plan: Plan, evidence: tuple[Evidence, ...] = ()
) -> Verdict:
    """Status of ``area_id`` under one treatment and the rule deciding it (the injector's wait wins)."""
    injector = treatment.injector_wait(area_id)
    if injector is not None:
        return _injector_verdict(area_id, treatment, injector, rule, plan)
    now = plan.moment
    cited = functools.partial(
        Verdict,
        source=sources_text(evidence),
        note=rule.note,
        rule=rule,
        decided_by="catalogue",
        evidence=evidence,
        range_text=rule.range_text,
    )
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
        return cited(area_id, SAFE, None, until, reason, prescribed=p if active else None)
    safe_from = _wait_starts(treatment, rule) + rule.wait.delta
    caution_until = safe_from + rule.caution_tail.delta
    base = _describe(treatment, rule, plan.method)
    if now < safe_from:
        status, reason = NO_TOUCH, f"{base}; no touching until {format_day(safe_from)}"
    elif now < caution_until:
        status, reason = CAUTION, f"{base} (over); gently until {format_day(caution_until)}"
    else:
        status, reason = SAFE, f"{base} (over since {format_day(safe_from)})"
    return cited(area_id, status, safe_from, caution_until, reason)


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
        verdicts.append(_treatment_verdict(area_id, treatment, rule, plan, catalogue.evidence(rule.sources)))
    if verdicts:
        worst = max(verdicts, key=lambda v: (v.status, v.safe_from or datetime.min))
        if (
            not vessel_care
            or worst.prescribed is not None
            or worst.caution_until is None
            or worst.decided_by == "injector"
        ):
            return worst
        extra_care_until = worst.caution_until + catalogue.defaults.vessel_care_tail.delta
        if worst.status == NO_TOUCH or plan.moment >= extra_care_until:
            return replace(worst, caution_until=extra_care_until)
        reason = f"{worst.reason}; vessel-rich area: extra care until {format_day(extra_care_until)}"
        vessels = catalogue.evidence(catalogue.defaults.vessel_care_sources)
        evidence = worst.evidence + vessels
        return replace(worst, status=CAUTION, caution_until=extra_care_until, reason=reason,
                       evidence=evidence, source=sources_text(evidence))  # fmt: skip
    if vessel_care and catalogue.defaults.vessel_care == "always":
        vessels = catalogue.evidence(catalogue.defaults.vessel_care_sources)
        return Verdict(area_id, CAUTION, None, None, "vessel-rich area: extra care", sources_text(vessels),
                       "Light pressure only.", None, decided_by="vessel_care", evidence=vessels)  # fmt: skip
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
        if not treatment.in_effect(plan.moment):  # a planned treatment starts no wait before its day
            continue
        for area_id in treatment.areas:
            by_area.setdefault(area_id, []).append(treatment)
    verdicts = tuple(
        _area_verdict(area.id, area.vessel_care, by_area.get(area.id, []), plan, catalogue)
        for area in catalogue.areas
    )
    status = np.asarray([v.status for v in verdicts], np.uint8)
    margins = np.asarray([catalogue.margins(v.rule) for v in verdicts], np.float32).reshape(-1, 2)
    if plan.margin_mm is not None:
        margins[:, 0] = plan.margin_mm
    if plan.caution_band_mm is not None:
        margins[:, 1] = plan.caution_band_mm
    no_touch = np.flatnonzero(status == NO_TOUCH).astype(np.intp)
    guarded = np.flatnonzero(status != SAFE).astype(np.intp)
    edge_start, edge_end, edge_offsets = _edge_tables(index, no_touch)
    guard_start, guard_end, guard_offsets = _edge_tables(index, guarded)
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
        guarded=guarded,
        guard_edge_start=guard_start,
        guard_edge_end=guard_end,
        guard_edge_offsets=guard_offsets,
        guidance=screen(plan, catalogue),
    )
    for array in (status, result.margins_mm, result.caution_bands_mm, no_touch, guarded, edge_start, edge_end,
                  edge_offsets, guard_start, guard_end, guard_offsets):  # fmt: skip
        array.setflags(write=False)
    return result


def _edge_tables(index: GeometryIndex, areas: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Edge start/end point indices (E,) of the outlines of ``areas`` and their offsets (len(areas)+1,)."""
    starts = [np.arange(index.area_offsets[a], index.area_offsets[a + 1]) for a in areas]
    if not starts:
        return np.zeros(0, np.intp), np.zeros(0, np.intp), np.zeros(1, np.intp)
    edge_start = np.concatenate(starts).astype(np.intp)
    edge_end = np.concatenate([np.roll(s, -1) for s in starts]).astype(np.intp)
    return edge_start, edge_end, np.cumsum([0] + [len(s) for s in starts]).astype(np.intp)


WARNING_SIGN_REPORTED = "reported"  # a warning sign of a tier not (yet) named
UNANSWERED_REASON = "The screening questions are not all answered yet."
UNANSWERED_ACTION = "Answer each question before any guidance is shown."


def gated(
    safety: SafetyMap, catalogue: Catalogue, *, require_answers: bool = False, warning_sign: str | None = None
) -> SafetyMap:
    """The map as a front end shows it: withheld while questions are unanswered (``require_answers``, the
    app asks them before any guidance) and while a warning sign (a ``stop_signs`` tier id, or
    ``WARNING_SIGN_REPORTED`` for one not named) is reported."""
    if require_answers and safety.guidance.unanswered and not safety.withheld:
        safety = withhold(safety, UNANSWERED_REASON, UNANSWERED_ACTION)
    if warning_sign == WARNING_SIGN_REPORTED:
        return withhold(
            safety,
            "You reported a warning sign: guidance is paused.",
            "Stop massaging and follow what the page says for the sign you see.",
        )
    if warning_sign is not None:
        tier = next((t for t in catalogue.stop_signs if t.id == warning_sign), None)
        if tier is None:
            raise ValueError(
                f"unknown warning sign {warning_sign!r}; the catalogue has "
                f"{', '.join(t.id for t in catalogue.stop_signs)}"
            )
        safety = withhold(safety, f"Warning sign reported: {tier.title}.", tier.action)
    return safety


def withhold(safety: SafetyMap, reason: str, action: str) -> SafetyMap:
    """The same map with guidance withheld for ``reason`` (e.g. a warning sign reported): no segment safe."""
    guidance = safety.guidance
    return replace(
        safety,
        guidance=replace(guidance, withheld=True, reasons=(*guidance.reasons, reason),
                         actions=(*guidance.actions, action)),
    )  # fmt: skip


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


def segment_distances_to_polygons(
    a: np.ndarray, b: np.ndarray, starts: np.ndarray, ends: np.ndarray, edge_offsets: np.ndarray
) -> np.ndarray:
    """Distance from segments to polygons, 0 when a segment touches, crosses or lies inside one.

    Segments run from ``a`` to ``b`` (F, S, 2); polygon edges run from ``starts`` to ``ends`` (F, E, 2),
    polygon n owning edges ``[edge_offsets[n], edge_offsets[n+1])``. Returns (F, S, N) float32. Two segments
    that do not cross are as far apart as the nearest of their four end points is from the other segment.
    """
    ends_a = distances_to_polygons(a, starts, ends, edge_offsets)  # 0 inside
    ends_b = distances_to_polygons(b, starts, ends, edge_offsets)
    ax, ay = a[:, :, None, 0], a[:, :, None, 1]  # (F, S, 1)
    bx, by = b[:, :, None, 0], b[:, :, None, 1]
    cx, cy = starts[:, None, :, 0], starts[:, None, :, 1]  # (F, 1, E)
    dx, dy = ends[:, None, :, 0], ends[:, None, :, 1]

    def to_segment(px: np.ndarray, py: np.ndarray) -> np.ndarray:  # edge end points to the stroke segment
        vx, vy = bx - ax, by - ay
        length2 = vx * vx + vy * vy
        t = np.clip(((px - ax) * vx + (py - ay) * vy) / np.where(length2 > 0, length2, np.float32(1.0)), 0, 1)
        return np.hypot(px - ax - t * vx, py - ay - t * vy)

    def side(px: np.ndarray, py: np.ndarray, qx: np.ndarray, qy: np.ndarray, rx: np.ndarray, ry: np.ndarray):
        return np.sign((qx - px) * (ry - py) - (qy - py) * (rx - px))

    crosses = (side(ax, ay, bx, by, cx, cy) * side(ax, ay, bx, by, dx, dy) <= 0) & (
        side(cx, cy, dx, dy, ax, ay) * side(cx, cy, dx, dy, bx, by) <= 0
    )
    corner = np.where(crosses, np.float32(0.0), np.minimum(to_segment(cx, cy), to_segment(dx, dy)))
    per_polygon = np.minimum.reduceat(corner, edge_offsets[:-1], axis=2)
    return np.minimum(np.minimum(ends_a, ends_b), per_polygon).astype(np.float32)


def segment_status(geometry: FaceGeometry, safety: SafetyMap) -> NDArray[np.uint8]:
    """Status of every stroke segment of every face: (F, S) uint8 of SAFE / CAUTION / NO_TOUCH.

    A segment is NO_TOUCH when it comes within the margin of a no-touch area (inside counts as 0 mm);
    CAUTION when it comes within the margin of a caution area, or within the caution band outside the margin
    of a no-touch area (half a pixel of slack, so a stroke along an outline counts as touching it); else SAFE.
    When guidance is withheld (screening, a warning sign) every segment is
    NO_TOUCH: nothing is drawn as a stroke to follow. Millimetres become pixels through each face's own scale.
    """
    faces, segments = len(geometry), geometry.index.num_segments
    if (
        geometry.area_points.shape[1] != int(geometry.index.area_offsets[-1])
        or len(safety.area_ids) != geometry.index.num_areas
    ):
        raise ValueError("geometry and safety map come from different catalogues")
    if safety.withheld:
        return np.full((faces, segments), NO_TOUCH, np.uint8)
    if faces == 0 or segments == 0 or len(safety.guarded) == 0:
        return np.zeros((faces, segments), np.uint8)
    start = geometry.index.segment_start
    distance = segment_distances_to_polygons(
        geometry.line_points[:, start],
        geometry.line_points[:, start + 1],
        geometry.area_points[:, safety.guard_edge_start],
        geometry.area_points[:, safety.guard_edge_end],
        safety.guard_edge_offsets,
    )  # (F, S, G)
    scale = geometry.px_per_mm[:, None, None]
    guarded = safety.guarded
    margin = safety.margins_mm[guarded][None, None, :] * scale + EDGE_TOLERANCE_PX
    reach = safety.caution_reach_mm[guarded][None, None, :] * scale + EDGE_TOLERANCE_PX
    blocked = safety.area_status[guarded] == NO_TOUCH  # (G,)
    within_margin = distance <= margin
    no_touch = (within_margin & blocked).any(axis=2)
    caution = (within_margin | ((distance <= reach) & blocked)).any(axis=2)
    return np.where(no_touch, NO_TOUCH, np.where(caution, CAUTION, SAFE)).astype(np.uint8)


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
    planned: bool = False


def timeline(plan: Plan, catalogue: Catalogue) -> tuple[TimelineEntry, ...]:
    """Per method in the catalogue, then per treated area in catalogue order: the area's verdict under
    ``plan`` with that method (the strictest over its treatments, vessel care included).

    A planned treatment before its day gets entries of its own (``planned``) with the moments it will bring
    once done on its day; its status today is ``SAFE``.
    """
    plan.check(catalogue)
    treatments: dict[str, list[Treatment]] = {}
    for treatment in plan.treatments:
        if treatment.in_effect(plan.moment):
            for area_id in treatment.areas:
                treatments.setdefault(area_id, []).append(treatment)
    pending = [t for t in plan.treatments if not t.in_effect(plan.moment)]
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
        for treatment in pending:
            done = replace(plan, treatments=(replace(treatment, planned=False),), method=method,
                           today=treatment.treated_at)  # fmt: skip
            future = evaluate(done, catalogue)
            for area in catalogue.areas:
                if area.id in treatment.areas:
                    verdict = future.verdict(area.id)
                    entries.append(
                        TimelineEntry(
                            area.id,
                            area.label,
                            treatment.product,
                            method,
                            treatment.treated_at,
                            verdict.safe_from,
                            verdict.caution_until,
                            SAFE,
                            verdict.rule is not None and verdict.rule.prescribed is not None,
                            verdict.source,
                            planned=True,
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
