"""The tables of a FaceZones database (SQLAlchemy 2 ORM). The migrations in ``store/migrations`` build them.

Every table but ``facezones_meta`` carries ``person_id`` (cascading on delete), so deleting a person deletes
every row of theirs, and an export can gather them with one filter per table. Moments are naive local times,
as everywhere in FaceZones; lists and maps (areas, lines done, warnings) are JSON columns.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAME_LENGTH = 100
ID_LENGTH = 64


class Base(DeclarativeBase):
    """Declarative base of the FaceZones tables."""


class Meta(Base):
    """Key/value marks: ``app`` = ``facezones`` (a FaceZones database) and ``schema`` (its schema number)."""

    __tablename__ = "facezones_meta"

    key: Mapped[str] = mapped_column(String(40), primary_key=True)
    value: Mapped[str] = mapped_column(String(200))


def _person_fk() -> Mapped[int]:
    return mapped_column(ForeignKey("people.id", ondelete="CASCADE"), index=True)


class PersonRow(Base):
    __tablename__ = "people"
    __table_args__ = (UniqueConstraint("name", name="uq_people_name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(NAME_LENGTH))
    created_at: Mapped[datetime] = mapped_column(DateTime)


class TreatmentRow(Base):
    """A treatment, planned or done. ``planned_for`` keeps the booked moment once it is marked done."""

    __tablename__ = "treatments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    person_id: Mapped[int] = _person_fk()
    areas: Mapped[list[str]] = mapped_column(JSON)
    product: Mapped[str] = mapped_column(String(ID_LENGTH))
    treated_at: Mapped[datetime] = mapped_column(DateTime)
    has_time: Mapped[bool] = mapped_column(Boolean)
    planned: Mapped[bool] = mapped_column(Boolean)
    planned_for: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    done_marked_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    injector_waits: Mapped[dict[str, str]] = mapped_column(JSON)
    note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(DateTime)


class PlanRow(Base):
    """A person's plan settings as saved at one moment (the latest one is in force)."""

    __tablename__ = "plans"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    person_id: Mapped[int] = _person_fk()
    saved_at: Mapped[datetime] = mapped_column(DateTime)
    method: Mapped[str] = mapped_column(String(ID_LENGTH))
    screening: Mapped[dict[str, Any]] = mapped_column(JSON)
    margin_mm: Mapped[float | None] = mapped_column(Float, nullable=True)
    caution_mm: Mapped[float | None] = mapped_column(Float, nullable=True)


class CourseRow(Base):
    """The preparatory course of one planned treatment."""

    __tablename__ = "courses"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    person_id: Mapped[int] = _person_fk()
    treatment_id: Mapped[int] = mapped_column(ForeignKey("treatments.id", ondelete="CASCADE"), index=True)
    proposed_at: Mapped[datetime] = mapped_column(DateTime)
    wanted_min: Mapped[int] = mapped_column(Integer)
    wanted_max: Mapped[int] = mapped_column(Integer)
    note: Mapped[str] = mapped_column(Text)
    source: Mapped[str] = mapped_column(Text)
    closed_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    closed_reason: Mapped[str] = mapped_column(String(200), default="")


class MassageSessionRow(Base):
    """One massage session: when, how, the lines done (id -> repetitions), touch-guard warnings per area."""

    __tablename__ = "massage_sessions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    person_id: Mapped[int] = _person_fk()
    started_at: Mapped[datetime] = mapped_column(DateTime)
    ended_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    method: Mapped[str] = mapped_column(String(ID_LENGTH))
    mode: Mapped[str] = mapped_column(String(20))
    lines: Mapped[dict[str, int]] = mapped_column(JSON)
    warnings: Mapped[dict[str, int]] = mapped_column(JSON)
    stop_signs: Mapped[list[str]] = mapped_column(JSON)
    note: Mapped[str] = mapped_column(Text, default="")


class CourseSessionRow(Base):
    """One session of a course: its number, the day due, what it covers, when done and by which session."""

    __tablename__ = "course_sessions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    person_id: Mapped[int] = _person_fk()
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    due: Mapped[date] = mapped_column(Date)
    areas: Mapped[list[str]] = mapped_column(JSON)
    lines: Mapped[list[str]] = mapped_column(JSON)
    done_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    massage_session_id: Mapped[int | None] = mapped_column(
        ForeignKey("massage_sessions.id", ondelete="SET NULL"), nullable=True
    )


PERSON_TABLES = (TreatmentRow, PlanRow, CourseRow, MassageSessionRow, CourseSessionRow)
