"""The store: one small interface (``Store``) over a FaceZones database: SQLite by default, or any URL.

Where: ``--db`` / the ``url`` argument, else ``FACEZONES_DB``, else ``facezones.db`` in the user's data folder
(platformdirs). A bare path means an SQLite file; ``postgresql://`` URLs use psycopg 3.

Opening checks before it writes anything: a file that is not SQLite, a database holding other tables, or a
schema newer than this code knows is refused with a ``StoreError`` and left byte for byte as it was. An older
FaceZones database is brought up to date by the Alembic migrations shipped in ``store/migrations``, in one
transaction. Every write is one transaction (SQLite: ``BEGIN IMMEDIATE``, so concurrent writers queue instead
of failing): a killed process leaves the last committed state.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import date, datetime, time
from pathlib import Path
from typing import Any
from urllib.parse import quote

import platformdirs
from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, create_engine, delete, event, inspect, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Session

from store import schema as db
from store.errors import StoreError
from store.records import CourseRecord, MassageSession, Person, PlanRecord, TreatmentRecord
from zones.catalogue import Catalogue, Span
from zones.course import Course, CourseSession, applies, propose_course
from zones.plan import Plan, PlanError, Treatment

APP_MARK = "facezones"
SCHEMA_VERSION = 1  # the schema number of the newest migration this code ships
DEFAULT_PERSON = "me"
MIGRATIONS = Path(__file__).resolve().parent / "migrations"
SQLITE_HEADER = b"SQLite format 3\x00"
BUSY_TIMEOUT_S = 30
_PG_MIGRATION_LOCK = 7_114_014  # advisory lock id: one migrating process at a time per PostgreSQL database


class _Conflict(StoreError):
    """A write refused by a uniqueness rule (another process added the same name first)."""


def default_database_path() -> Path:
    """``facezones.db`` in the user's data folder (e.g. ``~/.local/share/facezones`` on Linux)."""
    return platformdirs.user_data_path("facezones", appauthor=False) / "facezones.db"


def resolve_url(url: str | os.PathLike[str] | None = None) -> str:
    """The database URL: ``url``, else ``FACEZONES_DB``, else the default file. A bare path is an SQLite file;
    ``postgresql://`` and ``postgres://`` are served by psycopg 3."""
    given = os.fspath(url) if url is not None else os.environ.get("FACEZONES_DB") or ""
    if not given.strip():
        given = str(default_database_path())
    if "://" not in given:
        return "sqlite:///" + str(Path(given).expanduser().resolve())
    for prefix in ("postgresql://", "postgres://"):
        if given.startswith(prefix):
            return "postgresql+psycopg://" + given[len(prefix) :]
    return given


def _now() -> datetime:
    return datetime.now().replace(microsecond=0)


def _day_start(day: date) -> datetime:
    return datetime.combine(day, time())


