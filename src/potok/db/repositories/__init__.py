"""Repositories: domain objects in and out of tables, inside the caller's transaction."""
