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
from dataclasses import dataclass
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
Grade = Literal["mfr", "reg", "peer", "prof", "clinic", "blog"]
GRADE_LABELS: dict[str, str] = {
    "mfr": "manufacturer",
    "reg": "regulator",
    "peer": "peer-reviewed",
    "prof": "professional or textbook",
    "clinic": "clinic page",
    "blog": "blog",
}
StopLevel = Literal["urgent", "contact_injector"]


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

    @property
    def code(self) -> str:
        """The written form (``14d``, ``36h``) that ``Span`` reads back."""
        return f"{self.amount:g}{self.unit}"


class WaitRange(BaseModel):
    """The shortest and the longest wait the cited sources give, written ``[6h, 14d]``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    shortest: Span
    longest: Span

    @model_validator(mode="before")
    @classmethod
    def _from_pair(cls, value: Any) -> Any:
        if isinstance(value, list | tuple):
            if len(value) != 2:
                raise ValueError("must be two durations, shortest first, e.g. [6h, 14d]")
            return {"shortest": value[0], "longest": value[1]}
        return value

    @model_validator(mode="after")
    def _ordered(self) -> WaitRange:
        if self.shortest.delta > self.longest.delta:
            raise ValueError("the shortest wait comes first, e.g. [6h, 14d]")
        return self

    @property
    def text(self) -> str:
        return f"{self.shortest.text} to {self.longest.text}"


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


class Source(_Frozen):
    """A public source: what it is, who published it, where to find it (no scheme, as written in the project's
    sources list; None for a journal article known only by its citation) and how strong it is."""

    id: Identifier
    title: str = Field(min_length=1)
    publisher: str = Field(min_length=1)
    address: str | None = None
    grade: Grade
    grade_note: str = ""

    @field_validator("address")
    @classmethod
    def _an_address(cls, value: str | None) -> str | None:
        if value is not None and ("://" in value or "." not in value.split("/")[0]):
            raise ValueError("must be an address like example.org/page, written without its scheme")
        return value

    @property
    def grade_text(self) -> str:
        label = GRADE_LABELS[self.grade]
        return f"{label}, {self.grade_note}" if self.grade_note else label


class Citation(_Frozen):
    """A source cited for one rule (or question, or stop sign), with the figure it gives."""

    source: Identifier
    figure: str = Field(min_length=1)


@dataclass(frozen=True)
class Evidence:
    """A citation resolved against the catalogue's sources: everything a footnote needs."""

    source_id: str
    title: str
    publisher: str
    address: str | None
    grade: str
    grade_text: str
    figure: str

    @property
    def text(self) -> str:
        """One line: ``Teoxane UK, "What should I avoid…" (manufacturer): 6 h. teoxane…``."""
        where = f" {self.address}" if self.address else ""
        return f'{self.publisher}, "{self.title}" ({self.grade_text}): {self.figure}.{where}'

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.source_id,
            "title": self.title,
            "publisher": self.publisher,
            "address": self.address,
            "grade": self.grade,
            "figure": self.figure,
        }


class Question(_Frozen):
    """A contraindication question asked before any guidance; a "yes" withholds guidance with ``action``."""

    id: Identifier
    question: str = Field(min_length=1)
    action: str = Field(min_length=1)
    sources: tuple[Citation, ...] = Field(min_length=1)


class StopSign(_Frozen):
    """A tier of warning signs: what to look for and what to do now (``threshold``: when to call anyway)."""

    id: Identifier
    level: StopLevel
    title: str = Field(min_length=1)
    signs: tuple[str, ...] = Field(min_length=1)
    action: str = Field(min_length=1)
    threshold: str = ""
    sources: tuple[Citation, ...] = Field(min_length=1)


