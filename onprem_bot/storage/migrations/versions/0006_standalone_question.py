"""the question searched for a rewritten follow-up, logged with its message

Revision ID: 0006_standalone_question
Revises: 0005_faq_phrasings
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006_standalone_question"
down_revision = "0005_faq_phrasings"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add messages.standalone_question (NULL: asked as is, or logged before follow-ups were rewritten)."""
    # a plain ADD COLUMN (SQLite and PostgreSQL both have it): no table copy, feedback rows untouched
    op.add_column("messages", sa.Column("standalone_question", sa.Text(), nullable=True))


def downgrade() -> None:
    """Drop the column."""
    op.drop_column("messages", "standalone_question")  # SQLite 3.35+ drops a column in place
