"""A treatment plan: what was treated, with which product and when, the massage method and "today".

Plans are frozen and hashable so per-plan work (``evaluate``) can be cached on them. They are parsed from the
CLI's ``--treat AREA[,AREA...]=PRODUCT@YYYY-MM-DD[THH:MM]`` syntax and saved to / loaded from JSON.

Time: a date without a time means the start of that day (waits are counted in calendar days); a "today"
given as a plain date is evaluated at the start of that day. A treatment after "today" is refused.
"""

from __future__ import annotations

import json
import math
import os
import re
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from zones.catalogue import Catalogue
from zones.files import read_small_text

MAX_PLAN_BYTES = 1_000_000
PLAN_VERSION = 1
TREAT_SYNTAX = "AREA[,AREA...]=PRODUCT@YYYY-MM-DD[THH:MM]"
_TREAT = re.compile(r"^\s*([^=@]+)=\s*([^=@\s]+)\s*@\s*(\S+)\s*$")


class PlanError(ValueError):
    """A plan that cannot be used (bad syntax, unknown id, date in the future); the message says why."""


def _now() -> datetime:
    return datetime.now().replace(second=0, microsecond=0)


def _as_naive_local(moment: datetime) -> datetime:
    return moment.astimezone().replace(tzinfo=None) if moment.tzinfo is not None else moment


def parse_moment(text: str, what: str = "date") -> tuple[datetime, bool]:
    """``YYYY-MM-DD`` or ``YYYY-MM-DDTHH:MM`` -> (naive local datetime, whether a time was given)."""
    text = text.strip()
    try:
        if "T" in text or " " in text:
            return _as_naive_local(datetime.fromisoformat(text)).replace(second=0, microsecond=0), True
        return datetime.combine(date.fromisoformat(text), time()), False
    except ValueError:
        raise PlanError(f"{what} {text!r} is not a date: use YYYY-MM-DD or YYYY-MM-DDTHH:MM") from None


def parse_today(text: str | None) -> date | datetime:
    """The plan's "today": None or ``now`` -> now; ``YYYY-MM-DD`` -> that date; with a time, that moment."""
    if text is None or text.strip().lower() == "now":
        return _now()
    moment, has_time = parse_moment(text, "--today")
    return moment if has_time else moment.date()


def moment_of(today: date | datetime) -> datetime:
    """The instant a plan is evaluated at: a plain date counts from the start of that day."""
    return today if isinstance(today, datetime) else datetime.combine(today, time())


@dataclass(frozen=True)
class Treatment:
    """Areas treated together with one product at one time (``has_time`` False: only the date is known).

    ``treated_at`` may be given as a plain date.
    """

    areas: tuple[str, ...]
    product: str
    treated_at: datetime
    has_time: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "areas", tuple(self.areas))
        if not isinstance(self.treated_at, datetime):  # a plain date: the start of that day, no time known
            object.__setattr__(self, "treated_at", datetime.combine(self.treated_at, time()))
            object.__setattr__(self, "has_time", False)
        object.__setattr__(self, "treated_at", _as_naive_local(self.treated_at))
        if self.treated_at.time() != time():  # a moment other than midnight carries its time
            object.__setattr__(self, "has_time", True)
        if not self.areas or any(not a for a in self.areas):
            raise PlanError("a treatment names at least one area")
        if len(set(self.areas)) != len(self.areas):
            raise PlanError(f"a treatment names an area twice: {','.join(self.areas)}")
        if not self.product:
            raise PlanError("a treatment names its product")

    @property
    def when_text(self) -> str:
        return (
            self.treated_at.strftime("%Y-%m-%dT%H:%M")
            if self.has_time
            else self.treated_at.date().isoformat()
        )

    def to_text(self) -> str:
        """The ``--treat`` form, which ``parse_treatment`` reads back."""
        return f"{','.join(self.areas)}={self.product}@{self.when_text}"


def parse_treatment(text: str) -> Treatment:
    """``"nasolabial_left,lips=ha_filler@2026-11-20"`` (optionally ``@2026-11-20T14:30``) -> ``Treatment``."""
    match = _TREAT.match(text or "")
    if not match:
        raise PlanError(
            f"--treat {text!r}: expected {TREAT_SYNTAX}, e.g. nasolabial_left,lips=ha_filler@2026-11-20"
        )
    areas = tuple(part.strip() for part in match.group(1).split(","))
    if any(not a for a in areas):
        raise PlanError(f"--treat {text!r}: an empty area name (check the commas)")
    treated_at, has_time = parse_moment(match.group(3), f"--treat {text!r}:")
    return Treatment(areas=areas, product=match.group(2).strip(), treated_at=treated_at, has_time=has_time)


