"""A treatment plan: what was treated, with which product and when, the injector's own waits, the massage
method, the screening answers and "today".

Plans are frozen and hashable so per-plan work (``evaluate``) can be cached on them. They are parsed from the
CLI's ``--treat AREA[,AREA...]=PRODUCT@YYYY-MM-DD[THH:MM]`` syntax and saved to / loaded from JSON. A plan
file is read strictly: an unknown key, a wrong type, another kind of document or a missing version is refused
with one line naming the file, the entry and the field (``plan.json: treatments[0]: date: ...``).

Time: a date without a time means the start of that day (waits are counted in calendar days); a "today"
given as a plain date is evaluated at the start of that day. A treatment after "today" is refused unless it is
``planned``: a planned treatment starts no wait before its day (see ``Treatment.in_effect``).
"""

from __future__ import annotations

import difflib
import json
import math
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from zones.catalogue import Catalogue, Span
from zones.files import read_small_text, write_text_atomically

MAX_PLAN_BYTES = 1_000_000
PLAN_VERSION = 2
READABLE_VERSIONS = (1, 2)
TREAT_SYNTAX = "AREA[,AREA...]=PRODUCT@YYYY-MM-DD[THH:MM]"
_TREAT = re.compile(r"^\s*([^=@]+)=\s*([^=@\s]+)\s*@\s*(\S+)\s*$")
_PAIR = re.compile(r"^\s*([^=\s]+)\s*=\s*(\S+)\s*$")
ANSWERS = {"yes": True, "no": False}


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

    ``treated_at`` may be given as a plain date. ``planned``: booked, not yet done; it starts no wait before
    its day, and from its day on it counts as done (fail safe: the course is over and the waits take over).
    """

    areas: tuple[str, ...]
    product: str
    treated_at: datetime
    has_time: bool = False
    injector_waits: tuple[tuple[str, Span], ...] = ()  # (area, the wait the injector gave), in area order
    planned: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "areas", tuple(self.areas))
        waits = dict(
            self.injector_waits.items() if isinstance(self.injector_waits, Mapping) else self.injector_waits
        )
        stray = [a for a in waits if a not in self.areas]
        if stray:
            raise PlanError(
                f"an injector's wait for {', '.join(stray)}, which the treatment "
                f"{','.join(self.areas)}={self.product} does not name"
            )
        for area, wait in waits.items():
            if not isinstance(wait, Span):
                raise PlanError(f"the injector's wait for {area} must be a duration like 2d or 36h")
        object.__setattr__(self, "injector_waits", tuple((a, waits[a]) for a in self.areas if a in waits))
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
        """The ``--treat`` form, which ``parse_treatment`` reads back (without the injector's waits)."""
        return f"{','.join(self.areas)}={self.product}@{self.when_text}"

    def injector_wait(self, area_id: str) -> Span | None:
        """The wait this treatment's injector gave for ``area_id``, or None."""
        return dict(self.injector_waits).get(area_id)

    def to_json(self) -> dict[str, Any]:
        document: dict[str, Any] = {
            "areas": list(self.areas),
            "product": self.product,
            "date": self.when_text,
        }
        if self.planned:
            document["planned"] = True
        if self.injector_waits:
            document["injector_waits"] = {area: wait.code for area, wait in self.injector_waits}
        return document

    def in_effect(self, moment: datetime) -> bool:
        """Whether its waits apply at ``moment``: a done treatment's always, a planned one's from its day."""
        return not self.planned or self.treated_at.date() <= moment.date()


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


def parse_injector_wait(text: str) -> tuple[str, Span]:
    """``"lips=2d"`` (``--injector-wait AREA=DURATION``) -> ("lips", Span of 2 days)."""
    match = _PAIR.match(text or "")
    if not match:
        raise PlanError(f"--injector-wait {text!r}: expected AREA=DURATION, e.g. lips=2d or lips=36h")
    try:
        return match.group(1), Span.model_validate(match.group(2))
    except ValidationError as err:
        detail = str(err.errors()[0]["msg"]).removeprefix("Value error, ")
        raise PlanError(f"--injector-wait {text!r}: the duration {detail}") from None


def parse_screen(text: str) -> tuple[str, bool]:
    """``"heart=yes"`` (``--screen ID=yes|no``) -> ("heart", True)."""
    match = _PAIR.match(text or "")
    answer = match.group(2).lower() if match else ""
    if not match or answer not in ANSWERS:
        raise PlanError(f"--screen {text!r}: expected ID=yes or ID=no, e.g. heart=no")
    return match.group(1), ANSWERS[answer]


def with_injector_waits(
    treatments: Sequence[Treatment], waits: Sequence[tuple[str, Span]]
) -> tuple[Treatment, ...]:
    """Each (area, wait) goes to the latest treatment naming that area; an area none names is refused."""
    result = list(treatments)
    for area, wait in waits:
        naming = [i for i, t in enumerate(result) if area in t.areas]
        if not naming:
            raise PlanError(f"--injector-wait {area}={wait.code}: no treatment in the plan names {area!r}")
        latest = max(naming, key=lambda i: result[i].treated_at)
        treatment = result[latest]
        result[latest] = replace(
            treatment, injector_waits=tuple({**dict(treatment.injector_waits), area: wait}.items())
        )
    return tuple(result)


@dataclass(frozen=True)
class Plan:
    """Treatments, the massage method, the day to evaluate ("today"; any day may be chosen to preview) and the
    screening answers (question id -> True for "yes"; questions not answered are absent).

    ``margin_mm`` / ``caution_band_mm`` override the rules' margin and the width of the caution band outside
    it, independently (a wide margin moves the band out, never erases it). Raises ``PlanError`` when a
    treatment lies after "today".
    """

    treatments: tuple[Treatment, ...] = ()
    method: str = "hands"
    today: date | datetime = field(default_factory=_now)
    margin_mm: float | None = None
    caution_band_mm: float | None = None
    screening: tuple[tuple[str, bool], ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "treatments", tuple(self.treatments))
        answers = self.screening.items() if isinstance(self.screening, Mapping) else self.screening
        screening = tuple(sorted((str(q), a) for q, a in answers))
        if any(not isinstance(a, bool) for _, a in screening):
            raise PlanError("screening answers are yes (True) or no (False)")
        if len({q for q, _ in screening}) != len(screening):
            raise PlanError("a screening question is answered twice")
        object.__setattr__(self, "screening", screening)
        if isinstance(self.today, datetime):
            object.__setattr__(self, "today", _as_naive_local(self.today))
        for name in ("margin_mm", "caution_band_mm"):
            value = getattr(self, name)
            if value is not None and not (math.isfinite(value) and 0 <= value <= 200):
                raise PlanError(f"{name} must be between 0 and 200 mm, got {value}")
        now = self.moment
        for treatment in self.treatments:
            future = treatment.treated_at.date() > now.date() or (
                treatment.has_time and isinstance(self.today, datetime) and treatment.treated_at > now
            )
            if future and not treatment.planned:
                raise PlanError(
                    f"treatment {treatment.to_text()} is dated after today ({self.today_text}): "
                    "a plan records "
                    "treatments already done; to preview a later day, move --today forward instead"
                )

    @property
    def moment(self) -> datetime:
        return moment_of(self.today)

    @property
    def answers(self) -> dict[str, bool]:
        """Screening question id -> True for "yes", for the questions answered."""
        return dict(self.screening)

    @property
    def caution_mm(self) -> float | None:
        """Where the caution band ends, in mm from the area, when the plan sets both margin and band."""
        if self.margin_mm is None or self.caution_band_mm is None:
            return None
        return self.margin_mm + self.caution_band_mm

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
        questions = catalogue.question_ids
        unknown = [q for q, _ in self.screening if q not in questions]
        if unknown:
            raise PlanError(
                f"unknown screening question {', '.join(map(repr, unknown))}; the catalogue asks "
                f"{', '.join(questions)}"
            )

    def to_json(self, *, include_today: bool = False) -> dict[str, Any]:
        """The plan file's form (``version`` 2); ``caution_mm`` is derived, kept for readers of version 1."""
        document: dict[str, Any] = {
            "version": PLAN_VERSION,
            "method": self.method,
            "treatments": [t.to_json() for t in self.treatments],
            "margin_mm": self.margin_mm,
            "caution_band_mm": self.caution_band_mm,
            "caution_mm": self.caution_mm,
            "screening": {q: ("yes" if a else "no") for q, a in self.screening},
        }
        if include_today:
            document["today"] = self.today_text
        return document


_TOP_FIELDS = {
    1: ("version", "method", "treatments", "margin_mm", "caution_mm", "today"),
    2: (
        "version",
        "method",
        "treatments",
        "margin_mm",
        "caution_band_mm",
        "caution_mm",
        "screening",
        "today",
    ),
}
_TREATMENT_FIELDS = {
    1: ("areas", "product", "date"),
    2: ("areas", "product", "date", "injector_waits", "planned"),
}
_REQUIRED = ("version", "method", "treatments")


def _refuse(where: str, entry: str, name: str, message: str) -> PlanError:
    return PlanError(f"{where}: {entry}: {name}: {message}")


def _other_kind(document: Mapping[str, Any]) -> str | None:
    """What the document is when it is not a plan, or None."""
    if "faces" in document and "image" in document:
        return (
            "this is FaceZones' analysis output (cli.py annotate --json), not a plan; "
            "its 'plan' field holds the plan it was made with"
        )
    if {"areas", "lines", "rules"} & set(document) and "treatments" not in document:
        return "this is a FaceZones catalogue (areas, lines, rules), not a plan: pass it as --catalogue"
    return None


def _known_fields(where: str, entry: str, item: Mapping[str, Any], known: Sequence[str]) -> None:
    for key in item:
        if key not in known:
            close = difflib.get_close_matches(str(key), known, n=1)
            hint = f"; did you mean {close[0]!r}?" if close else f" (known: {', '.join(known)})"
            raise _refuse(where, entry, str(key), f"unknown field{hint}")


def _text(where: str, entry: str, name: str, value: Any, example: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise _refuse(where, entry, name, f"must be text like {example}, got {json.dumps(value)}")
    return value


def _millimetres(where: str, name: str, value: Any) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _refuse(
            where, "plan", name, f"must be a number of millimetres or null, got {json.dumps(value)}"
        )
    return float(value)


def _treatment_from_json(where: str, i: int, item: Any, version: int) -> Treatment:
    entry = f"treatments[{i}]"
    if not isinstance(item, dict):
        raise _refuse(where, entry, "entry", "must be an object with areas, product and date")
    _known_fields(where, entry, item, _TREATMENT_FIELDS[version])
    for name in ("areas", "product", "date"):
        if name not in item:
            raise _refuse(where, entry, name, "missing")
    areas = item["areas"]
    if not isinstance(areas, list) or not areas or not all(isinstance(a, str) and a for a in areas):
        raise _refuse(where, entry, "areas", f"must be a list of area ids, got {json.dumps(areas)}")
    product = _text(where, entry, "product", item["product"], "ha_filler")
    when = _text(where, entry, "date", item["date"], "2026-11-20")
    try:
        treated_at, has_time = parse_moment(when, "the date")
    except PlanError as err:
        raise _refuse(where, entry, "date", str(err)) from None
    raw_waits = item.get("injector_waits", {})
    if not isinstance(raw_waits, dict):
        raise _refuse(where, entry, "injector_waits", 'must map areas to durations, e.g. {"lips": "2d"}')
    waits = {}
    for area, text in raw_waits.items():
        try:
            if not isinstance(text, str):
                raise ValueError(f"must be text like 2d or 36h, got {json.dumps(text)}")
            waits[area] = Span.model_validate(text)
        except (ValidationError, ValueError) as err:
            detail = err.errors()[0]["msg"] if isinstance(err, ValidationError) else str(err)
            raise _refuse(
                where, entry, f"injector_waits.{area}", detail.removeprefix("Value error, ")
            ) from None
    planned = item.get("planned", False)
    if not isinstance(planned, bool):
        raise _refuse(where, entry, "planned", f"must be true or false, got {json.dumps(planned)}")
    try:
        return Treatment(tuple(areas), product, treated_at, has_time, injector_waits=tuple(waits.items()),
                         planned=planned)  # fmt: skip
    except PlanError as err:
        raise PlanError(f"{where}: {entry}: {err}") from None


def _screening_from_json(where: str, value: Any) -> dict[str, bool]:
    if not isinstance(value, dict):
        raise _refuse(where, "plan", "screening", 'must map question ids to "yes" or "no"')
    answers = {}
    for question, answer in value.items():
        if answer not in ANSWERS:
            raise _refuse(
                where, "screening", str(question), f'must be "yes" or "no", got {json.dumps(answer)}'
            )
        answers[question] = ANSWERS[answer]
    return answers


def plan_from_json(document: Any, *, today: date | datetime | None = None, where: str = "plan") -> Plan:
    """Build a ``Plan`` from its JSON form (version 1 or 2), strictly; ``today`` (else the document's, else
    now) sets the day. Raises ``PlanError`` with one line: ``where: entry: field: what is wrong``."""
    if not isinstance(document, dict):
        raise PlanError(f"{where}: expected a JSON object with version, method and treatments (a plan file)")
    other = _other_kind(document)
    if other:
        raise PlanError(f"{where}: {other}")
    if "version" not in document:
        raise _refuse(where, "plan", "version", f'missing (a plan file says "version": {PLAN_VERSION})')
    version = document["version"]
    if isinstance(version, bool) or version not in READABLE_VERSIONS:
        raise _refuse(
            where, "plan", "version",
            f"unsupported plan version {json.dumps(version)} (this FaceZones reads "
            f"{' and '.join(map(str, READABLE_VERSIONS))})",
        )  # fmt: skip
    _known_fields(where, "plan", document, _TOP_FIELDS[version])
    for name in _REQUIRED:
        if name not in document:
            raise _refuse(where, "plan", name, "missing")
    method = _text(where, "plan", "method", document["method"], "hands")
    raw_treatments = document["treatments"]
    if not isinstance(raw_treatments, list):
        raise _refuse(where, "plan", "treatments", "must be a list of treatments")
    treatments = tuple(_treatment_from_json(where, i, item, version) for i, item in enumerate(raw_treatments))
    margin = _millimetres(where, "margin_mm", document.get("margin_mm"))
    caution = _millimetres(where, "caution_mm", document.get("caution_mm"))
    band = _millimetres(where, "caution_band_mm", document.get("caution_band_mm"))
    if band is None and caution is not None:  # version 1: where the band ends; never narrower than it was
        band = max(0.0, caution - (margin or 0.0))
    elif (
        band is not None
        and caution is not None
        and margin is not None
        and abs(margin + band - caution) > 1e-6
    ):
        raise _refuse(where, "plan", "caution_mm", "must equal margin_mm + caution_band_mm (it is derived)")
    screening = _screening_from_json(where, document.get("screening", {}))
    saved = document.get("today")
    if saved is not None:
        try:
            saved_today = parse_today(_text(where, "plan", "today", saved, "2026-11-22"))
        except PlanError as err:
            raise (err if str(err).startswith(where) else _refuse(where, "plan", "today", str(err))) from None
        today = saved_today if today is None else today
    today = _now() if today is None else today
    try:
        return Plan(treatments, method, today, margin, band, tuple(screening.items()))
    except PlanError as err:
        raise PlanError(f"{where}: {err}") from None


def build_plan(
    treatments: Sequence[str] = (),
    *,
    method: str | None = None,
    today: str | date | datetime | None = None,
    plan_path: str | os.PathLike[str] | None = None,
    margin_mm: float | None = None,
    catalogue: Catalogue | None = None,
    caution_band_mm: float | None = None,
    screen: Sequence[str] = (),
    injector_waits: Sequence[str] = (),
    base: Plan | None = None,
) -> Plan:
    """The plan the CLI flags describe: ``--plan`` file (or ``base``, e.g. a person's stored plan) first,
    ``--treat`` items added; ``--method``,
    ``--margin`` (``margin_mm``), ``--caution-band`` and each ``--screen ID=yes|no`` win over the file's;
    each ``--injector-wait AREA=DURATION`` goes to the latest treatment of that area.

    ``today`` is text (``YYYY-MM-DD[THH:MM]`` or ``now``), a date/datetime, or None for now. With
    ``catalogue`` every id is checked. Raises ``PlanError`` with a message fit for the command line.
    """
    moment = parse_today(today) if today is None or isinstance(today, str) else today
    if base is None:
        base = load_plan(plan_path, today=moment) if plan_path is not None else Plan(today=moment)
    added = tuple(parse_treatment(text) for text in treatments)
    waits = with_injector_waits(base.treatments + added, [parse_injector_wait(t) for t in injector_waits])
    answers = {**base.answers, **dict(parse_screen(text) for text in screen)}
    margin = base.margin_mm if margin_mm is None else margin_mm
    band = base.caution_band_mm if caution_band_mm is None else caution_band_mm
    plan = Plan(waits, method or base.method, moment, margin, band, tuple(answers.items()))
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
    return write_text_atomically(path, json.dumps(plan.to_json(include_today=include_today), indent=2) + "\n")


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
