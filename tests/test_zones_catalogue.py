"""The catalogue is data: the shipped file holds what the domain notes ask for; bad files are named."""

from __future__ import annotations

import copy
import re
from datetime import datetime, timedelta
from pathlib import Path

import pytest
import yaml

from zones.catalogue import CatalogueError, load_catalogue, parse_catalogue
from zones.plan import demo_plan

REQUIRED_AREAS = {
    "forehead", "glabella", "crows_feet_left", "crows_feet_right", "temple_left", "temple_right",
    "tear_trough_left", "tear_trough_right", "cheek_left", "cheek_right", "nose", "nasolabial_left",
    "nasolabial_right", "lips", "marionette_left", "marionette_right", "chin", "jawline_left",
    "jawline_right",
}  # fmt: skip
REQUIRED_LINES = ("neck", "jaw", "upper_lip", "mid_cheek", "upper_cheek", "under_eye", "brow", "forehead")


def test_shipped_catalogue_has_every_area_line_and_rule() -> None:
    catalogue = load_catalogue()
    assert set(catalogue.area_ids) >= REQUIRED_AREAS
    assert set(catalogue.line_ids) >= {
        f"{line}_{side}" for line in REQUIRED_LINES for side in ("left", "right")
    }
    vessel = {a.id for a in catalogue.areas if a.vessel_care}
    assert vessel == {"glabella", "temple_left", "temple_right", "nasolabial_left", "nasolabial_right",
                      "tear_trough_left", "tear_trough_right"}  # fmt: skip
    kinds = {a.id: a.kind for a in catalogue.areas}
    assert kinds["forehead"] == kinds["glabella"] == kinds["crows_feet_left"] == "botox"
    assert kinds["lips"] == kinds["nasolabial_left"] == "filler"
    for product in ("ha_filler", "botox", "plla"):
        for method in ("hands", "tools", "microcurrent"):
            rule = catalogue.rule_for(product, method, "cheek_left")
            assert rule is not None and rule.sources and rule.note, (product, method)
    assert catalogue.rule_for("ha_filler", "hands", "lips").wait.delta == timedelta(days=14)
    assert catalogue.rule_for("botox", "hands", "forehead").wait.delta == timedelta(hours=24)
    assert catalogue.rule_for("plla", "hands", "cheek_left").prescribed is not None


def test_session_order_and_drainage() -> None:
    catalogue = load_catalogue()
    steps = {line.id.rsplit("_", 1)[0]: line.step for line in catalogue.lines}
    phases = [phase.steps for phase in catalogue.session]
    assert phases[0] == phases[-1] == (steps["neck"],), "a session opens and closes with the neck"
    lower = {steps["jaw"], steps["upper_lip"], steps["mid_cheek"]}
    upper = {steps["upper_cheek"], steps["under_eye"], steps["brow"], steps["forehead"]}
    assert set(phases[1]) == lower and set(phases[2]) == upper
    walk = catalogue.session_lines()
    assert walk[0] == ("Open the neck", next(line for line in catalogue.lines if line.step == steps["neck"]))
    assert [line.step for _, line in walk] == [s for phase in phases for s in phase for _ in range(2)]
    drains = {line.id.rsplit("_", 1)[0]: line.drains_to for line in catalogue.lines}
    assert drains["jaw"] == drains["upper_lip"] == "submandibular"
    assert drains["forehead"] == drains["brow"] == drains["upper_cheek"] == "preauricular"
    assert drains["neck"] == "supraclavicular"
    neck = next(line for line in catalogue.lines if line.id == "neck_right")
    assert all(point.offset[1] > 0 for point in neck.path), "the neck lies below the mesh"


def _broken(raw: dict, edit) -> dict:
    document = copy.deepcopy(raw)
    edit(document)
    return document


def _rule_index(raw: dict, product: str, method: str) -> int:
    return next(i for i, r in enumerate(raw["rules"]) if (r["product"], r["method"]) == (product, method))


def _at(raw: dict, section: str, name: str) -> dict:
    """The entry of ``section`` with id ``name`` (a rule: ``product/method``), wherever it stands."""
    return raw[section][_position(raw, section, name)]


def _position(raw: dict, section: str, name: str) -> int:
    if section == "rules":
        return _rule_index(raw, *name.split("/"))
    return next(i for i, entry in enumerate(raw[section]) if entry["id"] == name)