@dataclass(frozen=True)
class Plan:
    """Treatments, the massage method and the day to evaluate ("today"; any day may be chosen to preview).

    ``margin_mm`` / ``caution_mm`` override the rules' margins (the app's slider) when set.
    Raises ``PlanError`` when a treatment lies after "today".
    """

    treatments: tuple[Treatment, ...] = ()
    method: str = "hands"
    today: date | datetime = field(default_factory=_now)
    margin_mm: float | None = None
    caution_mm: float | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "treatments", tuple(self.treatments))
        if isinstance(self.today, datetime):
            object.__setattr__(self, "today", _as_naive_local(self.today))
        for name in ("margin_mm", "caution_mm"):
            value = getattr(self, name)
            if value is not None and not (math.isfinite(value) and 0 <= value <= 200):
                raise PlanError(f"{name} must be between 0 and 200 mm, got {value}")
        now = self.moment
        for treatment in self.treatments:
            future = treatment.treated_at.date() > now.date() or (
                treatment.has_time and isinstance(self.today, datetime) and treatment.treated_at > now
            )
            if future:
                raise PlanError(
                    f"treatment {treatment.to_text()} is dated after today ({self.today_text}): "
                    "a plan records "
                    "treatments already done; to preview a later day, move --today forward instead"
                )

    @property
    def moment(self) -> datetime:
        return moment_of(self.today)

    @property
    def today_text(self) -> str:
        if isinstance(self.today, datetime):
            return self.today.strftime("%Y-%m-%dT%H:%M")
        return self.today.isoformat()

    def check(self, catalogue: Catalogue) -> None:
        """Raise ``PlanError`` naming any area, product or method the catalogue does not know."""
        areas, products, methods = set(catalogue.area_ids), catalogue.product_ids(), catalogue.method_ids()
        if self.method not in methods:
            raise PlanError(f"unknown method {self.method!r}; choose one of {', '.join(methods)}")
        for treatment in self.treatments:
            unknown = [a for a in treatment.areas if a not in areas]
            if unknown:
                raise PlanError(
                    f"treatment {treatment.to_text()}: unknown area {', '.join(map(repr, unknown))}; "
                    f"known areas: {', '.join(catalogue.area_ids)}"
                )
            if treatment.product not in products:
                raise PlanError(
                    f"treatment {treatment.to_text()}: unknown product {treatment.product!r}; "
                    f"choose one of {', '.join(products)}"
                )

    def to_json(self, *, include_today: bool = False) -> dict[str, Any]:
        document: dict[str, Any] = {
            "version": PLAN_VERSION,
            "method": self.method,
            "treatments": [
                {"areas": list(t.areas), "product": t.product, "date": t.when_text} for t in self.treatments
            ],
            "margin_mm": self.margin_mm,
            "caution_mm": self.caution_mm,
        }
        if include_today:
            document["today"] = self.today_text
        return document


def plan_from_json(document: Any, *, today: date | datetime | None = None, where: str = "plan") -> Plan:
    """Build a ``Plan`` from its JSON form; ``today`` (else the document's, else now) sets the day."""
    if not isinstance(document, dict):
        raise PlanError(f"{where}: expected a JSON object with 'treatments' and 'method'")
    if document.get("version", PLAN_VERSION) != PLAN_VERSION:
        raise PlanError(
            f"{where}: unsupported plan version {document.get('version')!r} (expected {PLAN_VERSION})"
        )
    raw_treatments = document.get("treatments", [])
    if not isinstance(raw_treatments, list):
        raise PlanError(f"{where}: 'treatments' must be a list")
    treatments = []
    for i, item in enumerate(raw_treatments):
        if not isinstance(item, dict) or not isinstance(item.get("areas"), list):
            raise PlanError(
                f"{where}: treatments[{i}]: expected {{'areas': [...], 'product': ..., 'date': ...}}"
            )
        if not all(isinstance(a, str) for a in item["areas"]) or not isinstance(item.get("product"), str):
            raise PlanError(f"{where}: treatments[{i}]: areas and product must be text")
        if not isinstance(item.get("date"), str):
            raise PlanError(f"{where}: treatments[{i}]: date must be text like 2026-11-20")
        treated_at, has_time = parse_moment(item["date"], f"{where}: treatments[{i}]:")
        treatments.append(Treatment(tuple(item["areas"]), item["product"], treated_at, has_time))
    method = document.get("method", "hands")
    if not isinstance(method, str):
        raise PlanError(f"{where}: 'method' must be text")
    if today is None:
        saved = document.get("today")
        today = parse_today(saved) if isinstance(saved, str) else _now()
    margins = {}
    for name in ("margin_mm", "caution_mm"):
        value = document.get(name)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int | float)):
            raise PlanError(f"{where}: {name} must be a number or null")
        margins[name] = None if value is None else float(value)
    return Plan(tuple(treatments), method, today, **margins)


