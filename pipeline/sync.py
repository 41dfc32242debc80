"""`pipeline sync`: the reference tables in Notion databases (seed 002), I/O side.

`setup` creates one database per synced entity under a Notion page and keeps
their ids in notion-sync.json (commit it); rerunning reuses what exists, found
by the saved ids or, failing that, by title under the page.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from pipeline.errors import UsageError
from pipeline.files import atomic_write
from pipeline.notion_api import NotionAPI
from pipeline.sync_plan import Entity
from pipeline.sync_properties import database_properties

SYNC_CONFIG = Path("notion-sync.json")


@dataclass(frozen=True, slots=True)
class Database:
    entity: str
    database_id: str
    data_source_id: str
    created: bool = False


def read_sync_config(path: Path) -> dict[str, dict[str, str]]:
    if not path.exists():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise UsageError(
            f"{path}: not readable JSON ({exc}); fix it or delete it and run "
            "`pipeline sync setup` again"
        ) from None
    databases = data.get("databases") if isinstance(data, dict) else None
    return databases if isinstance(databases, dict) else {}


def setup(
    api: NotionAPI, parent_page_id: str, chosen: dict[str, Entity], path: Path = SYNC_CONFIG
) -> list[Database]:
    """Create the missing databases under the page; reuse the ones already there."""
    saved = read_sync_config(path)
    under_page = {
        b["child_database"]["title"]: b["id"]
        for b in api.children(parent_page_id)
        if b.get("type") == "child_database"
    }
    found: list[Database] = []
    for key, entity in chosen.items():
        known = saved.get(key, {})
        if known.get("database_id") in under_page.values():
            found.append(Database(key, known["database_id"], known["data_source_id"]))
        elif entity.name in under_page:
            database_id = under_page[entity.name]
            found.append(Database(key, database_id, api.data_source_id(database_id)))
        else:
            database_id, source_id = api.create_database(
                parent_page_id, entity.name, database_properties(entity)
            )
            found.append(Database(key, database_id, source_id, created=True))
    config = {
        "parent_page_id": parent_page_id,
        "databases": {
            d.entity: {"database_id": d.database_id, "data_source_id": d.data_source_id}
            for d in found
        },
    }
    atomic_write(path, (json.dumps(config, indent=2, sort_keys=True) + "\n").encode())
    return found
