"""Opening: foreign files and newer schemas are refused untouched; the migrations build what the code expects;
an older database is brought up to date by a later version of the code."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, inspect, text

import store.db
from store import SCHEMA_VERSION, Store, StoreError
from store.schema import Base

DATA = Path(__file__).with_name("data")


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in sorted(folder.iterdir())}


def _future(url: str) -> None:
    """Make the database look written by a newer FaceZones (schema 2, a revision this code lacks)."""
    Store(url).close()
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("UPDATE facezones_meta SET value = '2' WHERE key = 'schema'"))
        conn.execute(text("UPDATE alembic_version SET version_num = '0002_from_the_future'"))
    engine.dispose()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"shopping list: eggs, flour\n", r"not a FaceZones database \(not an SQLite file\)"),
        (bytes(range(256)) * 64, r"not a FaceZones database \(not an SQLite file\)"),
        (b"SQLite format 3\x00" + b"\xff" * 4000, "not a FaceZones database"),
    ],
    ids=["text", "binary", "damaged-sqlite"],
)
def test_a_file_that_is_not_a_database_is_refused_untouched(
    tmp_path: Path, content: bytes, message: str
) -> None:
    path = tmp_path / "notes.db"
    path.write_bytes(content)
    with pytest.raises(StoreError, match=message):
        Store(path)
    assert _snapshot(tmp_path) == {"notes.db": content}  # no byte changed, no journal left beside it


def test_another_programs_sqlite_database_is_refused_untouched(tmp_path: Path) -> None:
    path = tmp_path / "contacts.db"
    with sqlite3.connect(path) as other:
        other.execute("CREATE TABLE contacts (name TEXT, phone TEXT)")
        other.execute("INSERT INTO contacts VALUES ('Ada', '123')")
    other.close()
    before = _snapshot(tmp_path)
    with pytest.raises(StoreError, match=r"not a FaceZones database \(it holds other tables: contacts\)"):
        Store(path)
    assert _snapshot(tmp_path) == before


def test_a_newer_schema_is_refused_untouched_sqlite(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'facezones.db'}"
    _future(url)
    before = _snapshot(tmp_path)
    assert list(before) == ["facezones.db"]  # closed cleanly: the WAL was folded back into the file
    with pytest.raises(StoreError, match=r"newer FaceZones \(schema 2.*update FaceZones.*left untouched"):
        Store(url)
    assert _snapshot(tmp_path) == before


def _pg_state(url: str) -> tuple[list[str], list[tuple[str, str]], str | None]:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            tables = sorted(inspect(conn).get_table_names())
            meta = sorted(tuple(r) for r in conn.execute(text("SELECT key, value FROM facezones_meta"))) if (
                "facezones_meta" in tables) else []  # fmt: skip
            revision = conn.execute(text("SELECT version_num FROM alembic_version")).scalar() if (
                "alembic_version" in tables) else None  # fmt: skip
            return tables, meta, revision
    finally:
        engine.dispose()


def test_postgresql_foreign_and_newer_databases_are_refused_untouched(postgres) -> None:
    foreign = postgres.url(postgres.create_database())
    engine = create_engine(foreign)
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE invoices (id integer primary key, total numeric)"))
    engine.dispose()
    before = _pg_state(foreign)
    with pytest.raises(StoreError, match=r"not a FaceZones database .*invoices"):
        Store(foreign)
    assert _pg_state(foreign) == before == (["invoices"], [], None)

    newer = postgres.url(postgres.create_database())
    _future(newer)
    before = _pg_state(newer)
    with pytest.raises(StoreError, match="newer FaceZones"):
        Store(newer)
    assert _pg_state(newer) == before and before[2] == "0002_from_the_future"
    for url in (foreign, newer):
        postgres.drop_database(url.rsplit("/", 1)[1])


def test_a_folder_or_an_unreachable_server_gives_a_clear_message(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="is a folder"):
        Store(tmp_path)
    with pytest.raises(StoreError, match="cannot open the database"):
        Store("postgresql://nobody@127.0.0.1:1/none")


def test_the_migrations_build_exactly_the_tables_the_code_uses(db_url: str) -> None:
    Store(db_url).close()
    engine = create_engine(db_url)
    try:
        with engine.connect() as conn:
            differences = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    finally:
        engine.dispose()
    assert differences == []


def test_the_schema_number_is_the_newest_migrations() -> None:
    scripts = ScriptDirectory(str(store.db.MIGRATIONS))
    head = scripts.get_revision(scripts.get_current_head())
    assert head.module.SCHEMA == SCHEMA_VERSION
    assert len(scripts.get_heads()) == 1


def test_a_schema_1_file_opens_and_reads(tmp_path: Path) -> None:
    """A database written by the first schema, kept as SQL: every later version must open it."""
    path = tmp_path / "old.db"
    with sqlite3.connect(path) as old:
        old.executescript((DATA / "schema1.sql").read_text())
    old.close()
    with Store(path) as opened:
        assert [p.name for p in opened.people()] == ["me"]
        (treatment,) = opened.treatments("me")
        assert treatment.treatment.to_text() == "lips=ha_filler@2026-11-20" and treatment.injector_waits == {
            "lips": "10d"
        }
        (session,) = opened.sessions("me")
        assert session.lines == {"neck_left": 3} and session.note == "first session"


def test_a_later_version_upgrades_an_older_database(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, db_url: str
) -> None:
    """A second migration (as the next version of FaceZones would ship) runs on open and keeps the rows."""
    with Store(db_url) as first:
        first.ensure_person("kept")
    scripts = tmp_path / "migrations"
    shutil.copytree(store.db.MIGRATIONS, scripts, ignore=shutil.ignore_patterns("__pycache__"))
    (scripts / "versions" / "0002_test_column.py").write_text(
        '"""A test-only second schema."""\n'
        "import sqlalchemy as sa\nfrom alembic import op\n\n"
        'revision = "0002_test_column"\ndown_revision = "0001_first_schema"\n'
        "branch_labels = None\ndepends_on = None\nSCHEMA = 2\n\n\n"
        "def upgrade() -> None:\n"
        '    with op.batch_alter_table("people") as batch:\n'
        '        batch.add_column(sa.Column("nickname", sa.String(40), nullable=True))\n'
        "    op.execute(\"UPDATE facezones_meta SET value = '2' WHERE key = 'schema'\")\n"
    )
    monkeypatch.setattr(store.db, "MIGRATIONS", scripts)
    monkeypatch.setattr(store.db, "SCHEMA_VERSION", 2)
    with Store(db_url) as later:
        assert [p.name for p in later.people()] == ["kept"]
    tables, meta, revision = _state(db_url)
    assert revision == "0002_test_column" and ("schema", "2") in meta and "nickname" in tables["people"]


def _state(url: str) -> tuple[dict[str, list[str]], list[tuple[str, str]], str | None]:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            inspector = inspect(conn)
            tables = {t: [c["name"] for c in inspector.get_columns(t)] for t in inspector.get_table_names()}
            meta = [tuple(row) for row in conn.execute(text("SELECT key, value FROM facezones_meta"))]
            revision = conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
            return tables, meta, revision
    finally:
        engine.dispose()
