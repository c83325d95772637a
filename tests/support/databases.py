"""Databases for store tests."""

from __future__ import annotations

from sqlalchemy import create_engine


def fresh_database(server: str, name: str) -> str:
    """A new, empty database ``name`` on the PostgreSQL ``server``; its URL."""
    admin = create_engine(f"{server}/postgres", isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}"')
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    finally:
        admin.dispose()
    return f"{server}/{name}"