class Store:
    """People, treatments, plans, preparatory courses and massage sessions in one database.

    Use as a context manager or call ``close()``. Methods take a person's name and raise ``StoreError`` with
    a message fit for the user (an unknown person, a treatment dated wrongly, a bad import file).
    """

    def __init__(self, url: str | os.PathLike[str] | None = None) -> None:
        self.url = resolve_url(url)
        parsed = make_url(self.url)
        self._sqlite = parsed.get_backend_name() == "sqlite"
        self.where = (parsed.database or ":memory:") if self._sqlite else parsed.render_as_string(True)
        if self._sqlite and self.where != ":memory:":
            _check_sqlite_file(Path(self.where))
        try:
            self._engine = _engine_for(self.url, sqlite=self._sqlite)
        except (SQLAlchemyError, ImportError, ValueError) as err:
            raise StoreError(f"cannot use the database {self.where}: {_reason(err)}") from None
        try:
            self._migrate()
        except BaseException:
            self._engine.dispose()
            raise

    # --- life cycle -----------------------------------------------------------------------------------------
    def close(self) -> None:
        self._engine.dispose()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _migrate(self) -> None:
        """Check what the database holds and bring it to this code's schema, in one transaction."""
        try:
            with self._engine.connect() as conn:
                conn.execution_options(facezones_write=True)
                with conn.begin():
                    if conn.dialect.name == "postgresql":
                        conn.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": _PG_MIGRATION_LOCK})
                    state = _classify(self.where, *_contents(conn))
                    if state != "current":
                        config = Config()
                        config.set_main_option("script_location", str(MIGRATIONS))
                        config.attributes["connection"] = conn
                        command.upgrade(config, "head")
            if self._sqlite and self.where != ":memory:":
                raw = self._engine.raw_connection()  # outside any transaction: WAL lets readers go on
                try:
                    raw.cursor().execute("PRAGMA journal_mode=WAL")
                finally:
                    raw.close()
        except StoreError:
            raise
        except SQLAlchemyError as err:
            raise StoreError(f"cannot open the database {self.where}: {_reason(err)}") from None

    @contextmanager
    def _write(self) -> Iterator[Session]:
        """One write transaction: committed when the block ends, rolled back (nothing kept) on any error."""
        try:
            with self._engine.connect() as conn:
                conn.execution_options(facezones_write=True)
                with Session(bind=conn) as session, session.begin():
                    yield session
        except IntegrityError as err:
            raise _Conflict(f"{self.where}: the change was not saved ({_reason(err)})") from None
        except SQLAlchemyError as err:
            raise StoreError(f"{self.where}: the change was not saved ({_reason(err)})") from None

    @contextmanager
    def _read(self) -> Iterator[Session]:
        try:
            with Session(self._engine) as session, session.begin():
                yield session
        except SQLAlchemyError as err:
            raise StoreError(f"{self.where}: cannot read ({_reason(err)})") from None

    # --- people ---------------------------------------------------------------------------------------------
    def people(self) -> tuple[Person, ...]:
        with self._read() as session:
            rows = session.scalars(select(db.PersonRow).order_by(db.PersonRow.name)).all()
            return tuple(_person(row) for row in rows)

    def person(self, name: str) -> Person:
        """The person called ``name``; ``StoreError`` naming the known people when there is none."""
        with self._read() as session:
            return _person(self._person_row(session, name))

    def add_person(self, name: str) -> Person:
        clean = _clean_name(name)
        taken = StoreError(f"there is already a person called {clean!r}")
        try:
            with self._write() as session:
                if self._find(session, clean) is not None:
                    raise taken
                row = db.PersonRow(name=clean, created_at=_now())
                session.add(row)
                session.flush()
                return _person(row)
        except _Conflict:
            raise taken from None

    def ensure_person(self, name: str = DEFAULT_PERSON) -> Person:
        """The person called ``name``, added if new (two processes doing this at once get the same row)."""
        clean = _clean_name(name)
        with self._read() as session:
            found = self._find(session, clean)
            if found is not None:
                return _person(found)
        try:
            return self.add_person(clean)
        except StoreError as err:
            if "already a person" not in str(err):
                raise
            return self.person(clean)

    def delete_person(self, name: str) -> int:
        """Delete the person and every row of theirs; returns how many rows went."""
        with self._write() as session:
            person = self._person_row(session, name)
            removed = 0
            for table in (
                db.CourseSessionRow,
                db.CourseRow,
                db.MassageSessionRow,
                db.TreatmentRow,
                db.PlanRow,
            ):
                result = session.execute(delete(table).where(table.person_id == person.id))
                removed += int(getattr(result, "rowcount", 0) or 0)
            session.delete(person)
            return removed + 1

    # --- treatments -----------------------------------------------------------------------------------------
    def add_treatment(
        self,
        name: str,
        treatment: Treatment,
        *,
        injector_waits: Mapping[str, str] | None = None,
        note: str = "",
        catalogue: Catalogue | None = None,
        today: date | datetime | None = None,
    ) -> TreatmentRecord:
        """Store a treatment; a planned one with a course product gets its course (in the same transaction).

        A done treatment may not lie after ``today`` (default: now), a planned one not before it. With
        ``catalogue`` its areas and product are checked, and the course is proposed from it.
        """
        moment = today if isinstance(today, datetime) else _day_start(today) if today else _now()
        if treatment.planned and treatment.treated_at.date() < moment.date():
            raise StoreError(
                f"treatment {treatment.to_text()} is planned for a day gone by: record it as done instead"
            )
        try:
            plan = Plan((treatment,), today=moment)
            if catalogue is not None:
                plan.check(catalogue)
        except PlanError as err:
            raise StoreError(str(err)) from None
        waits = _waits(injector_waits or {}, treatment)
        with self._write() as session:
            person = self._person_row(session, name)
            row = db.TreatmentRow(
                person_id=person.id,
                areas=list(treatment.areas),
                product=treatment.product,
                treated_at=treatment.treated_at,
                has_time=treatment.has_time,
                planned=treatment.planned,
                injector_waits=waits,
                note=note,
                created_at=_now(),
            )
            session.add(row)
            session.flush()
            if catalogue is not None and applies(treatment, catalogue):
                self._add_course(session, row, propose_course(treatment, catalogue, moment), moment)
            return _treatment(row)

    def treatments(self, name: str) -> tuple[TreatmentRecord, ...]:
        with self._read() as session:
            person = self._person_row(session, name)
            rows = session.scalars(
                select(db.TreatmentRow)
                .where(db.TreatmentRow.person_id == person.id)
                .order_by(db.TreatmentRow.treated_at, db.TreatmentRow.id)
            ).all()
            return tuple(_treatment(row) for row in rows)

    def mark_done(
        self,
        name: str,
        treatment_key: int,
        when: date | datetime | None = None,
        *,
        now: datetime | None = None,
    ) -> TreatmentRecord:
        """A planned treatment was done (at ``when``, default its booked moment): its waits start and its
        course closes. The booked moment and the course stay in the history."""
        moment = now or _now()
        with self._write() as session:
            row = self._treatment_row(session, name, treatment_key)
            if not row.planned:
                raise StoreError(f"treatment {treatment_key} is already recorded as done")
            done_at = row.treated_at if when is None else when
            if not isinstance(done_at, datetime):
                done_at = _day_start(done_at)
            treatment = Treatment(tuple(row.areas), row.product, done_at)
            if treatment.treated_at > moment:
                raise StoreError(
                    f"treatment {treatment_key} cannot be marked done on {treatment.when_text}, "
                    "a moment after now: mark it on its day"
                )
            row.planned_for, row.planned, row.done_marked_at = row.treated_at, False, moment
            row.treated_at, row.has_time = treatment.treated_at, treatment.has_time
            reason = f"treatment done on {treatment.when_text}"
            for course in session.scalars(select(db.CourseRow).where(db.CourseRow.treatment_id == row.id)):
                if course.closed_at is None:
                    course.closed_at, course.closed_reason = moment, reason
            return _treatment(row)

    def delete_treatment(self, name: str, treatment_key: int) -> None:
        """Remove a treatment entered by mistake, with its course."""
        with self._write() as session:
            row = self._treatment_row(session, name, treatment_key)
            courses = select(db.CourseRow.id).where(db.CourseRow.treatment_id == row.id)
            session.execute(delete(db.CourseSessionRow).where(db.CourseSessionRow.course_id.in_(courses)))
            session.execute(delete(db.CourseRow).where(db.CourseRow.treatment_id == row.id))
            session.delete(row)

    # --- plan settings --------------------------------------------------------------------------------------
    def save_plan(
        self,
        name: str,
        method: str,
        *,
        screening: Mapping[str, str] | None = None,
        margin_mm: float | None = None,
        caution_mm: float | None = None,
    ) -> PlanRecord:
        """Save the person's plan settings (method, screening answers, margins); the latest is in force."""
        answers = {str(k): str(v) for k, v in (screening or {}).items()}
        with self._write() as session:
            person = self._person_row(session, name)
            row = db.PlanRow(
                person_id=person.id,
                saved_at=_now(),
                method=method,
                screening=answers,
                margin_mm=margin_mm,
                caution_mm=caution_mm,
            )
            session.add(row)
            session.flush()
            return _plan(row)

    def latest_plan(self, name: str) -> PlanRecord | None:
        with self._read() as session:
            person = self._person_row(session, name)
            row = session.scalars(
                select(db.PlanRow)
                .where(db.PlanRow.person_id == person.id)
                .order_by(db.PlanRow.saved_at.desc(), db.PlanRow.id.desc())
                .limit(1)
            ).first()
            return _plan(row) if row is not None else None

    def plan(
        self,
        name: str,
        today: date | datetime | None = None,
        *,
        method: str | None = None,
        catalogue: Catalogue | None = None,
    ) -> Plan:
        """The person's stored treatments (planned ones flagged) and latest settings as a ``Plan``."""
        settings = self.latest_plan(name)
        treatments = tuple(record.treatment for record in self.treatments(name))
        chosen = method or (settings.method if settings else "hands")
        try:
            plan = Plan(
                treatments,
                chosen,
                today if today is not None else _now(),
                settings.margin_mm if settings else None,
                _caution_band(settings),
                tuple((q, a == "yes") for q, a in settings.screening.items()) if settings else (),
            )
            if catalogue is not None:
                plan.check(catalogue)
        except PlanError as err:
            raise StoreError(f"the stored plan of {name!r} cannot be used: {err}") from None
        return plan

    # --- courses --------------------------------------------------------------------------------------------
    def courses(self, name: str) -> tuple[CourseRecord, ...]:
        with self._read() as session:
            person = self._person_row(session, name)
            return self._courses(session, person.id)

    def tick_course_session(
        self, name: str, session_key: int, *, done: bool = True, when: datetime | None = None
    ) -> CourseSession:
        """Tick a course session off by hand (``done=False`` unticks it)."""
        with self._write() as session:
            person = self._person_row(session, name)
            row = session.get(db.CourseSessionRow, session_key)
            if row is None or row.person_id != person.id:
                raise StoreError(f"{name!r} has no course session {session_key}")
            course = session.get(db.CourseRow, row.course_id)
            if course is not None and course.closed_at is not None:
                raise StoreError(f"course session {session_key} belongs to a closed course")
            row.done_at = (when or _now()) if done else None
            if not done:
                row.massage_session_id = None
            return _course_session(row)

    def _add_course(
        self, session: Session, treatment: db.TreatmentRow, course: Course, now: datetime
    ) -> None:
        row = db.CourseRow(
            person_id=treatment.person_id,
            treatment_id=treatment.id,
            proposed_at=now,
            wanted_min=course.wanted[0],
            wanted_max=course.wanted[1],
            note=course.note,
            source=course.source,
            closed_at=course.closed_at,
            closed_reason=course.closed_reason,
        )
        session.add(row)
        session.flush()
        for item in course.sessions:
            session.add(
                db.CourseSessionRow(
                    person_id=treatment.person_id,
                    course_id=row.id,
                    number=item.number,
                    due=item.due,
                    areas=list(item.areas),
                    lines=list(item.lines),
                    done_at=item.done_at,
                )
            )

    def _courses(self, session: Session, person_id: int) -> tuple[CourseRecord, ...]:
        courses = session.scalars(
            select(db.CourseRow).where(db.CourseRow.person_id == person_id).order_by(db.CourseRow.id)
        ).all()
        records = []
        for row in courses:
            treatment = session.get(db.TreatmentRow, row.treatment_id)
            assert treatment is not None  # a foreign key with cascade
            items = session.scalars(
                select(db.CourseSessionRow)
                .where(db.CourseSessionRow.course_id == row.id)
                .order_by(db.CourseSessionRow.number)
            ).all()
            course = Course(
                _treatment(treatment).treatment,
                tuple(_course_session(item) for item in items),
                (row.wanted_min, row.wanted_max),
                row.note,
                row.source,
                row.closed_at,
                row.closed_reason,
            )
            records.append(CourseRecord(row.id, row.treatment_id, row.proposed_at, course))
        return tuple(records)

    # --- massage sessions -----------------------------------------------------------------------------------
    def add_session(
        self, name: str, record: MassageSession, *, tick_course: bool = True
    ) -> tuple[MassageSession, CourseSession | None]:
        """Store a massage session; with ``tick_course`` it ticks off the open course session it stands for
        (``Course.session_for`` its day). Returns the stored session and the course session ticked, if any."""
        _check_session(record)
        with self._write() as session:
            person = self._person_row(session, name)
            row = db.MassageSessionRow(
                person_id=person.id,
                started_at=record.started_at,
                ended_at=record.ended_at,
                method=record.method,
                mode=record.mode,
                lines={str(k): int(v) for k, v in record.lines.items()},
                warnings={str(k): int(v) for k, v in record.warnings.items()},
                stop_signs=list(record.stop_signs),
                note=record.note,
            )
            session.add(row)
            session.flush()
            ticked = None
            if tick_course:
                day = record.started_at.date()
                for course in self._courses(session, person.id):
                    target = course.course.session_for(day)
                    if target is not None and target.key is not None:
                        item = session.get(db.CourseSessionRow, target.key)
                        assert item is not None
                        item.done_at, item.massage_session_id = record.ended_at or record.started_at, row.id
                        ticked = _course_session(item)
                        break
            return _massage_session(row), ticked

    def sessions(self, name: str) -> tuple[MassageSession, ...]:
        with self._read() as session:
            person = self._person_row(session, name)
            rows = session.scalars(
                select(db.MassageSessionRow)
                .where(db.MassageSessionRow.person_id == person.id)
                .order_by(db.MassageSessionRow.started_at, db.MassageSessionRow.id)
            ).all()
            return tuple(_massage_session(row) for row in rows)

    # --- export and import ----------------------------------------------------------------------------------
    def export_person(self, name: str) -> dict[str, Any]:
        """Every record of one person as a JSON-ready document (see ``store.transfer``)."""
        from store.transfer import build_document

        with self._read() as session:
            person = self._person_row(session, name)
            rows = {
                table.__tablename__: session.scalars(
                    select(table).where(table.person_id == person.id).order_by(table.id)
                ).all()
                for table in db.PERSON_TABLES
            }
            return build_document(person, rows)

    def import_person(self, document: Any, *, as_name: str | None = None) -> Person:
        """Add the person of an exported document (as ``as_name`` if given) with all their records."""
        from store.transfer import read_document_rows

        parsed = read_document_rows(document)
        name = _clean_name(as_name or parsed.person.name)
        with self._write() as session:
            if self._find(session, name) is not None:
                raise StoreError(
                    f"there is already a person called {name!r}: delete them or import under another name"
                )
            person = db.PersonRow(name=name, created_at=parsed.person.created_at)
            session.add(person)
            session.flush()
            parsed.insert(session, person.id)
            return _person(person)

    # --- look-ups -------------------------------------------------------------------------------------------
    @staticmethod
    def _find(session: Session, name: str) -> db.PersonRow | None:
        return session.scalars(select(db.PersonRow).where(db.PersonRow.name == name)).first()

    def _person_row(self, session: Session, name: str) -> db.PersonRow:
        row = self._find(session, _clean_name(name))
        if row is None:
            known = session.scalars(select(db.PersonRow.name).order_by(db.PersonRow.name)).all()
            listed = ", ".join(map(repr, known)) if known else "none yet (add one with: person add NAME)"
            raise StoreError(f"no person called {name!r} in {self.where}; known: {listed}")
        return row

    def _treatment_row(self, session: Session, name: str, key: int) -> db.TreatmentRow:
        person = self._person_row(session, name)
        row = session.get(db.TreatmentRow, key)
        if row is None or row.person_id != person.id:
            raise StoreError(f"{name!r} has no treatment {key}")
        return row


