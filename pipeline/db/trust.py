"""Validation as deploy runs it: files the database already holds are trusted, not reparsed.

A module row remembers the git blob id of the file it was deployed from and a
fingerprint of the validator that passed it. A file with the same bytes, judged
by the same validator, would pass the same per-file checks again, so deploy
skips them (its assets and cross-module references are still checked): that is
what makes one change among 10,000 modules deploy in under a second. When git
knows a file's blob id, a trusted file is not even opened.
"""

from __future__ import annotations

import hashlib
import os
import sys
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from functools import cache, partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

import orjson
import psycopg

from pipeline.git import blob_id, known_blob_ids
from pipeline.layout import MODULE_SCHEMA, schema_file
from pipeline.modules import checks, parse, records, schema, validate
from pipeline.modules.parse import read_bytes
from pipeline.modules.records import ModuleRows, to_record
from pipeline.modules.validate import AssetCheck, FileResult, Report

if TYPE_CHECKING:
    from concurrent.futures import ProcessPoolExecutor


class Trusted(NamedTuple):
    """A file the database says it deployed from these exact bytes, validated by this
    same validator: its per-file checks passed then and would pass now."""

    file_hash: str
    prerequisites: tuple[str, ...]
    related_modules: tuple[str, ...]
    assets: tuple[str, ...]
    notion_page_id: str | None


@cache
def validator_fingerprint() -> str:
    """Changes whenever the schema (with its interactive components) or the code that
    judges or maps a file changes."""
    main = schema_file(MODULE_SCHEMA)
    digest = hashlib.sha256(main.read_bytes())
    for component in sorted((main.parent / schema.COMPONENTS_DIR).glob("*.json")):
        digest.update(component.name.encode() + b"\0" + component.read_bytes())
    for module in (checks, records, parse, schema, validate, sys.modules[__name__]):
        digest.update(Path(str(module.__file__)).read_bytes())
    return digest.hexdigest()


TRUSTED = (
    "SELECT module_id, file_hash, prerequisites::text, related_modules::text, "
    "asset_paths::text, notion_page_id FROM modules WHERE validated_with = %s "
    "AND file_hash IS NOT NULL AND status <> 'archived'"
)


def read_trusted(conn: psycopg.Connection) -> dict[str, Trusted]:
    """What the database vouches for, by module id."""
    return trusted_from(conn.execute(TRUSTED, (validator_fingerprint(),)))


def trusted_from(rows: Iterable[Sequence[Any]]) -> dict[str, Trusted]:
    """read_trusted from the rows of TRUSTED (deploy sends it with its other reads)."""
    return {
        module_id: Trusted(
            file_hash,
            tuple(orjson.loads(prerequisites or "[]")),
            tuple(orjson.loads(related or "[]")),
            tuple(orjson.loads(assets or "[]")),
            page,
        )
        for module_id, file_hash, prerequisites, related, assets, page in rows
    }


def record_for(
    data: dict[str, Any], file_hash: str | None, refs: list[checks.Reference] | None = None
) -> ModuleRows:
    """The database rows of a valid module, marked as validated by this validator."""
    refs = checks.media_references(data) if refs is None else refs
    assets = sorted({checks.asset_file(r.target) for r in refs if r.is_asset})
    return to_record(
        data, file_hash=file_hash, validated_with=validator_fingerprint(), asset_paths=assets
    )


Item = tuple[str, str, Trusted | None, str | None]  # path, display, trusted, git's blob id


def _is_known(item: Item) -> bool:
    _path, _display, trusted, blob = item
    return trusted is not None and trusted.file_hash == blob


def check_for_deploy(item: Item, root_of: Callable[[str], str], present: AssetCheck) -> FileResult:
    """The per-file checks of one file, skipped for a trusted one (its assets still are)."""
    path, display, trusted, _blob = item
    root = root_of(os.path.dirname(path))
    if trusted is not None and _is_known(item):
        return _trusted_result(path, display, trusted, root, present)
    raw, problem = read_bytes(path, display, root)
    if problem is not None:
        return FileResult(path, display, [problem], None, None, [])
    file_hash = blob_id(raw)
    if trusted is not None and trusted.file_hash == file_hash:
        return _trusted_result(path, display, trusted, root, present)
    make = partial(_record_of_valid, file_hash=file_hash)
    return validate.check_bytes(
        raw, path, display, root, present, file_hash=file_hash, make_record=make
    )


def _record_of_valid(
    data: dict[str, Any], refs: list[checks.Reference], *, file_hash: str
) -> ModuleRows:
    return record_for(data, file_hash, refs)


def _trusted_result(
    path: str, display: str, trusted: Trusted, root: str, present: AssetCheck
) -> FileResult:
    stem = os.path.basename(path)[: -len(".json")]
    assets = [("", a) for a in trusted.assets]
    missing = validate.missing_assets(display, assets, root, present)
    known = checks.ModuleRefs(
        display, stem, trusted.prerequisites, trusted.related_modules, trusted.notion_page_id
    )
    return FileResult(path, display, missing, known, stem, [], trusted.file_hash)


def _check_chunk(items: list[Item]) -> list[FileResult]:
    # Caches live for one chunk: modules share assets, so each is looked up once.
    root_of = cache(validate.repo_root)
    present = cache(validate.asset_present)
    return [check_for_deploy(item, root_of, present) for item in items]


def validate_for_deploy(
    files: list[tuple[str, str]],
    trusted: Mapping[str, Trusted],
    pool: ProcessPoolExecutor | None = None,
) -> Report:
    """`pipeline validate` of `files` (path, display: validate.collect), with each valid
    file's rows and blob id, trusting what the database vouches for."""
    return validate.cross_checked(files, list(each_checked_for_deploy(files, trusted, pool)))


def each_checked_for_deploy(
    files: list[tuple[str, str]],
    trusted: Mapping[str, Trusted],
    pool: ProcessPoolExecutor | None = None,
) -> Iterator[FileResult]:
    """The per-file checks of validate_for_deploy, each file's result as it comes (in
    the order of `files`); the checks across files are the caller's
    (validate.cross_checked)."""
    blobs: dict[str, str] = {}
    if trusted:
        for directory in {os.path.dirname(file) for file, _ in files}:
            blobs.update(
                (os.path.join(directory, name), blob)
                for name, blob in known_blob_ids(Path(directory or ".")).items()
            )
    items: list[Item] = [
        (file, display, trusted.get(os.path.basename(file)[: -len(".json")]), blobs.get(file))
        for file, display in files
    ]
    to_read = sum(not _is_known(item) for item in items)
    return validate.each_in_parallel(items, _check_chunk, to_read=to_read, pool=pool)
