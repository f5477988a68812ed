"""Alembic environments, one per database."""