# --- opening ------------------------------------------------------------------------------------------------
def _engine_for(url: str, *, sqlite: bool) -> Engine:
    if not sqlite:
        return create_engine(url, pool_pre_ping=True)
    engine = create_engine(url, connect_args={"timeout": BUSY_TIMEOUT_S, "check_same_thread": False})

    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # SQLAlchemy emits BEGIN itself (see _begin)
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_S * 1000}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(conn: Connection) -> None:
        write = conn.get_execution_options().get("facezones_write")
        conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")

    return engine


def _check_sqlite_file(path: Path) -> None:
    """Refuse, without writing a byte, a path that is not an SQLite FaceZones database of a known schema."""
    if path.is_dir():
        raise StoreError(f"{path} is a folder: give the database file's name")
    if not path.exists():
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as err:
            raise StoreError(f"cannot create the folder for {path}: {err.strerror or err}") from None
        return
    try:
        with path.open("rb") as handle:
            header = handle.read(len(SQLITE_HEADER))
    except OSError as err:
        raise StoreError(f"cannot read {path}: {err.strerror or err}") from None
    if not header:
        return  # an empty file holds nothing to lose: it becomes a new database
    if header != SQLITE_HEADER:
        raise StoreError(f"{path} is not a FaceZones database (not an SQLite file); it was left untouched")
    try:  # immutable: a first look that writes nothing, not even -wal/-shm files; the live check decides
        connection = sqlite3.connect(f"file:{quote(str(path))}?mode=ro&immutable=1", uri=True)
    except sqlite3.Error as err:
        raise StoreError(f"cannot open {path}: {err}") from None
    try:
        tables = {r[0] for r in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        meta = (
            dict(connection.execute("SELECT key, value FROM facezones_meta"))
            if db.Meta.__tablename__ in tables
            else {}
        )
        revision = (
            connection.execute("SELECT version_num FROM alembic_version").fetchone()
            if "alembic_version" in tables
            else None
        )
    except sqlite3.Error as err:
        raise StoreError(f"{path} is not a FaceZones database ({err}); it was left untouched") from None
    finally:
        connection.close()
    _classify(str(path), tables, meta, revision[0] if revision else None)


def _contents(conn: Connection) -> tuple[set[str], dict[str, str], str | None]:
    """(table names, facezones_meta as a dict, the Alembic revision) of the database behind ``conn``."""
    tables = set(inspect(conn).get_table_names())
    meta: dict[str, str] = {}
    if db.Meta.__tablename__ in tables:
        meta = {row.key: row.value for row in conn.execute(select(db.Meta.key, db.Meta.value))}
    revision = None
    if "alembic_version" in tables:
        revision = conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
    return tables, meta, revision


def _classify(where: str, tables: set[str], meta: Mapping[str, str], revision: str | None) -> str:
    """``empty``, ``current`` or ``older``; raises ``StoreError`` for a foreign or newer database."""
    tables = {t for t in tables if not t.startswith("sqlite_")}
    if not tables:
        return "empty"
    if meta.get("app") != APP_MARK:
        shown = ", ".join(sorted(tables)[:6]) + (", ..." if len(tables) > 6 else "")
        raise StoreError(
            f"{where} is not a FaceZones database (it holds other tables: {shown}); it was left untouched. "
            "Point --db or FACEZONES_DB at a FaceZones database or at a new file"
        )
    try:
        schema = int(meta.get("schema", ""))
    except ValueError:
        raise StoreError(
            f"{where}: a FaceZones database without a schema number; it was left untouched"
        ) from None
    scripts = ScriptDirectory(str(MIGRATIONS))
    known = {script.revision for script in scripts.walk_revisions()}
    if schema > SCHEMA_VERSION or revision not in known:
        raise StoreError(
            f"{where} was written by a newer FaceZones (schema {schema}, revision {revision}); this version "
            f"knows schemas up to {SCHEMA_VERSION}: update FaceZones to open it. It was left untouched"
        )
    return "current" if revision == scripts.get_current_head() else "older"


def _reason(err: BaseException) -> str:
    original = getattr(err, "orig", None)
    message = str(original if original is not None else err).strip().splitlines()
    return message[0] if message else type(err).__name__


# --- values in and out --------------------------------------------------------------------------------------
def _clean_name(name: str) -> str:
    clean = " ".join(str(name).split())
    if not clean:
        raise StoreError("a person needs a name")
    if len(clean) > db.NAME_LENGTH:
        raise StoreError(f"a name of at most {db.NAME_LENGTH} characters, please (got {len(clean)})")
    return clean


def _waits(waits: Mapping[str, str], treatment: Treatment) -> dict[str, str]:
    """The injector's waits, area -> ``10d`` / ``48h``, checked: durations, and areas the treatment names."""
    clean = {}
    for area, wait in waits.items():
        if area not in treatment.areas:
            raise StoreError(f"an injector's wait for {area}, which {treatment.to_text()} does not name")
        try:
            span = Span.model_validate(str(wait))
        except ValueError:
            raise StoreError(f"injector's wait {wait!r} for {area}: write it like 10d or 48h") from None
        clean[area] = f"{span.amount:g}{span.unit}"
    return clean


def _check_session(record: MassageSession) -> None:
    if record.ended_at is not None and record.ended_at < record.started_at:
        raise StoreError("a massage session cannot end before it starts")
    for what, counts in (("lines", record.lines), ("warnings", record.warnings)):
        if any(not isinstance(v, int) or isinstance(v, bool) or v < 0 for v in counts.values()):
            raise StoreError(f"session {what}: counts must be whole numbers >= 0")
    if not record.method:
        raise StoreError("a massage session names its method")


def _person(row: db.PersonRow) -> Person:
    return Person(row.id, row.name, row.created_at)


def _treatment(row: db.TreatmentRow) -> TreatmentRecord:
    treatment = Treatment(tuple(row.areas), row.product, row.treated_at, row.has_time, planned=row.planned)
    return TreatmentRecord(
        row.id,
        treatment,
        dict(row.injector_waits),
        row.note,
        row.created_at,
        row.planned_for,
        row.done_marked_at,
    )


def _plan(row: db.PlanRow) -> PlanRecord:
    return PlanRecord(row.id, row.saved_at, row.method, dict(row.screening), row.margin_mm, row.caution_mm)


def _course_session(row: db.CourseSessionRow) -> CourseSession:
    return CourseSession(row.number, row.due, tuple(row.areas), tuple(row.lines), row.done_at, row.id)


def _massage_session(row: db.MassageSessionRow) -> MassageSession:
    return MassageSession(
        started_at=row.started_at,
        method=row.method,
        ended_at=row.ended_at,
        mode=row.mode,
        lines=dict(row.lines),
        warnings=dict(row.warnings),
        stop_signs=tuple(row.stop_signs),
        note=row.note,
        key=row.id,
    )


def _caution_band(settings: PlanRecord | None) -> float | None:
    """The caution band's width from the stored settings (saved as where the band ends, ``caution_mm``)."""
    if settings is None or settings.caution_mm is None:
        return None
    return max(0.0, settings.caution_mm - (settings.margin_mm or 0.0))
