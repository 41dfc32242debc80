"""Migration 0004: what the reference-table sync relies on, in a real Postgres."""

from __future__ import annotations

import time

import psycopg
import pytest

from tests.conftest import Database


def test_updated_at_moves_on_every_update(db: Database) -> None:
    db.conn.execute("INSERT INTO universities (id, name) VALUES ('cpp', 'Cal Poly Pomona')")
    first = db.value("SELECT updated_at FROM universities")
    time.sleep(0.01)
    db.conn.execute("UPDATE universities SET location = 'Pomona'")
    assert db.value("SELECT updated_at FROM universities") > first


def test_sync_log_and_state(db: Database) -> None:
    db.conn.execute("INSERT INTO sync_log (sync_type) VALUES ('push')")
    assert db.rows("SELECT status, items_conflicted, completed_at FROM sync_log") == [
        ("running", 0, None)
    ]
    db.conn.execute(
        "INSERT INTO sync_state (entity, postgres_id, notion_page_id, synced_hash) "
        "VALUES ('teams', '1', 'page-1', 'h')"
    )
    assert db.rows(
        "SELECT entity, postgres_id, notion_page_id, synced_hash, synced_at IS NOT NULL "
        "FROM sync_state"
    ) == [("teams", "1", "page-1", "h", True)]
    # One state per row of an entity (the sync upserts on it) and one row per Notion page.
    insert = (
        "INSERT INTO sync_state (entity, postgres_id, notion_page_id, synced_hash) "
        "VALUES (%s, %s, %s, 'h2')"
    )
    with pytest.raises(psycopg.errors.UniqueViolation):
        db.conn.execute(insert, ("teams", "1", "page-2"))
    with pytest.raises(psycopg.errors.UniqueViolation):
        db.conn.execute(insert, ("teams", "2", "page-1"))
    db.conn.execute(insert, ("universities", "1", "page-3"))  # the same key, another entity
    assert db.value("SELECT count(*) FROM sync_state") == 2


def test_interfaces_keep_energy_loss_in_range(db: Database) -> None:
    with pytest.raises(psycopg.errors.CheckViolation):
        db.conn.execute("INSERT INTO interfaces (id, name, energy_loss) VALUES ('i', 'x', 150)")