class Area(_Frozen):
    """A treatment area: an ordered outline of mesh indices walking once around it. ``offsets`` moves some
    outline points off the mesh, (across, down) in face heights like a stroke point's offset: the forehead
    reaches above the mesh's top row up to the hairline."""

    id: Identifier
    label: str = Field(min_length=1)
    kind: AreaKind
    side: Side
    outline: tuple[Landmark, ...] = Field(min_length=3)
    vessel_care: bool = False
    offsets: tuple[tuple[Landmark, tuple[float, float]], ...] = ()

    @field_validator("offsets", mode="before")
    @classmethod
    def _offsets_pairs(cls, value: Any) -> Any:
        """Written as a mapping ``{landmark: [across, down]}``; held as sorted pairs (hashable)."""
        return tuple(sorted(value.items())) if isinstance(value, Mapping) else value

    @field_validator("offsets")
    @classmethod
    def _offsets_finite(
        cls, value: tuple[tuple[int, tuple[float, float]], ...]
    ) -> tuple[tuple[int, tuple[float, float]], ...]:
        if not all(math.isfinite(v) and abs(v) <= 1.0 for _, pair in value for v in pair):
            raise ValueError("each offset must be two finite numbers within +-1 face height")
        return value

    @model_validator(mode="after")
    def _offsets_on_outline(self) -> Area:
        stray = sorted({landmark for landmark, _ in self.offsets} - set(self.outline))
        if stray:
            raise ValueError(f"offsets: landmark {', '.join(map(str, stray))} is not on the outline")
        return self

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
    """What a product asks of a method on the treated area: the default wait, the range the sources span
    (None: no source gives a figure), the caution tail, margins, a note and the cited sources.

    ``areas`` (optional) restricts the rule to some areas; such a rule wins over the general one.
    ``caution_band_mm`` is the width of the caution band *outside* the margin, so a wider margin moves the
    band out instead of swallowing it.
    """

    product: Identifier
    method: Identifier
    wait: Span
    range: WaitRange | None = None
    caution_tail: Span = Span(amount=0, unit="d")
    margin_mm: float | None = Field(default=None, ge=0, le=100)
    caution_band_mm: float | None = Field(default=None, ge=0, le=200)
    prescribed: Prescription | None = None
    areas: tuple[Identifier, ...] = ()
    note: str = Field(min_length=1)
    sources: tuple[Citation, ...] = Field(min_length=1)

    @property
    def time_matters(self) -> bool:
        """Whether a treatment's time of day counts: a wait counted in hours (a prescription counts days)."""
        return self.wait.unit == "h" and self.wait.amount > 0 and self.prescribed is None

    @model_validator(mode="after")
    def _backed_by_its_sources(self) -> Rule:
        if self.range is not None and self.wait.delta < self.range.shortest.delta:
            raise ValueError(
                f"wait: {self.wait.text} is shorter than every cited source ({self.range.text}): "
                "a default is never greener than its evidence"
            )
        return self

    @property
    def name(self) -> str:
        """``ha_filler/hands`` (``ha_filler/hands on lips`` for an area-specific rule)."""
        where = f" on {', '.join(self.areas)}" if self.areas else ""
        return f"{self.product}/{self.method}{where}"

    @property
    def range_text(self) -> str:
        return self.range.text if self.range is not None else "no source gives a figure"


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
    caution_band_mm: float = Field(default=10.0, ge=0, le=200)
    stroke_spacing_mm: float = Field(default=4.0, gt=0.5, le=50)
    vessel_care: Literal["treated", "always"] = "treated"
    vessel_care_tail: Span = Span(amount=7, unit="d")
    vessel_care_sources: tuple[Citation, ...] = ()


class DemoTreatment(_Frozen):
    """One treatment of the demonstration plan: areas, product, how many days before today, time of day."""

    areas: tuple[Identifier, ...] = Field(min_length=1)
    product: Identifier
    days_ago: int = Field(ge=0, le=365)
    time: str | None = Field(default=None, pattern=r"^([01]\d|2[0-3]):[0-5]\d$")


class Catalogue(_Frozen):
    """The whole validated catalogue; frozen and hashable so per-plan results can be cached on it."""

    version: int = 1
    sources: tuple[Source, ...] = Field(min_length=1)
    screening: tuple[Question, ...] = Field(min_length=1)
    stop_signs: tuple[StopSign, ...] = Field(min_length=1)
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
        for name in (
            "sources",
            "screening",
            "stop_signs",
            "products",
            "methods",
            "lymph_nodes",
            "areas",
            "lines",
        ):
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
        library = {source.id: source for source in self.sources}
        cited: list[tuple[str, tuple[Citation, ...]]] = [
            (f"rules[{i}] ({rule.product}/{rule.method})", rule.sources) for i, rule in enumerate(self.rules)
        ]
        cited += [(f"screening[{i}] ({q.id})", q.sources) for i, q in enumerate(self.screening)]
        cited += [(f"stop_signs[{i}] ({s.id})", s.sources) for i, s in enumerate(self.stop_signs)]
        if self.defaults.vessel_care_sources:
            cited.append(("defaults", self.defaults.vessel_care_sources))
        for where, citations in cited:
            unknown = [c.source for c in citations if c.source not in library]
            if unknown:
                problems.append(f"{where}: sources: unknown source {', '.join(map(repr, unknown))}")
            elif not any(library[c.source].address for c in citations):
                problems.append(f"{where}: sources: cite at least one source with an address")
        if not any(tier.level == "urgent" for tier in self.stop_signs):
            problems.append("stop_signs: needs an urgent tier (level: urgent) for signs that need care now")
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

    def margins(self, rule: Rule | None) -> tuple[float, float]:
        """(margin_mm, caution_band_mm) of ``rule`` (None: no rule), falling back to the defaults."""
        margin = self.defaults.margin_mm if rule is None or rule.margin_mm is None else rule.margin_mm
        band = (
            self.defaults.caution_band_mm
            if rule is None or rule.caution_band_mm is None
            else rule.caution_band_mm
        )
        return margin, band

    def source(self, source_id: str) -> Source:
        for source in self.sources:
            if source.id == source_id:
                return source
        raise KeyError(source_id)

    def evidence(self, citations: Sequence[Citation]) -> tuple[Evidence, ...]:
        """The citations resolved to full source records, in the order cited."""
        found = []
        for citation in citations:
            s = self.source(citation.source)
            found.append(
                Evidence(s.id, s.title, s.publisher, s.address, s.grade, s.grade_text, citation.figure)
            )
        return tuple(found)

    def question(self, question_id: str) -> Question:
        for question in self.screening:
            if question.id == question_id:
                return question
        raise KeyError(question_id)

    @property
    def question_ids(self) -> tuple[str, ...]:
        return tuple(q.id for q in self.screening)


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
            named = re.match(r"^[a-z_]+: ", message) is not None  # an entry-level check that names its field
            lines.append(f"{path}: {entry}: {message}" if not field_path and named else
                         f"{path}: {entry}: {field_path or 'entry'}: {message}")  # fmt: skip
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
