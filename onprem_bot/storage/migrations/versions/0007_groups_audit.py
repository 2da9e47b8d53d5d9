"""document and FAQ groups, chat accounts with groups, the audit log, a shared log-in throttle

Revision ID: 0007_groups_audit
Revises: 0006_standalone_question
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007_groups_audit"
down_revision = "0006_standalone_question"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add ``groups`` to documents, FAQ entries and users (``[]``: everyone / no group), ``users.source``
    (``local`` or ``ldap``), and create ``audit_log``, ``login_failures``, ``login_lockouts`` and ``revisions``
    (a counter per kind of data, e.g. ``documents``, bumped with every change, so readers can cache)."""
    for table in ("documents", "faq_entries", "users"):
        op.add_column(table, sa.Column("groups", sa.JSON(), nullable=False, server_default="[]"))
    op.add_column("users", sa.Column("source", sa.String(16), nullable=False, server_default="local"))
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("subject", sa.Text(), nullable=False, server_default=""),
        sa.Column("detail", sa.JSON(), nullable=False),
    )
    op.create_index("ix_audit_log_at", "audit_log", ["at"])
    op.create_index("ix_audit_log_actor", "audit_log", ["actor"])
    op.create_table(
        "login_failures",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("key", sa.String(160), nullable=False),
        sa.Column("at", sa.Float(), nullable=False),
    )
    op.create_index("ix_login_failures_key", "login_failures", ["key"])
    op.create_table(
        "login_lockouts",
        sa.Column("key", sa.String(160), primary_key=True),
        sa.Column("until", sa.Float(), nullable=False),
    )
    revisions = op.create_table(
        "revisions",
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("value", sa.Integer(), nullable=False),
    )
    op.bulk_insert(revisions, [{"name": "documents", "value": 0}])


def downgrade() -> None:
    """Drop the tables and columns again (groups are lost: every document becomes readable by all)."""
    op.drop_table("revisions")
    op.drop_table("login_lockouts")
    op.drop_index("ix_login_failures_key", "login_failures")
    op.drop_table("login_failures")
    op.drop_index("ix_audit_log_actor", "audit_log")
    op.drop_index("ix_audit_log_at", "audit_log")
    op.drop_table("audit_log")
    op.drop_column("users", "source")
    for table in ("users", "faq_entries", "documents"):
        op.drop_column(table, "groups")
