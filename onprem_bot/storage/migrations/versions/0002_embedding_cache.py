"""embedding cache

Revision ID: 0002_embedding_cache
Revises: 0001_documents_and_chunks
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002_embedding_cache"
down_revision = "0001_documents_and_chunks"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create the embedding_cache table (vectors as float32 bytes, keyed by model and text hash)."""
    op.create_table(
        "embedding_cache",
        sa.Column("model", sa.String(128), nullable=False),
        sa.Column("text_hash", sa.String(64), nullable=False),
        sa.Column("dim", sa.Integer(), nullable=False),
        sa.Column("vector", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("model", "text_hash", name="pk_embedding_cache"),
    )


def downgrade() -> None:
    """Drop the embedding_cache table."""
    op.drop_table("embedding_cache")