def _resolved(raw: dict, expected: str) -> str:
    """``areas[lips]`` in an expected message -> ``areas[3]``: the table names entries, it does not count."""
    return re.sub(
        r"(rules|areas|lines)\[([a-z_/]+)\]", lambda m: f"{m[1]}[{_position(raw, m[1], m[2])}]", expected
    )


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        (
            lambda d: _at(d, "rules", "botox/microcurrent").update(wait="-48h"),
            "zones/catalogue.yaml: rules[botox/microcurrent] (botox/microcurrent): wait: must be >= 0",
        ),
        (
            lambda d: d["rules"][0].update(areas=["lip"]),
            "zones/catalogue.yaml: rules[0] (ha_filler/hands): areas: unknown area 'lip'",
        ),
        (
            lambda d: _at(d, "areas", "lips")["outline"].__setitem__(2, 478),
            "areas[lips] (lips): outline[2]: must be a landmark index in 0..477, got 478",
        ),
        (
            lambda d: _at(d, "areas", "lips")["outline"].__setitem__(0, -1),
            "areas[lips] (lips): outline[0]: must be a landmark index in 0..477, got -1",
        ),
        (
            lambda d: _at(d, "lines", "neck_right").update(path=[132]),
            "zones/catalogue.yaml: lines[neck_right] (neck_right): path: Tuple should have at least 2 items",
        ),
        (
            lambda d: _at(d, "lines", "jaw_right").update(drains_to="knee"),
            "zones/catalogue.yaml: lines[jaw_right] (jaw_right): drains_to: unknown lymph-node group 'knee'",
        ),
        (
            lambda d: _at(d, "areas", "forehead").update(outline=[10, 338]),
            "zones/catalogue.yaml: areas[forehead] (forehead): outline: Tuple should have at least 3 items",
        ),
        (
            lambda d: _at(d, "areas", "glabella").update(outline=[9, 336, 285, 9]),
            "zones/catalogue.yaml: areas[glabella] (glabella): outline: an outline visits each landmark once",
        ),
        (lambda d: d["areas"][1].update(id="forehead"), "zones/catalogue.yaml: areas: duplicate id forehead"),
        (
            lambda d: d["rules"][0].update(wait="two weeks"),
            "wait: must look like 14d or 24h, got 'two weeks'",
        ),
        (lambda d: d["rules"][0].update(caution_band_mm=-5), "caution_band_mm: Input should be greater than"),
        (lambda d: _at(d, "areas", "forehead").update(kind="laser"), "areas[forehead] (forehead): kind: Inp"),
        (lambda d: d["demo"][0].update(areas=["lip"]), "catalogue.yaml: demo[0]: areas: unknown area 'lip'"),
        (lambda d: d["demo"][1].update(time="25:00"), "demo[1] (botox/?): time: String should match"),
        (lambda d: d["defaults"].update(product="juvederm"), "defaults: product: unknown product 'juvederm'"),
    ],
)
def test_errors_name_file_entry_and_field(raw_catalogue, edit, expected) -> None:
    with pytest.raises(CatalogueError) as caught:
        parse_catalogue(_broken(raw_catalogue, edit), "zones/catalogue.yaml")
    assert _resolved(raw_catalogue, expected) in str(caught.value)


def test_an_edited_copy_loads_from_another_path(tmp_path, raw_catalogue) -> None:
    edited = _broken(raw_catalogue, lambda d: d["rules"][0].update(wait="10d"))
    path = tmp_path / "mine.yaml"
    path.write_text(yaml.safe_dump(edited))
    catalogue = load_catalogue(path)
    assert catalogue.rule_for("ha_filler", "hands", "chin").wait.delta == timedelta(days=10)
    assert catalogue.source_path.endswith("mine.yaml")


def test_an_area_specific_rule_wins(raw_catalogue) -> None:
    chin_rule = {**raw_catalogue["rules"][0], "areas": ["chin"], "wait": "3d", "range": ["2d", "14d"]}
    catalogue = parse_catalogue(_broken(raw_catalogue, lambda d: d["rules"].append(chin_rule)))
    assert catalogue.rule_for("ha_filler", "hands", "chin").wait.delta == timedelta(days=3)
    assert catalogue.rule_for("ha_filler", "hands", "cheek_left").wait.delta == timedelta(days=14)
    assert catalogue.rule_for("ha_filler", "hands", "lips").areas == ("lips",), "the shipped lips rule"


