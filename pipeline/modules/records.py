"""What a module file means for the database, as pure functions.

The content hash covers everything that is deployed (all fields except
`metadata` and `$schema`), in a canonical form: a re-export that only moves
keys or bumps `exported_at` has the same hash, so deploy and export can tell
real changes from noise.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

import orjson

# The file's status -> the status students' app filters on (seed 004).
DB_STATUS = {
    "draft": "draft",
    "ready": "published",
    "published": "published",
    "archived": "archived",
}

MODULE_COLUMNS = (
    "module_id",
    "title",
    "description",
    "category",
    "estimated_minutes",
    "created_by_id",
    "university_id",
    "status",
    "prerequisites",
    "related_modules",
    "tags",
    "target_audience",
    "module_type",
    "interaction_level",
    "required_components",
    "difficulty_level",
    "adaptive_config",
    "learning_objectives",
    "content_source",
    "notion_page_id",
    "content_hash",
    "file_hash",
    "validated_with",
    "asset_paths",
    "asset_urls",  # {asset path: absolute URL} as the rows hold them (assets/rewrite.py)
)
# (rows_hash, the drift hash, is not among them: Postgres computes it from the rows
# written, as `pipeline status` does to check it: db/deploy.py.)
SECTION_COLUMNS = (
    "section_number",
    "section_type",
    "title",
    "content",
    "media_url",
    "duration_seconds",
    "section_config",
    "completion_criteria",
)
_JSON_COLUMNS = {
    "prerequisites",
    "related_modules",
    "tags",
    "required_components",
    "adaptive_config",
    "learning_objectives",
    "section_config",
    "completion_criteria",
    "asset_paths",
    "asset_urls",
}
# Seed 004's column defaults, used when a file leaves a field out.
_DEFAULTS: dict[str, Any] = {
    "estimated_minutes": 10,
    "prerequisites": [],
    "related_modules": [],
    "tags": [],
    "target_audience": "incoming_students",
    "module_type": "text",
    "required_components": [],
    "difficulty_level": 1,
    "learning_objectives": [],
}
_NOT_CONTENT = frozenset({"$schema", "metadata"})


def content_hash(module: Mapping[str, Any]) -> str:
    """sha256 of the canonical JSON of the deployed fields: "sha256:<64 hex>"."""
    import hashlib  # here: `pipeline validate` imports this module but hashes nothing

    deployed = module
    # A copy only when there is something to leave out (or a Mapping that is no dict):
    # the same keys and values, so the same sorted JSON either way.
    if type(module) is not dict or not _NOT_CONTENT.isdisjoint(module):
        deployed = {k: v for k, v in module.items() if k not in _NOT_CONTENT}
    canonical = orjson.dumps(deployed, option=orjson.OPT_SORT_KEYS)
    return "sha256:" + hashlib.sha256(canonical).hexdigest()


def _row(
    values: Mapping[str, Any], columns: Sequence[str], json_at: Sequence[int]
) -> tuple[Any, ...]:
    """`values` in `columns` order, JSON columns as JSON text (COPY sends text)."""
    row = list(map(values.get, columns))
    for index in json_at:
        if row[index] is not None:
            row[index] = orjson.dumps(row[index]).decode()
    return tuple(row)


def _json_at(columns: Sequence[str]) -> tuple[int, ...]:
    return tuple(i for i, column in enumerate(columns) if column in _JSON_COLUMNS)


_MODULE_JSON_AT = _json_at(MODULE_COLUMNS)
_SECTION_JSON_AT = _json_at(SECTION_COLUMNS)


def _section_row(section: Mapping[str, Any]) -> tuple[Any, ...]:
    """_row(section, SECTION_COLUMNS, _SECTION_JSON_AT), spelt out: it runs for every
    section deploy writes, and takes a third less time so (tests/unit/test_records.py
    holds the two equal)."""
    get = section.get
    config, criteria = get("section_config"), get("completion_criteria")
    return (
        get("section_number"),
        get("section_type"),
        get("title"),
        get("content"),
        get("media_url"),
        get("duration_seconds"),
        None if config is None else orjson.dumps(config).decode(),
        None if criteria is None else orjson.dumps(criteria).decode(),
    )


class ModuleRows(NamedTuple):
    """One module as rows: values in MODULE_COLUMNS / SECTION_COLUMNS order."""

    module_id: str
    status: str  # database status
    content_hash: str
    file_hash: str | None
    row: tuple[Any, ...]
    sections: tuple[tuple[Any, ...], ...]
    university_id: str | None
    created_by_id: str | None


def to_record(
    module: Mapping[str, Any],
    *,
    file_hash: str | None = None,
    validated_with: str | None = None,
    asset_paths: Sequence[str] = (),
) -> ModuleRows:
    """The rows for a module; file_hash and friends let later deploys trust the file."""
    digest = content_hash(module)
    values = {
        **_DEFAULTS,
        **module,
        "status": DB_STATUS[module["status"]],
        "content_hash": digest,
        "file_hash": file_hash,
        "validated_with": validated_with,
        "asset_paths": list(asset_paths),
    }
    row = _row(values, MODULE_COLUMNS, _MODULE_JSON_AT)
    sections = tuple(map(_section_row, module["sections"]))
    return ModuleRows(
        module["module_id"],
        values["status"],
        digest,
        file_hash,
        row,
        sections,
        module.get("university_id"),
        module.get("created_by_id"),
    )


def _order(data: Mapping[str, Any], keys: Sequence[str]) -> dict[str, Any]:
    ordered = {k: data[k] for k in keys if k in data}
    ordered.update((k, v) for k, v in data.items() if k not in ordered)
    return ordered


def file_text(module: Mapping[str, Any], schema: Mapping[str, Any]) -> str:
    """A module file's canonical text: keys in schema order, 2-space indent, final newline.

    The same module always gives the same bytes, so an export that changes
    nothing produces no diff.
    """
    defs = schema["$defs"]
    top = _order(module, list(schema["properties"]))
    top["sections"] = [
        _order(s, list(defs["section"]["properties"])) for s in module.get("sections", [])
    ]
    if "metadata" in top:
        top["metadata"] = _order(top["metadata"], list(defs["metadata"]["properties"]))
    return orjson.dumps(top, option=orjson.OPT_INDENT_2).decode() + "\n"
