"""One person's records as a document: JSON (nested lists per table) or CSV (one row per record), and back.

The document mirrors the tables: ``treatments``, ``plans``, ``massage_sessions``, ``courses`` and
``course_sessions``, each record with a ``ref`` (its id in the exporting database) so links between them
survive an import into another database, where new ids are given. Import validates every field and names the
first bad one; nothing is written unless all of it is good.
"""

from __future__ import annotations

import csv
import io
import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy.orm import Session

from store import schema as db
from store.errors import StoreError
from zones.files import read_small_text, write_text_atomically

KIND = "facezones-person"
VERSION = 1
MAX_DOCUMENT_BYTES = 50_000_000


class _Record(BaseModel):
    model_config = ConfigDict(extra="forbid")
    json_fields: ClassVar[tuple[str, ...]] = ()


class PersonIn(_Record):
    name: str = Field(min_length=1, max_length=db.NAME_LENGTH)
    created_at: datetime


class TreatmentIn(_Record):
    json_fields = ("areas", "injector_waits")
    ref: int
    areas: list[str] = Field(min_length=1)
    product: str = Field(min_length=1, max_length=db.ID_LENGTH)
    treated_at: datetime
    has_time: bool
    planned: bool
    planned_for: datetime | None = None
    done_marked_at: datetime | None = None
    injector_waits: dict[str, str] = {}
    note: str = ""
    created_at: datetime


class PlanIn(_Record):
    json_fields = ("screening",)
    ref: int
    saved_at: datetime
    method: str = Field(min_length=1, max_length=db.ID_LENGTH)
    screening: dict[str, str] = {}
    margin_mm: float | None = None
    caution_mm: float | None = None


class MassageSessionIn(_Record):
    json_fields = ("lines", "warnings", "stop_signs")
    ref: int
    started_at: datetime
    ended_at: datetime | None = None
    method: str = Field(min_length=1, max_length=db.ID_LENGTH)
    mode: str = Field(default="", max_length=20)
    lines: dict[str, int] = {}
    warnings: dict[str, int] = {}
    stop_signs: list[str] = []
    note: str = ""


class CourseIn(_Record):
    ref: int
    treatment_ref: int
    proposed_at: datetime
    wanted_min: int
    wanted_max: int
    note: str
    source: str
    closed_at: datetime | None = None
    closed_reason: str = ""


class CourseSessionIn(_Record):
    json_fields = ("areas", "lines")
    ref: int
    course_ref: int
    number: int = Field(ge=1)
    due: date
    areas: list[str]
    lines: list[str]
    done_at: datetime | None = None
    massage_session_ref: int | None = None