def test_toml_catalogues_are_read_too(tmp_path) -> None:
    path = tmp_path / "tiny.toml"
    path.write_text(
        """
products = [{id = "ha_filler", label = "HA filler"}]
methods = [{id = "hands", label = "Hands"}]
lymph_nodes = [{id = "submandibular", label = "Under the jaw"}]
[[rules]]
product = "ha_filler"
method = "hands"
wait = "14d"
note = "around, never on"
sources = [{source = "clinic", figure = "14 days"}]
[[sources]]
id = "clinic"
title = "Aftercare"
publisher = "My clinic"
address = "example.org/aftercare"
grade = "clinic"
[[screening]]
id = "heart"
question = "Heart problems?"
action = "Ask your doctor."
sources = [{source = "clinic", figure = "heart: no massage"}]
[[stop_signs]]
id = "urgent"
level = "urgent"
title = "Seek care now"
signs = ["white skin"]
action = "Stop and seek care."
sources = [{source = "clinic", figure = "white skin: call"}]
[[areas]]
id = "lips"
label = "Lips"
kind = "filler"
side = "centre"
outline = [61, 0, 291, 17]
[[lines]]
id = "upper_lip_right"
label = "Upper lip"
side = "right"
drains_to = "submandibular"
step = 1
path = [164, {landmark = 57, offset = [0.0, 0.01]}]
"""
    )
    catalogue = load_catalogue(path)
    assert catalogue.area_ids == ("lips",) and catalogue.lines[0].path[1].offset == (0.0, 0.01)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("areas: [unclosed", "not valid YAML"),
        ("- just\n- a list\n", "the top level must be a mapping"),
        ("", "the top level must be a mapping"),
        ("products: []\n", "products: Tuple should have at least 1 item"),
    ],
)
def test_unusable_files_are_refused(tmp_path, content: str, message: str) -> None:
    path = tmp_path / "catalogue.yaml"
    path.write_text(content)
    with pytest.raises(CatalogueError, match=message) as caught:
        load_catalogue(path)
    assert str(caught.value).startswith(str(path)) or "catalogue.yaml" in str(caught.value)


def test_missing_and_oversized_files(tmp_path) -> None:
    with pytest.raises(CatalogueError, match="no such catalogue file"):
        load_catalogue(tmp_path / "absent.yaml")
    big = tmp_path / "big.yaml"
    big.write_bytes(b"#" * 3_000_000)
    with pytest.raises(CatalogueError, match="too large"):
        load_catalogue(Path(big))


def test_time_of_day_matters_where_a_wait_counts_hours(raw_catalogue) -> None:
    catalogue = load_catalogue()
    assert [p for p in catalogue.product_ids() if catalogue.time_matters(p)] == ["botox"]  # PLLA: prescribed
    raw = raw_catalogue
    days = _broken(raw, lambda d: [r.update(wait="2d") for r in d["rules"] if r["product"] == "botox"])
    hours = _broken(raw, lambda d: d["rules"][_rule_index(d, "ha_filler", "tools")].update(wait="36h"))
    assert not parse_catalogue(days).time_matters("botox")
    assert parse_catalogue(hours).time_matters("ha_filler")


def test_the_catalogue_names_its_demo_plan_and_defaults(raw_catalogue) -> None:
    now = datetime(2026, 12, 2, 9, 0)
    plan = demo_plan(load_catalogue(), now)
    assert [t.to_text() for t in plan.treatments] == [
        "lips,nasolabial_left,nasolabial_right=ha_filler@2026-11-28",
        "forehead,glabella=botox@2026-12-01T15:30",
    ]
    assert (plan.method, plan.margin_mm) == ("hands", 10)
    other = _broken(
        raw_catalogue, lambda d: [d.pop("demo"), d["defaults"].pop("product"), d["defaults"].pop("method")]
    )
    catalogue = parse_catalogue(other)
    assert demo_plan(catalogue, now).treatments == ()
    assert (catalogue.default_product, catalogue.default_method) == ("ha_filler", "hands")  # the first listed
