"""Storage: SQLAlchemy 2 tables, Alembic migrations and the repositories over them."""
