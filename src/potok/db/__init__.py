"""Persistence: SQLAlchemy 2 tables, repositories, queries, the unit of work and migrations."""