def build_plan(
    treatments: Sequence[str] = (),
    *,
    method: str | None = None,
    today: str | date | datetime | None = None,
    plan_path: str | os.PathLike[str] | None = None,
    margin_mm: float | None = None,
    catalogue: Catalogue | None = None,
) -> Plan:
    """The plan the CLI flags describe: ``--plan`` file first, ``--treat`` items added, ``--method`` and
    ``--margin`` (``margin_mm``) win over the file's.

    ``today`` is text (``YYYY-MM-DD[THH:MM]`` or ``now``), a date/datetime, or None for now. With
    ``catalogue`` every id is checked. Raises ``PlanError`` with a message fit for the command line.
    """
    moment = parse_today(today) if today is None or isinstance(today, str) else today
    base = load_plan(plan_path, today=moment) if plan_path is not None else Plan(today=moment)
    added = tuple(parse_treatment(text) for text in treatments)
    margin = base.margin_mm if margin_mm is None else margin_mm
    plan = Plan(base.treatments + added, method or base.method, moment, margin, base.caution_mm)
    if catalogue is not None:
        plan.check(catalogue)
    return plan


def demo_plan(catalogue: Catalogue, now: datetime) -> Plan:
    """The catalogue's demonstration plan, dated back from ``now``, with the catalogue's default method."""
    treatments = tuple(
        Treatment(
            item.areas,
            item.product,
            datetime.combine(
                now.date() - timedelta(days=item.days_ago),
                time.fromisoformat(item.time) if item.time else time(),
            ),
            has_time=item.time is not None,
        )
        for item in catalogue.demo
    )
    return Plan(treatments, catalogue.default_method, now, margin_mm=catalogue.defaults.margin_mm)


def save_plan(plan: Plan, path: str | os.PathLike[str], *, include_today: bool = False) -> Path:
    """Write ``plan`` as JSON atomically (temporary file in the same folder, then rename)."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(plan.to_json(include_today=include_today), indent=2) + "\n"
    handle, temporary = tempfile.mkstemp(prefix=target.name + ".", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return target


def load_plan(
    path: str | os.PathLike[str], *, today: date | datetime | None = None, catalogue: Catalogue | None = None
) -> Plan:
    """Read a plan saved by ``save_plan``; a missing, huge, corrupt or inconsistent file raises ``PlanError``.

    With ``catalogue`` the plan's areas, products and method are checked against it too.
    """
    source = Path(path)
    text = read_small_text(source, str(source), limit=MAX_PLAN_BYTES, kind="plan file", error=PlanError)
    try:
        document = json.loads(text)
    except json.JSONDecodeError as err:
        raise PlanError(f"{source}: not valid JSON ({err.msg} at line {err.lineno})") from None
    plan = plan_from_json(document, today=today, where=str(source))
    if catalogue is not None:
        try:
            plan.check(catalogue)
        except PlanError as err:
            raise PlanError(f"{source}: {err}") from None
    return plan


def load_plan_or_keep(
    path: str | os.PathLike[str], current: Plan, *, catalogue: Catalogue | None = None
) -> tuple[Plan, str | None]:
    """Load a plan, or keep ``current`` when the file is bad: returns (plan, error message or None)."""
    try:
        return load_plan(path, today=current.today, catalogue=catalogue), None
    except PlanError as err:
        return current, f"{err} (the previous plan is kept)"
