"""The first schema: people, treatments, plans, courses, course sessions, massage sessions.

Revision ID: 0001_first_schema
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001_first_schema"
down_revision = None
branch_labels = None
depends_on = None
SCHEMA = 1


def _person_id() -> sa.Column:
    return sa.Column("person_id", sa.Integer, sa.ForeignKey("people.id", ondelete="CASCADE"), nullable=False)


def upgrade() -> None:
    meta = op.create_table(
        "facezones_meta",
        sa.Column("key", sa.String(40), primary_key=True),
        sa.Column("value", sa.String(200), nullable=False),
    )
    op.bulk_insert(meta, [{"key": "app", "value": "facezones"}, {"key": "schema", "value": str(SCHEMA)}])
    op.create_table(
        "people",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.UniqueConstraint("name", name="uq_people_name"),
    )
    op.create_table(
        "treatments",
        sa.Column("id", sa.Integer, primary_key=True),
        _person_id(),
        sa.Column("areas", sa.JSON, nullable=False),
        sa.Column("product", sa.String(64), nullable=False),
        sa.Column("treated_at", sa.DateTime, nullable=False),
        sa.Column("has_time", sa.Boolean, nullable=False),
        sa.Column("planned", sa.Boolean, nullable=False),
        sa.Column("planned_for", sa.DateTime, nullable=True),
        sa.Column("done_marked_at", sa.DateTime, nullable=True),
        sa.Column("injector_waits", sa.JSON, nullable=False),
        sa.Column("note", sa.Text, nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
    )
    op.create_table(
        "plans",
        sa.Column("id", sa.Integer, primary_key=True),
        _person_id(),
        sa.Column("saved_at", sa.DateTime, nullable=False),
        sa.Column("method", sa.String(64), nullable=False),
        sa.Column("screening", sa.JSON, nullable=False),
        sa.Column("margin_mm", sa.Float, nullable=True),
        sa.Column("caution_mm", sa.Float, nullable=True),
    )
    op.create_table(
        "courses",
        sa.Column("id", sa.Integer, primary_key=True),
        _person_id(),
        sa.Column(
            "treatment_id", sa.Integer, sa.ForeignKey("treatments.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("proposed_at", sa.DateTime, nullable=False),
        sa.Column("wanted_min", sa.Integer, nullable=False),
        sa.Column("wanted_max", sa.Integer, nullable=False),
        sa.Column("note", sa.Text, nullable=False),
        sa.Column("source", sa.Text, nullable=False),
        sa.Column("closed_at", sa.DateTime, nullable=True),
        sa.Column("closed_reason", sa.String(200), nullable=False),
    )
    op.create_table(
        "massage_sessions",
        sa.Column("id", sa.Integer, primary_key=True),
        _person_id(),
        sa.Column("started_at", sa.DateTime, nullable=False),
        sa.Column("ended_at", sa.DateTime, nullable=True),
        sa.Column("method", sa.String(64), nullable=False),
        sa.Column("mode", sa.String(20), nullable=False),
        sa.Column("lines", sa.JSON, nullable=False),
        sa.Column("warnings", sa.JSON, nullable=False),
        sa.Column("stop_signs", sa.JSON, nullable=False),
        sa.Column("note", sa.Text, nullable=False),
    )
    op.create_table(
        "course_sessions",
        sa.Column("id", sa.Integer, primary_key=True),
        _person_id(),
        sa.Column("course_id", sa.Integer, sa.ForeignKey("courses.id", ondelete="CASCADE"), nullable=False),
        sa.Column("number", sa.Integer, nullable=False),
        sa.Column("due", sa.Date, nullable=False),
        sa.Column("areas", sa.JSON, nullable=False),
        sa.Column("lines", sa.JSON, nullable=False),
        sa.Column("done_at", sa.DateTime, nullable=True),
        sa.Column(
            "massage_session_id",
            sa.Integer,
            sa.ForeignKey("massage_sessions.id", ondelete="SET NULL"),
            nullable=True,
        ),
    )
    for table in ("treatments", "plans", "courses", "massage_sessions", "course_sessions"):
        op.create_index(f"ix_{table}_person_id", table, ["person_id"])
    op.create_index("ix_courses_treatment_id", "courses", ["treatment_id"])
    op.create_index("ix_course_sessions_course_id", "course_sessions", ["course_id"])


def downgrade() -> None:
    for table in ("course_sessions", "massage_sessions", "courses", "plans", "treatments", "people"):
        op.drop_table(table)
    op.drop_table("facezones_meta")