class Document(BaseModel):
    """A whole export: the person and their records, table by table."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["facezones-person"]
    version: Literal[1]
    exported_at: datetime
    person: PersonIn
    treatments: list[TreatmentIn] = []
    plans: list[PlanIn] = []
    massage_sessions: list[MassageSessionIn] = []
    courses: list[CourseIn] = []
    course_sessions: list[CourseSessionIn] = []


# section name -> (its record model, the table it fills, the table's column for the record's "ref")
SECTIONS: dict[str, type[_Record]] = {
    "treatments": TreatmentIn,
    "plans": PlanIn,
    "massage_sessions": MassageSessionIn,
    "courses": CourseIn,
    "course_sessions": CourseSessionIn,
}
_RENAMED = {
    "treatment_id": "treatment_ref",
    "course_id": "course_ref",
    "massage_session_id": "massage_session_ref",
}


class TransferError(StoreError):
    """A document that cannot be imported; the message names the file, the record and the field."""


def build_document(person: db.PersonRow, rows: Mapping[str, Sequence[Any]]) -> dict[str, Any]:
    """The export document of ``person`` from their rows, keyed by table name."""
    document: dict[str, Any] = {
        "kind": KIND,
        "version": VERSION,
        "exported_at": datetime.now().replace(microsecond=0).isoformat(),
        "person": {"name": person.name, "created_at": person.created_at.isoformat()},
    }
    for section, model in SECTIONS.items():
        records = []
        for row in rows.get(section, ()):
            record: dict[str, Any] = {"ref": row.id}
            for column in row.__table__.columns.keys():  # noqa: SIM118 (names, not Column objects)
                if column in ("id", "person_id"):
                    continue
                record[_RENAMED.get(column, column)] = getattr(row, column)
            records.append(model.model_validate(record).model_dump(mode="json"))
        document[section] = records
    return document


@dataclass(frozen=True)
class ParsedDocument:
    """A validated document, ready to insert under a new person id (refs become new ids)."""

    person: PersonIn
    document: Document

    def insert(self, session: Session, person_id: int) -> None:
        doc = self.document
        treatments: dict[int, int] = {}
        for item in doc.treatments:
            row = db.TreatmentRow(person_id=person_id, **item.model_dump(exclude={"ref"}))
            session.add(row)
            session.flush()
            treatments[item.ref] = row.id
        for plan in doc.plans:
            session.add(db.PlanRow(person_id=person_id, **plan.model_dump(exclude={"ref"})))
        sessions: dict[int, int] = {}
        for massage in doc.massage_sessions:
            row_s = db.MassageSessionRow(person_id=person_id, **massage.model_dump(exclude={"ref"}))
            session.add(row_s)
            session.flush()
            sessions[massage.ref] = row_s.id
        courses: dict[int, int] = {}
        for course in doc.courses:
            fields = course.model_dump(exclude={"ref", "treatment_ref"})
            row_c = db.CourseRow(person_id=person_id, treatment_id=treatments[course.treatment_ref], **fields)
            session.add(row_c)
            session.flush()
            courses[course.ref] = row_c.id
        for item_s in doc.course_sessions:
            fields = item_s.model_dump(exclude={"ref", "course_ref", "massage_session_ref"})
            linked = None if item_s.massage_session_ref is None else sessions[item_s.massage_session_ref]
            session.add(
                db.CourseSessionRow(
                    person_id=person_id,
                    course_id=courses[item_s.course_ref],
                    massage_session_id=linked,
                    **fields,
                )
            )


def read_document_rows(document: Any, where: str = "import") -> ParsedDocument:
    """Validate a document (a dict as ``build_document`` makes, or as read from JSON or CSV)."""
    try:
        parsed = Document.model_validate(document)
    except ValidationError as err:
        first = err.errors()[0]
        field = ".".join(str(p) if not isinstance(p, int) else f"[{p}]" for p in first.get("loc", ()))
        more = f" (and {err.error_count() - 1} more)" if err.error_count() > 1 else ""
        raise TransferError(f"{where}: {field.replace('.[', '[')}: {first.get('msg')}{more}") from None
    _check_links(parsed, where)
    return ParsedDocument(parsed.person, parsed)


def _check_links(doc: Document, where: str) -> None:
    for section in SECTIONS:
        refs = [record.ref for record in getattr(doc, section)]
        if len(set(refs)) != len(refs):
            raise TransferError(f"{where}: {section}: a ref appears twice")
    treatments = {t.ref for t in doc.treatments}
    courses = {c.ref for c in doc.courses}
    sessions = {s.ref for s in doc.massage_sessions}
    for i, course in enumerate(doc.courses):
        if course.treatment_ref not in treatments:
            raise TransferError(
                f"{where}: courses[{i}]: treatment_ref {course.treatment_ref} is not a treatment"
            )
    for i, item in enumerate(doc.course_sessions):
        if item.course_ref not in courses:
            raise TransferError(
                f"{where}: course_sessions[{i}]: course_ref {item.course_ref} is not a course"
            )
        if item.massage_session_ref is not None and item.massage_session_ref not in sessions:
            raise TransferError(
                f"{where}: course_sessions[{i}]: massage_session_ref {item.massage_session_ref} is unknown"
            )


# --- files --------------------------------------------------------------------------------------------------
def csv_columns() -> list[str]:
    """The CSV header: ``record`` (person or a section name), then every field of every record, once."""
    columns = ["record", *PersonIn.model_fields]
    for model in SECTIONS.values():
        columns += [name for name in model.model_fields if name not in columns]
    return columns


def document_to_csv(document: Mapping[str, Any]) -> str:
    """One CSV row per record; lists and maps as compact JSON, empty cells for fields a record lacks."""
    columns = csv_columns()
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    meta = {"record": "document", "name": document["person"]["name"]}
    writer.writerow({**meta, "created_at": document["exported_at"]})
    writer.writerow({"record": "person", **{k: _cell(v) for k, v in document["person"].items()}})
    for section in SECTIONS:
        for record in document.get(section, ()):
            writer.writerow({"record": section, **{k: _cell(v) for k, v in record.items()}})
    return out.getvalue()


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | dict):
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    return str(value)


def csv_to_document(text: str, where: str = "import") -> dict[str, Any]:
    """Read back what ``document_to_csv`` wrote (field types are checked by ``read_document_rows``)."""
    reader = csv.DictReader(io.StringIO(text))
    if reader.fieldnames is None or "record" not in reader.fieldnames:
        raise TransferError(f"{where}: not a FaceZones CSV export (no 'record' column)")
    document: dict[str, Any] = {"kind": KIND, "version": VERSION, **{s: [] for s in SECTIONS}}
    for number, row in enumerate(reader, start=2):
        kind = row.get("record") or ""
        if kind == "document":
            document["exported_at"] = row.get("created_at")
            continue
        model: type[_Record] | None = PersonIn if kind == "person" else SECTIONS.get(kind)
        if model is None:
            raise TransferError(f"{where}: line {number}: unknown record {kind!r}")
        record: dict[str, Any] = {}
        for name, info in model.model_fields.items():
            cell = row.get(name) or ""
            if name in model.json_fields:
                try:
                    record[name] = json.loads(cell) if cell else info.get_default(call_default_factory=True)
                except json.JSONDecodeError:
                    raise TransferError(f"{where}: line {number}: {name}: not valid JSON") from None
            elif cell == "" and not info.is_required() and info.default is None:
                record[name] = None
            else:
                record[name] = cell
        if kind == "person":
            document["person"] = record
        else:
            document[kind].append(record)
    return document


def write_document(document: Mapping[str, Any], path: str | os.PathLike[str]) -> Path:
    """Write the document as JSON, or CSV when the name ends in ``.csv``; atomically (temporary + rename)."""
    target = Path(path)
    body = (
        document_to_csv(document)
        if target.suffix.lower() == ".csv"
        else json.dumps(document, indent=2, ensure_ascii=False) + "\n"
    )
    return write_text_atomically(target, body)


def read_document(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Read an export file (JSON, or CSV by its name); ``TransferError`` for a missing, huge or bad file."""
    source = Path(path)
    text = read_small_text(
        source, str(source), limit=MAX_DOCUMENT_BYTES, kind="export file", error=TransferError
    )
    if source.suffix.lower() == ".csv":
        return csv_to_document(text, str(source))
    try:
        document = json.loads(text)
    except json.JSONDecodeError as err:
        raise TransferError(f"{source}: not valid JSON ({err.msg} at line {err.lineno})") from None
    if not isinstance(document, dict):
        raise TransferError(f"{source}: expected a JSON object exported by FaceZones")
    return document
