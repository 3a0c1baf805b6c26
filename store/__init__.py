"""The local database of people, treatments, plans, preparatory courses and massage sessions.

app.py and cli.py reach it through ``Store``; nothing in vision/, zones/ or overlays/ imports it.
"""

from store.db import DEFAULT_PERSON, SCHEMA_VERSION, Store, default_database_path, resolve_url
from store.errors import StoreError
from store.records import CourseRecord, MassageSession, Person, PlanRecord, TreatmentRecord
from store.transfer import read_document, write_document

__all__ = [
    "DEFAULT_PERSON",
    "SCHEMA_VERSION",
    "CourseRecord",
    "MassageSession",
    "Person",
    "PlanRecord",
    "Store",
    "StoreError",
    "TreatmentRecord",
    "default_database_path",
    "read_document",
    "resolve_url",
    "write_document",
]
