"""The catalogue of areas, massage lines and waiting rules: a data file, validated on load.

The file (YAML by default, TOML also read) is the practitioner's to edit. Every problem is reported as one
line naming the file, the entry and the field, e.g.
``zones/catalogue.yaml: rules[3] (botox/microcurrent): wait: must be >= 0``.
"""

from __future__ import annotations

import math
import os
import re
import tomllib
from collections.abc import Mapping, Sequence
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any, Literal, get_args

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from vision.faces import NUM_LANDMARKS
from zones.files import read_small_text

DEFAULT_CATALOGUE = Path(__file__).resolve().parent / "catalogue.yaml"
MAX_CATALOGUE_BYTES = 2_000_000

Side = Literal["left", "right", "centre"]
AreaKind = Literal["filler", "botox", "both"]


class CatalogueError(ValueError):
    """The catalogue file cannot be used; the message names the file, the entry and the field."""


_DURATION = re.compile(r"^\s*(-?\d+(?:\.\d+)?)\s*(h|hours?|d|days?)\s*$", re.IGNORECASE)


class Span(BaseModel):
    """A waiting time in hours or days, written ``24h`` or ``14d`` (a bare number means days).

    The unit matters for a treatment known only by its date: days count calendar days, hours count from the
    end of that day (its time is unknown, so the later, safer assumption).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    amount: float
    unit: Literal["h", "d"]

    @model_validator(mode="before")
    @classmethod
    def _from_text(cls, value: Any) -> Any:
        if isinstance(value, int | float) and not isinstance(value, bool):
            value = f"{value}d"
        if isinstance(value, str):
            match = _DURATION.match(value)
            if not match:
                raise ValueError(f"must look like 14d or 24h, got {value!r}")
            value = {"amount": float(match.group(1)), "unit": match.group(2)[0].lower()}
        if isinstance(value, Mapping):
            amount = value.get("amount")
            if isinstance(amount, int | float) and (not math.isfinite(amount) or amount < 0):
                raise ValueError("must be >= 0")
        return value

    @property
    def delta(self) -> timedelta:
        return timedelta(hours=self.amount) if self.unit == "h" else timedelta(days=self.amount)

    @property
    def text(self) -> str:
        return f"{self.amount:g} h" if self.unit == "h" else f"{self.amount:g} days"


def _landmark_index(value: int) -> int:
    if not 0 <= value < NUM_LANDMARKS:
        raise ValueError(f"must be a landmark index in 0..{NUM_LANDMARKS - 1}, got {value}")
    return value


Landmark = Annotated[int, AfterValidator(_landmark_index)]
Identifier = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$", max_length=64)]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)


class Named(_Frozen):
    """A product, method or lymph-node group: an id and the label shown to people."""

    id: Identifier
    label: str = Field(min_length=1)


class PathPoint(_Frozen):
    """A stroke point: a landmark, moved by ``offset`` (across, down) in face heights when off the mesh."""

    landmark: Landmark
    offset: tuple[float, float] = (0.0, 0.0)

    @model_validator(mode="before")
    @classmethod
    def _from_index(cls, value: Any) -> Any:
        return {"landmark": value} if isinstance(value, int) and not isinstance(value, bool) else value

    @field_validator("offset")
    @classmethod
    def _finite(cls, value: tuple[float, float]) -> tuple[float, float]:
        if not all(math.isfinite(v) and abs(v) <= 3.0 for v in value):
            raise ValueError("must be two finite numbers within +-3 face heights")
        return value


class Area(_Frozen):
    """A treatment area: an ordered outline of mesh indices walking once around it."""

    id: Identifier
    label: str = Field(min_length=1)
    kind: AreaKind
    side: Side
    outline: tuple[Landmark, ...] = Field(min_length=3)
    vessel_care: bool = False

    @field_validator("outline")
    @classmethod
    def _no_repeats(cls, value: tuple[int, ...]) -> tuple[int, ...]:
        if len(set(value)) != len(value):
            raise ValueError(
                "an outline visits each landmark once (do not repeat the first point to close it)"
            )
        return value


class Line(_Frozen):
    """A massage line: an ordered path, start to end (the order is the stroke's direction)."""

    id: Identifier
    label: str = Field(min_length=1)
    side: Side
    drains_to: Identifier
    step: int = Field(ge=1)
    path: tuple[PathPoint, ...] = Field(min_length=2)


class Prescription(_Frozen):
    """Massage prescribed on the treated area (PLLA): minutes, times a day, for how many days."""

    minutes: float = Field(gt=0)
    times_per_day: int = Field(ge=1)
    days: int = Field(ge=1)


class Rule(_Frozen):
    """What a product asks of a method on the treated area: wait, caution tail, margins, note and source.

    ``areas`` (optional) restricts the rule to some areas; such a rule wins over the general one.
    """

    product: Identifier
    method: Identifier
    wait: Span
    caution_tail: Span = Span(amount=0, unit="d")
    margin_mm: float | None = Field(default=None, ge=0, le=100)
    caution_mm: float | None = Field(default=None, ge=0, le=200)
    prescribed: Prescription | None = None
    areas: tuple[Identifier, ...] = ()
    note: str = Field(min_length=1)
    source: str = Field(min_length=1)

    @property
    def time_matters(self) -> bool:
        """Whether a treatment's time of day counts: a wait counted in hours (a prescription counts days)."""
        return self.wait.unit == "h" and self.wait.amount > 0 and self.prescribed is None

    @model_validator(mode="after")
    def _bands_nest(self) -> Rule:
        if self.margin_mm is not None and self.caution_mm is not None and self.caution_mm < self.margin_mm:
            raise ValueError("caution_mm must be >= margin_mm (the caution band lies outside the margin)")
        return self


class Phase(_Frozen):
    """One phase of a massage session and the line steps it covers, in order."""

    label: str = Field(min_length=1)
    steps: tuple[int, ...] = Field(min_length=1)


class Defaults(_Frozen):
    """Margins for rules that set none, the stroke resampling step, and how vessel-rich areas are handled.

    ``vessel_care``: ``treated`` adds ``vessel_care_tail`` of caution after a treated vessel-rich area's own
    caution tail; ``always`` also shows untreated vessel-rich areas as caution. ``product`` / ``method``: what
    a new treatment and a new plan start with (None: the first listed).
    """

    product: Identifier | None = None
    method: Identifier | None = None

    margin_mm: float = Field(default=10.0, ge=0, le=100)
    caution_mm: float = Field(default=20.0, ge=0, le=200)
    stroke_spacing_mm: float = Field(default=4.0, gt=0.5, le=50)
    vessel_care: Literal["treated", "always"] = "treated"
    vessel_care_tail: Span = Span(amount=7, unit="d")


class DemoTreatment(_Frozen):
    """One treatment of the demonstration plan: areas, product, how many days before today, time of day."""

    areas: tuple[Identifier, ...] = Field(min_length=1)
    product: Identifier
    days_ago: int = Field(ge=0, le=365)
    time: str | None = Field(default=None, pattern=r"^([01]\d|2[0-3]):[0-5]\d$")


class Catalogue(_Frozen):
    """The whole validated catalogue; frozen and hashable so per-plan results can be cached on it."""

    version: int = 1
    products: tuple[Named, ...] = Field(min_length=1)
    methods: tuple[Named, ...] = Field(min_length=1)
    lymph_nodes: tuple[Named, ...] = Field(min_length=1)
    session: tuple[Phase, ...] = ()
    defaults: Defaults = Defaults()
    rules: tuple[Rule, ...] = Field(min_length=1)
    areas: tuple[Area, ...] = Field(min_length=1)
    lines: tuple[Line, ...] = Field(min_length=1)
    demo: tuple[DemoTreatment, ...] = ()
    source_path: str = ""

    @model_validator(mode="after")
    def _cross_references(self) -> Catalogue:
        problems: list[str] = []
        for name in ("products", "methods", "lymph_nodes", "areas", "lines"):
            ids = [entry.id for entry in getattr(self, name)]
            duplicates = sorted({i for i in ids if ids.count(i) > 1})
            if duplicates:
                problems.append(f"{name}: duplicate id {', '.join(duplicates)}")
        products = {p.id for p in self.products}
        methods = {m.id for m in self.methods}
        areas = {a.id for a in self.areas}
        nodes = {n.id for n in self.lymph_nodes}
        seen: set[tuple[str, str, tuple[str, ...]]] = set()
        for i, rule in enumerate(self.rules):
            where = f"rules[{i}] ({rule.product}/{rule.method})"
            if rule.product not in products:
                problems.append(f"{where}: product: unknown product {rule.product!r}")
            if rule.method not in methods:
                problems.append(f"{where}: method: unknown method {rule.method!r}")
            unknown = [a for a in rule.areas if a not in areas]
            if unknown:
                problems.append(f"{where}: areas: unknown area {', '.join(map(repr, unknown))}")
            key = (rule.product, rule.method, tuple(sorted(rule.areas)))
            if key in seen:
                problems.append(f"{where}: duplicates an earlier rule for the same product, method and areas")
            seen.add(key)
        for i, line in enumerate(self.lines):
            if line.drains_to not in nodes:
                problems.append(
                    f"lines[{i}] ({line.id}): drains_to: unknown lymph-node group {line.drains_to!r}"
                )
        for i, item in enumerate(self.demo):
            unknown = [a for a in item.areas if a not in areas]
            if unknown:
                problems.append(f"demo[{i}]: areas: unknown area {', '.join(map(repr, unknown))}")
            if item.product not in products:
                problems.append(f"demo[{i}]: product: unknown product {item.product!r}")
        for name, known in (("product", products), ("method", methods)):
            value = getattr(self.defaults, name)
            if value is not None and value not in known:
                problems.append(f"defaults: {name}: unknown {name} {value!r}")
        steps = {line.step for line in self.lines}
        for i, phase in enumerate(self.session):
            missing = [s for s in phase.steps if s not in steps]
            if missing:
                problems.append(f"session[{i}] ({phase.label}): steps: no line has step {missing}")
        if problems:
            raise ValueError("\n".join(problems))
        return self

    # --- look-ups (built once; never called per frame) ---
    def area_index(self, area_id: str) -> int:
        for i, area in enumerate(self.areas):
            if area.id == area_id:
                return i
        raise KeyError(area_id)

    @property
    def area_ids(self) -> tuple[str, ...]:
        return tuple(a.id for a in self.areas)

    @property
    def line_ids(self) -> tuple[str, ...]:
        return tuple(line.id for line in self.lines)

    def product_ids(self) -> tuple[str, ...]:
        return tuple(p.id for p in self.products)

    def method_ids(self) -> tuple[str, ...]:
        return tuple(m.id for m in self.methods)

    @property
    def default_product(self) -> str:
        """The product a new treatment starts with."""
        return self.defaults.product or self.products[0].id

    @property
    def default_method(self) -> str:
        """The method a new plan starts with."""
        return self.defaults.method or self.methods[0].id

    def areas_by_kind(self) -> tuple[Area, ...]:
        """The areas grouped by kind in the order of ``AreaKind``, in catalogue order within a kind."""
        order = get_args(AreaKind)
        return tuple(sorted(self.areas, key=lambda a: order.index(a.kind)))

    def time_matters(self, product: str) -> bool:
        """Whether a treatment with ``product`` needs its time of day: one of its rules waits in hours."""
        return any(rule.time_matters for rule in self.rules if rule.product == product)

    def session_lines(self) -> tuple[tuple[str, Line], ...]:
        """The guided session: (phase label, line) in the order of the catalogue's ``session`` phases."""
        by_step: dict[int, list[Line]] = {}
        for line in self.lines:
            by_step.setdefault(line.step, []).append(line)
        return tuple(
            (phase.label, line)
            for phase in self.session
            for step in phase.steps
            for line in by_step.get(step, [])
        )

    def rule_for(self, product: str, method: str, area_id: str) -> Rule | None:
        """The rule deciding ``product`` x ``method`` on ``area_id``: an area-specific rule wins."""
        general = None
        for rule in self.rules:
            if rule.product == product and rule.method == method:
                if area_id in rule.areas:
                    return rule
                if not rule.areas:
                    general = rule
        return general

    def margins(self, rule: Rule) -> tuple[float, float]:
        """(margin_mm, caution_mm) of ``rule``, falling back to the catalogue's defaults."""
        margin = self.defaults.margin_mm if rule.margin_mm is None else rule.margin_mm
        caution = self.defaults.caution_mm if rule.caution_mm is None else rule.caution_mm
        return margin, max(margin, caution)


def _entry_name(raw: Any, loc: Sequence[Any]) -> str:
    """``rules[3] (botox/microcurrent)`` for a validation error at ``loc`` in the raw document."""
    if len(loc) < 2 or not isinstance(loc[1], int):
        return str(loc[0]) if loc else "(top level)"
    section, index = str(loc[0]), loc[1]
    name = f"{section}[{index}]"
    try:
        entry = raw[section][index]
    except (KeyError, IndexError, TypeError):
        return name
    if isinstance(entry, Mapping):
        if "id" in entry:
            return f"{name} ({entry['id']})"
        if "product" in entry or "method" in entry:
            return f"{name} ({entry.get('product', '?')}/{entry.get('method', '?')})"
    return name


def _format_errors(path: str, raw: Any, error: ValidationError) -> str:
    lines: list[str] = []
    for item in error.errors():
        loc = item.get("loc", ())
        message = str(item.get("msg", "invalid")).removeprefix("Value error, ")
        if not loc:
            lines.extend(f"{path}: {problem}" for problem in message.splitlines())
            continue
        entry = _entry_name(raw, loc)
        field_path = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in loc[2:]).lstrip(".")
        if len(loc) == 1:
            lines.append(f"{path}: {entry}: {message}")
        else:
            lines.append(f"{path}: {entry}: {field_path or 'entry'}: {message}")
    return "\n".join(lines)


