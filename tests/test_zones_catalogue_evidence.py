"""Catalogue validation of the evidence (issue 12): every rule, question and stop sign cites known sources,
at least one with an address; a default never undercuts every source; a catalogue without screening questions
or an urgent tier of stop signs is refused. Each error names the file, the entry and the field."""

from __future__ import annotations

import copy

import pytest
import yaml

from zones.catalogue import DEFAULT_CATALOGUE, CatalogueError, parse_catalogue

RAW = yaml.safe_load(DEFAULT_CATALOGUE.read_text())
WHERE = "zones/catalogue.yaml"


def refused(edit) -> str:
    document = copy.deepcopy(RAW)
    edit(document)
    with pytest.raises(CatalogueError) as caught:
        parse_catalogue(document, WHERE)
    return str(caught.value)


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        (
            lambda d: d["rules"][0]["sources"].append({"source": "hearsay", "figure": "2 days"}),
            "rules[0] (ha_filler/hands): sources: unknown source 'hearsay'",
        ),
        (
            lambda d: d["rules"][0].update(sources=[]),
            "rules[0] (ha_filler/hands): sources: Tuple should have at least 1",
        ),
        (lambda d: d["rules"][0].pop("sources"), "rules[0] (ha_filler/hands): sources: Field required"),
        (
            lambda d: d["rules"][0].update(sources=[{"source": "delorenzi_2014", "figure": "a figure"}]),
            "rules[0] (ha_filler/hands): sources: cite at least one source with an address",
        ),
        (
            lambda d: d["rules"][0]["sources"][0].update(figure=""),
            "rules[0] (ha_filler/hands): sources[0].figure: String should have at least 1 character",
        ),
        (
            lambda d: d["rules"][0].update(wait="2h"),
            "rules[0] (ha_filler/hands): wait: 2 h is shorter than every cited source (6 h to 14 days)",
        ),
        (
            lambda d: d["rules"][0].update(range=["14d", "6h"]),
            "rules[0] (ha_filler/hands): range: the shortest wait comes first",
        ),
        (
            lambda d: d["rules"][0].update(range=["6h"]),
            "rules[0] (ha_filler/hands): range: must be two durations",
        ),
        (
            lambda d: d["rules"][0].update(source="domain notes"),
            "rules[0] (ha_filler/hands): source: Extra inputs",
        ),
        (
            lambda d: d["sources"][0].update(grade="forum"),
            "sources[0] (teoxane_faq): grade: Input should be 'mfr'",
        ),
        (
            lambda d: d["sources"][0].update(address="https://teoxanetreatments.co.uk/faqs"),
            "sources[0] (teoxane_faq): address: must be an address like example.org/page",
        ),
        (lambda d: d["sources"].append(dict(d["sources"][0])), "sources: duplicate id teoxane_faq"),
        (lambda d: d.update(screening=[]), "screening: Tuple should have at least 1 item"),
        (lambda d: d["screening"][0].update(action=""), "screening[0] (heart): action: String should have"),
        (
            lambda d: d["screening"][0].update(sources=[{"source": "nobody", "figure": "x"}]),
            "screening[0] (heart): sources: unknown source 'nobody'",
        ),
        (lambda d: d["stop_signs"].pop(0), "stop_signs: needs an urgent tier"),
        (
            lambda d: d["stop_signs"][1].update(level="later"),
            "stop_signs[1] (inflammatory): level: Input should be",
        ),
        (
            lambda d: d["stop_signs"][0].update(signs=[]),
            "stop_signs[0] (urgent): signs: Tuple should have at least 1",
        ),
        (
            lambda d: d["defaults"]["vessel_care_sources"].append({"source": "gossip", "figure": "x"}),
            "defaults: sources: unknown source 'gossip'",
        ),
    ],
)
def test_evidence_errors_name_file_entry_and_field(edit, expected) -> None:
    message = refused(edit)
    assert message.startswith(WHERE) and expected in message, message


def test_a_stricter_default_than_every_source_is_allowed() -> None:
    document = copy.deepcopy(RAW)
    document["rules"][0]["wait"] = "21d"
    assert parse_catalogue(document).rules[0].wait.text == "21 days"
