"""faq phrasings learned from use, and the FAQ suggestions logged with each answer

Revision ID: 0005_faq_phrasings
Revises: 0004_users_conversations
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005_faq_phrasings"
down_revision = "0004_users_conversations"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create faq_phrasings; add messages.faq_suggestions (empty for the messages logged before)."""
    op.create_table(
        "faq_phrasings",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("entry_id", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("text_hash", sa.String(64), nullable=False),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("seen_count", sa.Integer(), nullable=False),
        sa.Column("message_id", sa.Integer(), nullable=True),
        sa.Column("created_by", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_by", sa.String(64), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index("ix_faq_phrasings_entry_text", "faq_phrasings", ["entry_id", "text_hash"], unique=True)
    op.create_index("ix_faq_phrasings_status", "faq_phrasings", ["status"])
    # a plain ADD COLUMN (SQLite and PostgreSQL both have it): no table copy, feedback rows untouched
    op.add_column("messages", sa.Column("faq_suggestions", sa.JSON(), nullable=False, server_default=sa.text("'[]'")))


def downgrade() -> None:
    """Drop the column and the table."""
    op.drop_column("messages", "faq_suggestions")  # SQLite 3.35+ drops a column in place
    op.drop_index("ix_faq_phrasings_status", table_name="faq_phrasings")
    op.drop_index("ix_faq_phrasings_entry_text", table_name="faq_phrasings")
    op.drop_table("faq_phrasings")