def parse_catalogue(raw: Any, path: str = "<catalogue>") -> Catalogue:
    """Validate an already-parsed document; raise ``CatalogueError`` naming file, entry and field."""
    if not isinstance(raw, Mapping):
        raise CatalogueError(f"{path}: the top level must be a mapping with areas, lines and rules")
    try:
        return Catalogue.model_validate({**raw, "source_path": path})
    except ValidationError as err:
        raise CatalogueError(_format_errors(path, raw, err)) from None


def load_catalogue(path: str | os.PathLike[str] | None = None) -> Catalogue:
    """Read and validate a catalogue file (YAML, or TOML by extension); default ``zones/catalogue.yaml``."""
    file = Path(path) if path is not None else DEFAULT_CATALOGUE
    shown = _display_path(file)
    limit = MAX_CATALOGUE_BYTES
    text = read_small_text(file, shown, limit=limit, kind="catalogue file", error=CatalogueError)
    try:
        raw = tomllib.loads(text) if file.suffix.lower() == ".toml" else yaml.safe_load(text)
    except (yaml.YAMLError, tomllib.TOMLDecodeError) as err:
        detail = " ".join(str(err).split())
        raise CatalogueError(
            f"{shown}: not valid {'TOML' if file.suffix == '.toml' else 'YAML'}: {detail}"
        ) from None
    return parse_catalogue(raw, shown)


def _display_path(file: Path) -> str:
    try:
        return str(file.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(file)
