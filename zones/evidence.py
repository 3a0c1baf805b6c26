"""What a practitioner checks behind each verdict: who decided it, the rule, its default, the range its
sources span, and the sources themselves, as rows for the app's sources view and footnotes for the chart."""

from __future__ import annotations

from dataclasses import dataclass

from zones.catalogue import Catalogue, Evidence
from zones.safety import STATUS_NAMES, SafetyMap, Verdict
from zones.wording import format_day

DECIDERS = {
    "catalogue": "catalogue rule",
    "injector": "your injector's instruction",
    "vessel_care": "extra care for vessel-rich areas",
    "none": "not treated",
}


@dataclass(frozen=True)
class EvidenceRow:
    """One treated (or specially cared-for) area: its verdict and everything that backs it."""

    area_id: str
    area_label: str
    status: str  # safe / caution / no_touch
    until: str  # the day the current status ends, as people read it ("" when none)
    decided_by: str  # in words: "catalogue rule", "your injector's instruction", ...
    rule: str  # "ha_filler/hands on lips" ("" without a rule)
    default_wait: str
    range: str
    explanation: str
    note: str
    sources: tuple[Evidence, ...]


def _until(verdict: Verdict) -> str:
    moment = verdict.safe_from if STATUS_NAMES[verdict.status] == "no_touch" else verdict.caution_until
    return format_day(moment) if STATUS_NAMES[verdict.status] != "safe" else ""


def evidence_rows(safety: SafetyMap, catalogue: Catalogue) -> tuple[EvidenceRow, ...]:
    """A row per area some rule or instruction decided (treated areas, vessel care), in catalogue order."""
    rows = []
    for area, verdict in zip(catalogue.areas, safety.verdicts, strict=True):
        if verdict.decided_by == "none":
            continue
        rule = verdict.rule
        rows.append(
            EvidenceRow(
                area_id=area.id,
                area_label=area.label,
                status=STATUS_NAMES[verdict.status],
                until=_until(verdict),
                decided_by=DECIDERS[verdict.decided_by],
                rule="" if rule is None else rule.name,
                default_wait="" if rule is None else rule.wait.text,
                range=verdict.range_text,
                explanation=verdict.explanation,
                note=verdict.note,
                sources=verdict.evidence,
            )
        )
    return tuple(rows)


@dataclass(frozen=True)
class Footnotes:
    """Numbered sources for a printed chart: ``sources[n - 1]`` is footnote n; ``marks[area_id]`` the numbers
    an area's verdict cites (in order); an injector-decided area cites ``injector`` instead."""

    sources: tuple[Evidence, ...]
    marks: dict[str, tuple[int, ...]]
    injector: tuple[str, ...]

    def lines(self) -> tuple[str, ...]:
        """``[1] Teoxane UK, "FAQ: …" (manufacturer). teoxanetreatments.co.uk/…`` per source."""
        out = []
        for n, e in enumerate(self.sources, start=1):
            where = f" {e.address}" if e.address else ""
            out.append(f'[{n}] {e.publisher}, "{e.title}" ({e.grade_text}).{where}')
        return tuple(out)


def footnotes(safety: SafetyMap, catalogue: Catalogue) -> Footnotes:
    """Every source the plan's verdicts cite, numbered once in order of first citation."""
    numbers: dict[str, int] = {}
    sources: list[Evidence] = []
    marks: dict[str, tuple[int, ...]] = {}
    injector = []
    for row in evidence_rows(safety, catalogue):
        if row.decided_by == DECIDERS["injector"]:
            injector.append(row.area_id)
        cited = []
        for evidence in row.sources:
            if evidence.source_id not in numbers:
                sources.append(evidence)
                numbers[evidence.source_id] = len(sources)
            cited.append(numbers[evidence.source_id])
        marks[row.area_id] = tuple(dict.fromkeys(cited))
    return Footnotes(tuple(sources), marks, tuple(injector))
