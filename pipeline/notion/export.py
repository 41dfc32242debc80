"""`pipeline export`: Ready pages of the Module Library -> data/modules/<module_id>.json.

Each page is converted on its own: a page that cannot be exported is
reported (on its Notion row and in the summary) and the others still export.
Nothing is written for a page whose file would not pass `pipeline validate`;
files are written atomically. The same Notion content always gives the same
bytes: `exported_at` is the page's last edit time and `revision` moves only
when the content hash does.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

import httpx
from notion_client.helpers import extract_notion_id

from pipeline.assets.unused import asset_files, unused_assets, used_assets
from pipeline.config import NotionSettings, url_problem
from pipeline.errors import ContentError, PipelineError, ServiceError, UsageError
from pipeline.files import atomic_move, atomic_write, read_json_object
from pipeline.layout import (
    ASSET_MANIFEST,
    EXPORT_CURSOR,
    LAST_EXPORT,
    MODULES_DIR,
    asset_dir,
    module_file,
)
from pipeline.modules import checks
from pipeline.modules.problems import Problem
from pipeline.modules.records import content_hash, file_text
from pipeline.modules.schema import load_schema
from pipeline.modules.validate import asset_present, check_document, summarise, validate_paths
from pipeline.notion.api import NotionAPI
from pipeline.notion.markdown import Block, Skipped, external_or_hosted_url, notion_url
from pipeline.notion.outline import holds_sections
from pipeline.notion.page import (
    content_page_id,
    convert_page,
    module_id_of,
    page_title,
    property_value,
)
from pipeline.notion.report import (
    OPERATOR,
    Origins,
    PageError,
    describe,
    guide_base,
    guide_link,
    left_out_message,
    row_message,
)
from pipeline.notion.row import Memory, Rows

PageOutcome = Literal["exported", "unchanged", "failed", "checked"]
_LOG = logging.getLogger(__name__)


@dataclass
class PageResult:
    page_id: str
    title: str
    module_id: str | None
    outcome: PageOutcome
    message: str = ""
    skipped: list[Skipped] = field(default_factory=list)
    # A page in one of notion.check_statuses (In Review): checked, never written.
    check: bool = False
    # A failure: each problem in the team lead's words, why it failed (report.FailureKind:
    # when the page is read again) and the part of the authoring guide that explains it.
    problems: list[str] = field(default_factory=list)
    kind: str = ""
    guide: str = ""
    # Files of data/assets/<module_id>/ the module no longer uses: removed with this
    # export (listed, not removed, in a dry run), so the PR carries the removal.
    removed: list[str] = field(default_factory=list)


@dataclass
class ExportReport:
    results: list[PageResult] = field(default_factory=list)
    requests: int = 0
    rate_limited: int = 0

    def count(self, outcome: PageOutcome) -> int:
        """Ready pages (those exported) with this outcome."""
        return sum(r.outcome == outcome and not r.check for r in self.results)

    def checks(self, outcome: PageOutcome) -> int:
        """Pages checked before Ready (notion.check_statuses) with this outcome."""
        return sum(r.outcome == outcome and r.check for r in self.results)


@dataclass
class _Candidate:
    page: dict[str, Any]
    module_id: str
    text: str
    module: dict[str, Any]
    assets: dict[str, Path]  # repo path -> the downloaded file (in the staging folder)
    manifest: dict[str, dict[str, str]]
    skipped: list[Skipped]
    check: bool = False
    origins: Origins = field(default_factory=Origins)


def export_pages(
    settings: NotionSettings,
    root: Path,
    *,
    dry_run: bool = False,
    full: bool = False,
    module_id: str | None = None,
    page_id: str | None = None,
    progress: Callable[[str, int, int], None] | None = None,
) -> ExportReport:
    """`pipeline export`: NOTION_TOKEN (and NOTION_API_BASE_URL) from the environment."""
    if module_id and page_id:
        raise UsageError("give --module or --page, not both")
    api = NotionAPI.from_environment(per_second=settings.requests_per_second)
    exporter = Exporter(api, settings, root, dry_run=dry_run, progress=progress)
    return exporter.run(full=full, module_id=module_id, page_id=page_id)


class Exporter:
    def __init__(
        self,
        api: NotionAPI,
        settings: NotionSettings,
        root: Path,
        *,
        dry_run: bool = False,
        download: Callable[[str, Path, int], Download] | None = None,
        progress: Callable[[str, int, int], None] | None = None,
    ) -> None:
        self.api, self.settings, self.root, self.dry_run = api, settings, root, dry_run
        self.modules_dir = root / MODULES_DIR
        self.download = download or download_file
        self.max_file_bytes = int(settings.max_file_mb * MIB)
        self.progress = progress or (lambda _title, _done, _total: None)
        self.staging = Path(tempfile.gettempdir())  # a folder of the run's own, in run()
        self.memory = Memory()
        self.source_id = ""
        self.explicit_page = False
        self.status_options: set[str] = set()  # the Status property's options, when it lists them
        self.guide = guide_base(settings)

    # -- the run ---------------------------------------------------------------------------

    def run(
        self, *, full: bool = False, module_id: str | None = None, page_id: str | None = None
    ) -> ExportReport:
        # Downloads wait here, on disk, until their page is written; whatever is left
        # (refused, or of a page that failed) goes with the folder.
        with tempfile.TemporaryDirectory(prefix="pipeline-export-") as staging:
            self.staging = Path(staging)
            return self._run(full=full, module_id=module_id, page_id=page_id)

    def _run(self, *, full: bool, module_id: str | None, page_id: str | None) -> ExportReport:
        started = datetime.now(UTC)
        self.source_id = self.settings.data_source_id or self.api.data_source_id(
            self._database_id()
        )
        schema = self.api.data_source(self.source_id).get("properties", {})
        self._check_properties(schema)
        status = schema[self.settings.properties["status"]]
        self.status_options = {
            str(o.get("name")) for o in (status.get(status["type"]) or {}).get("options") or []
        }
        self.memory = Memory.load(self.root / EXPORT_CURSOR)
        incremental = not (full or module_id or page_id)
        cursor = self.memory.cursor if incremental else None
        self.explicit_page = bool(page_id)
        if page_id:
            pages = [self.api.page(page_id)]
        else:
            pages = list(self._ready_pages(schema, cursor, module_id))
        if incremental:
            pages += self._read_again(cursor, {p["id"] for p in pages})
            # A page that failed on its content is not read again until it is edited (our
            # own "Export Error" update is remembered as its edit).
            pages = [p for p in pages if self.memory.failed.get(p["id"]) != edit_stamp(p)]
        report = ExportReport()
        candidates = self._convert_all(pages, report)
        self._cross_check(candidates, report)
        for candidate in candidates.values():
            removed = [] if candidate.check else self._write(candidate)
            report.results.append(
                PageResult(
                    candidate.page["id"],
                    page_title(candidate.page),
                    candidate.module_id,
                    "checked" if candidate.check else "exported",
                    skipped=candidate.skipped,
                    check=candidate.check,
                    removed=removed,
                )
            )
        if not self.dry_run:
            self._write_back(report, schema, {p["id"]: p for p in pages})
            if not (module_id or page_id):
                self.memory.cursor = (started - timedelta(minutes=1)).strftime(
                    "%Y-%m-%dT%H:%M:00.000Z"
                )
            self.memory.save(self.root / EXPORT_CURSOR)
            checked = sorted(
                {
                    r.module_id
                    for r in report.results
                    if r.module_id and r.outcome != "failed" and not r.check
                }
            )
            atomic_write(
                self.root / LAST_EXPORT, (json.dumps({"checked": checked}) + "\n").encode()
            )
        report.requests = self.api.stats.requests
        report.rate_limited = self.api.stats.rate_limited
        return report

    def _database_id(self) -> str:
        if not self.settings.database_id:
            raise UsageError(
                "pipeline.yaml has no notion.database_id; set it to the id of "
                "the Module Library database"
            )
        return self.settings.database_id

    def _check_properties(self, schema: dict[str, Any]) -> None:
        props = self.settings.properties
        for key in ("status", "module_id"):
            if props[key] not in schema:
                raise UsageError(
                    f"the Module Library has no property {props[key]!r}; rename "
                    f"notion.properties.{key} in pipeline.yaml to match"
                )

    def _statuses(self, module_id: str | None = None) -> list[str]:
        """The statuses asked for: Ready, and (but for --module) those checked before it
        that the Status property has (Notion refuses a filter on a status it does not)."""
        checks = [] if module_id else list(self.settings.check_statuses)
        if self.status_options:
            checks = [c for c in checks if c in self.status_options]
        return list(dict.fromkeys([self.settings.ready_status, *checks]))

    def _status(self, page: dict[str, Any]) -> str | None:
        value = property_value(page, self.settings.properties["status"])
        return str(value) if value is not None else None

    def _is_check(self, page: dict[str, Any]) -> bool:
        status = self._status(page)
        return (
            not self.explicit_page
            and status != self.settings.ready_status
            and status in self.settings.check_statuses
        )

    def _ready_pages(
        self, schema: dict[str, Any], cursor: str | None, module_id: str | None
    ) -> Iterator[dict[str, Any]]:
        status_name = self.settings.properties["status"]
        kind = schema[status_name]["type"]
        statuses = [
            {"property": status_name, kind: {"equals": s}} for s in self._statuses(module_id)
        ]
        rules: list[dict[str, Any]] = [statuses[0] if len(statuses) == 1 else {"or": statuses}]
        if cursor:
            rules.append(
                {"timestamp": "last_edited_time", "last_edited_time": {"on_or_after": cursor}}
            )
        if module_id:
            id_name = self.settings.properties["module_id"]
            rules.append({"property": id_name, schema[id_name]["type"]: {"equals": module_id}})
        yield from self.api.query(
            self.source_id,
            filter={"and": rules},
            sorts=[{"timestamp": "last_edited_time", "direction": "ascending"}],
        )

    def _read_again(self, cursor: str | None, asked: set[str]) -> list[dict[str, Any]]:
        """Pages the query did not bring that must be read: those that failed last time for
        a reason outside the page, and rows whose content page was edited since."""
        wanted = set(self._statuses())
        ids = [p for p in self.memory.retry if p not in asked]
        if cursor and self.memory.content_pages:
            edited = {_plain_id(str(p["id"])) for p in self.api.edited_since(cursor) if p.get("id")}
            ids += [
                row
                for content, row in sorted(self.memory.content_pages.items())
                if content in edited and row not in asked and row not in ids
            ]
        found = []
        for page_id in ids:
            try:
                page = self.api.page(page_id)
            except PipelineError:
                continue  # gone or not shared any more: nothing to export; tried next run
            trashed = page.get("in_trash") or page.get("archived")
            if not trashed and self._status(page) in wanted:
                found.append(page)
        return found

    # -- reading and converting --------------------------------------------------------------

    def _content(self, page: dict[str, Any]) -> list[Block]:
        """The blocks a page's module is made of: its own, and those of the page it takes
        its content from (the "Content Page" property, or links to pages in a body that
        has no sections of its own)."""
        blocks: list[Block] = list(self.api.block_tree(page["id"]))
        linked = content_page_id(page, self.settings)
        row = _plain_id(str(page["id"]))
        if linked:
            if holds_sections(blocks):
                raise PageError(
                    page["id"],
                    "the sections are both on this page and on its Content Page; keep them "
                    "in one place (the Content Page, or this page with the property emptied)",
                    guide="content-on-another-page",
                )
            self.memory.content_pages[linked] = row
            return blocks + self._linked_blocks(page, linked, "the Content Page")
        if holds_sections(blocks):
            return blocks
        expanded: list[Block] = []
        for block in blocks:
            target = _linked_page(block)
            if target is None or self._is_module_page(block, target):
                expanded.append(block)
                continue
            self.memory.content_pages[target] = row
            expanded += self._linked_blocks(page, target, "the linked page")
        return expanded

    def _linked_blocks(self, page: dict[str, Any], target: str, what: str) -> list[Block]:
        try:
            return list(self.api.block_tree(target))
        except UsageError as exc:
            raise PageError(
                page["id"],
                f"{what} ({notion_url(target)}) cannot be read: {exc}. Share that page with "
                "the pipeline's integration (••• → Connections)",
                kind="operator",
                guide="content-on-another-page",
            ) from None

    def _is_module_page(self, block: Block, target: str) -> bool:
        """Whether a linked page is a page of the Module Library (a link to that module,
        not content): a child page never is."""
        if block.get("type") == "child_page":
            return False
        try:
            linked = self.api.page(target)
        except PipelineError:
            return False  # reported when its blocks cannot be read
        parent = linked.get("parent") or {}
        ours = (self.source_id, self.settings.database_id or "")
        return any(
            _plain_id(str(parent.get(key) or "")) in {_plain_id(o) for o in ours if o}
            for key in ("data_source_id", "database_id")
        )

    def _convert_all(
        self, pages: list[dict[str, Any]], report: ExportReport
    ) -> dict[str, _Candidate]:
        existing = self._existing_page_ids()
        ids_by_page = dict(existing)
        owners: dict[str, list[str]] = {}  # module id -> Ready pages
        checked: dict[str, list[str]] = {}  # module id -> pages checked before Ready
        contents: dict[str, list[Block] | PipelineError] = {}
        for page in pages:
            blocks = None
            if not property_value(page, self.settings.properties["module_id"]):
                # The Module ID may be in the body's Metadata list: read the body now.
                try:
                    blocks = self._content(page)
                except PipelineError as exc:
                    contents[page["id"]] = exc
                    continue
                contents[page["id"]] = blocks
            try:
                module_id = module_id_of(page, self.settings, blocks)
            except Exception:  # noqa: S112 - reported when the page itself is converted
                continue
            ids_by_page[page["id"]] = module_id
            (checked if self._is_check(page) else owners).setdefault(module_id, []).append(
                page["id"]
            )
        candidates: dict[str, _Candidate] = {}
        for done, page in enumerate(pages, 1):
            title = _title(page)
            self.progress(title or page["id"], done, len(pages))
            check = self._is_check(page)
            try:
                content = contents.get(page["id"])
                if isinstance(content, PipelineError):
                    raise content
                others = owners if not check else _merged(owners, checked)
                candidate = self._convert(page, content, ids_by_page, others, existing, check=check)
            except PipelineError as exc:
                failure = _failure(exc)
            except Exception as exc:  # a bug: this page's failure, not the run's
                failure = _failure(
                    PageError(page["id"], _internal_error(page["id"], exc), kind="operator")
                )
            else:
                if candidate is None:
                    report.results.append(
                        PageResult(page["id"], title, ids_by_page[page["id"]], "unchanged")
                    )
                else:
                    candidates[page["id"]] = candidate
                continue
            report.results.append(
                PageResult(
                    page["id"],
                    title,
                    ids_by_page.get(page["id"]),
                    "failed",
                    "; ".join(failure[0]),
                    check=check,
                    problems=failure[0],
                    kind=failure[1],
                    guide=failure[2],
                )
            )
        return candidates

    def _existing_page_ids(self) -> dict[str, str]:
        """notion_page_id -> module_id of the module files already in the repository."""
        found = {}
        if self.modules_dir.is_dir():
            for path in self.modules_dir.glob("*.json"):
                page_id = (read_json_object(path) or {}).get("notion_page_id")
                if isinstance(page_id, str):
                    found[_normal_id(page_id)] = path.stem
        return found

    def _convert(
        self,
        page: dict[str, Any],
        blocks: list[Block] | None,
        ids_by_page: dict[str, str],
        owners: dict[str, list[str]],
        existing: dict[str, str],
        *,
        check: bool = False,
    ) -> _Candidate | None:
        page_id = page["id"]
        if blocks is None:
            blocks = self._content(page)
        module_id = module_id_of(page, self.settings, blocks)
        others = [p for p in owners.get(module_id, []) if p != page_id]
        others += [p for p, m in existing.items() if m == module_id and p != _normal_id(page_id)]
        if others:
            raise PageError(
                page_id,
                f"Module ID {module_id!r} is also used by the page "
                f"{others[0]}; each module needs its own Module ID",
                guide="module-id",
                kind="cross",
            )
        resolver = _AssetResolver(self, module_id)
        converted = convert_page(
            page,
            blocks,
            self.settings,
            resolve_file=resolver,
            module_ids_by_page=ids_by_page,
        )
        module = converted.module
        path = self.modules_dir / f"{module_id}.json"
        previous = read_json_object(path)
        digest = content_hash(module)
        if previous is not None and content_hash(previous) == digest and not check:
            return None
        old_revision = (previous or {}).get("metadata", {}).get("revision", 0)
        module["metadata"] = {
            "revision": int(old_revision) + 1 if isinstance(old_revision, int) else 1,
            "exported_at": _utc(page["last_edited_time"]),
            "exported_by": self.settings.exported_by,
            "content_hash": digest,
        }
        text = file_text(module, load_schema())
        display = module_file(module_id)
        problems, _refs = check_document(
            module,
            text,
            display,
            module_id,
            str(self.root),
            present=lambda root, path: asset_present(root, path) or path in resolver.pending,
        )
        errors = [p for p in problems if p.is_error]
        if errors:
            described = [describe(p, converted.origins, module) for p in errors]
            raise PageError(
                page_id,
                "; ".join(str(d) for d in described),
                guide=described[0].guide,
                lines=[str(d) for d in described],
            )
        return _Candidate(
            page,
            module_id,
            text,
            module,
            resolver.pending,
            resolver.manifest,
            converted.skipped,
            check,
            converted.origins,
        )

    def _cross_check(self, candidates: dict[str, _Candidate], report: ExportReport) -> None:
        """References and prerequisite cycles against the rest of the tree."""
        if not candidates:
            return
        summaries: dict[str, checks.ModuleRefs] = {}
        if self.modules_dir.is_dir() and any(self.modules_dir.glob("*.json")):
            for result in validate_paths([self.modules_dir]).results:
                if result.module is not None:
                    summaries[result.module.module_id] = result.module
        by_module = {c.module_id: c for c in candidates.values() if not c.check}
        by_module.update(
            (c.module_id, c)
            for c in candidates.values()
            if c.check and c.module_id not in by_module
        )
        for module_id, candidate in by_module.items():
            summaries[module_id] = summarise(candidate.module, module_file(module_id))
        known = set(summaries) | {p.stem for p in self.modules_dir.glob("*.json")}
        failing: dict[str, list[Problem]] = {}
        for problem in checks.cross_file_checks(list(summaries.values()), known):
            module_id = Path(problem.file).stem
            if module_id in by_module and problem.is_error:
                failing.setdefault(module_id, []).append(problem)
        for module_id, problems in failing.items():
            candidate = by_module[module_id]
            candidates.pop(candidate.page["id"])
            lines = [str(describe(p, candidate.origins, candidate.module)) for p in problems]
            report.results.append(
                PageResult(
                    candidate.page["id"],
                    page_title(candidate.page),
                    module_id,
                    "failed",
                    "; ".join(lines),
                    check=candidate.check,
                    problems=lines,
                    kind="cross",
                    guide="links-to-other-modules",
                )
            )

    # -- writing -----------------------------------------------------------------------------

    def _write(self, candidate: _Candidate) -> list[str]:
        """Write the module file and its new downloads, then remove the files of its asset
        folder that nothing uses any more; return those (a dry run only lists them)."""
        unused = self._unused_assets(candidate)
        if self.dry_run:
            return unused
        for relative, downloaded in candidate.assets.items():
            atomic_move(downloaded, self.root / relative)
        gone = set(unused)
        manifest = {
            block: entry
            for block, entry in candidate.manifest.items()
            if entry.get("path") not in gone
        }
        manifest_file = self.root / asset_dir(candidate.module_id) / ASSET_MANIFEST
        if manifest:
            atomic_write(
                manifest_file, (json.dumps(manifest, indent=2, sort_keys=True) + "\n").encode()
            )
        elif manifest_file.is_file() and not manifest_file.is_symlink():
            manifest_file.unlink()
        atomic_write(self.modules_dir / f"{candidate.module_id}.json", candidate.text.encode())
        for path in unused:
            (self.root / path).unlink(missing_ok=True)
        _remove_empty_folders(self.root / asset_dir(candidate.module_id))
        return unused

    def _unused_assets(self, candidate: _Candidate) -> list[str]:
        """Files of the module's asset folder that neither it nor any other module file
        names (a module may use another's file: that one stays)."""
        module_id = candidate.module_id
        on_disk = asset_files(self.root, module_id)
        unused = unused_assets(module_id, on_disk, used_assets(candidate.module))
        if not unused:
            return []
        folder = (asset_dir(module_id) + "/").encode()
        elsewhere: set[str] = set()
        for path in sorted(self.modules_dir.glob("*.json")):
            if path.stem == module_id or path.is_symlink():
                continue
            if folder in path.read_bytes():
                try:
                    elsewhere |= used_assets(read_json_object(path) or {})
                except Exception:
                    return []
        return [path for path in unused if path not in elsewhere]

    def _write_back(
        self, report: ExportReport, schema: dict[str, Any], pages: dict[str, dict[str, Any]]
    ) -> None:
        """Tell each row how its page did (notion/row.py), and remember which pages to read
        again. Unchanged rows are not touched."""
        rows = Rows(self.api, self.settings, schema, self.memory)
        for result in report.results:
            page = pages.get(result.page_id) or {"id": result.page_id, "properties": {}}
            guide = guide_link(self.guide, result.guide)
            if result.outcome == "failed":
                lines = result.problems or [result.message]
                message = row_message(lines, check=result.check, guide=guide)
            else:  # exported: the row still hears of anything of the page left out
                message = left_out_message(result.skipped, check=result.check, guide=guide)
            try:
                page = rows.tell(page, message, check=result.check)
            except PipelineError as exc:  # the page still failed for its own reason
                result.message += f" (could not tell Notion: {exc})"
                if result.outcome == "failed":
                    self._remember(result, None, told=False)
                continue
            self._remember(result, page, told=bool(message))

    def _remember(self, result: PageResult, page: dict[str, Any] | None, *, told: bool) -> None:
        """Which pages to read again: one that failed for a reason outside it, next run;
        one whose content is the reason (it failed, or exported with a note on its row),
        once it is edited, and not for the pipeline's own update of its row."""
        memory, page_id = self.memory, result.page_id
        memory.failed.pop(page_id, None)
        if page_id in memory.retry:
            memory.retry.remove(page_id)
        stamped = page is not None and bool(page.get("last_edited_time"))
        if result.outcome != "failed":
            if told and page is not None and stamped:  # our note is the page's last edit
                memory.failed[page_id] = edit_stamp(page)
            return
        if result.kind == "content" and page is not None and stamped:
            memory.failed[page_id] = edit_stamp(page)
        else:
            memory.retry.append(page_id)


def edit_stamp(page: dict[str, Any]) -> str:
    """When and by whom a page was last edited. Notion gives minutes, so the editor tells a
    team lead's edit from the pipeline's own update of the row in the same minute."""
    editor = (page.get("last_edited_by") or {}).get("id") or ""
    return f"{page.get('last_edited_time', '')} {editor}".strip()


def _failure(exc: PipelineError) -> tuple[list[str], str, str]:
    """(the problems in the team lead's words, why it failed, the guide's part)."""
    if isinstance(exc, PageError):
        return exc.lines, exc.kind, exc.guide
    if isinstance(exc, ServiceError):
        return [f"{exc}; the next export tries again"], "transient", ""
    if isinstance(exc, UsageError):
        return [OPERATOR + str(exc)], "operator", "for-operators"
    return [str(exc)], "content", ""


def _merged(a: dict[str, list[str]], b: dict[str, list[str]]) -> dict[str, list[str]]:
    merged = {k: list(v) for k, v in a.items()}
    for key, value in b.items():
        merged.setdefault(key, []).extend(value)
    return merged


def _linked_page(block: Block) -> str | None:
    """The page a link-to-page or child-page block leads to, as 32 hex digits."""
    kind = block.get("type")
    if kind == "child_page":
        return _plain_id(str(block["id"]))
    if kind == "link_to_page":
        payload = block.get("link_to_page") or {}
        if payload.get("type") == "page_id":
            return _plain_id(str(payload["page_id"]))
    return None


def _remove_empty_folders(top: Path) -> None:
    """Folders left empty under `top` (and `top` itself) go, deepest first: git does not
    keep them, and the next export should not find them."""
    if not top.is_dir() or top.is_symlink():
        return
    for here, _folders, _names in sorted(os.walk(top), key=lambda w: -len(w[0])):
        with contextlib.suppress(OSError):  # not empty: it stays
            os.rmdir(here)


def _plain_id(page_id: str) -> str:
    return page_id.replace("-", "").lower()


class _AssetResolver:
    """Maps file blocks to repo paths, downloading Notion-hosted files once."""

    def __init__(self, exporter: Exporter, module_id: str) -> None:
        self.exporter, self.module_id = exporter, module_id
        self.directory = asset_dir(module_id)
        self.manifest: dict[str, dict[str, str]] = (
            read_json_object(exporter.root / self.directory / ASSET_MANIFEST) or {}
        )
        self.pending: dict[str, Path] = {}

    def __call__(self, block: Block) -> str:
        payload = block[block["type"]]
        if payload.get("type") != "file":
            return external_or_hosted_url(block)
        known = self.manifest.get(block["id"])
        if (
            known
            and known.get("last_edited_time") == block.get("last_edited_time")
            and (self.exporter.root / known["path"]).is_file()
        ):
            return known["path"]
        block_id = str(block.get("id", "?"))
        url = str((payload.get("file") or {}).get("url") or "")
        problem = url_problem(url)
        if problem:
            raise PageError(
                block_id,
                f"the file of block {block_id} has a link from Notion that cannot "
                f"be downloaded ({problem}); upload the file again in Notion, then export again",
                guide="pictures-videos-and-files",
            )
        try:
            downloaded = self.exporter.download(
                url, self.exporter.staging, self.exporter.max_file_bytes
            )
        except FileRefused as exc:
            raise PageError(
                block_id, f"the file of block {block_id} {exc}", guide="pictures-videos-and-files"
            ) from None
        except (httpx.HTTPError, OSError) as exc:
            raise PageError(
                block_id,
                f"could not download the file of block {block_id} ({exc}); the next export "
                "tries again",
                kind="transient",
            ) from None
        path = f"{self.directory}/{downloaded.digest[:16]}{_suffix(url, downloaded.content_type)}"
        self.pending[path] = downloaded.path
        self.manifest[block["id"]] = {
            "last_edited_time": str(block.get("last_edited_time")),
            "path": path,
        }
        return path


# -- downloading Notion-hosted files ------------------------------------------------------------

MIB = 1024 * 1024
# The types a module's files may have, each with the file name endings that fit it (the
# first is the one given to a file whose name does not fit).
FILE_TYPES: dict[str, tuple[str, ...]] = {
    "image/png": (".png",),
    "image/jpeg": (".jpg", ".jpeg", ".jpe"),
    "image/gif": (".gif",),
    "image/webp": (".webp",),
    "image/svg+xml": (".svg",),
    "video/mp4": (".mp4", ".m4v"),
    "video/webm": (".webm",),
    "audio/mpeg": (".mp3", ".mpga"),
    "audio/ogg": (".ogg", ".oga", ".opus"),
    "audio/wav": (".wav",),
    "audio/wave": (".wav",),
    "audio/x-wav": (".wav",),
    "application/pdf": (".pdf",),
    "text/vtt": (".vtt",),
    "text/plain": (".txt", ".text"),
}
_TYPE_OF_SUFFIX = {
    suffix: kind for kind, suffixes in reversed(FILE_TYPES.items()) for suffix in suffixes
}
# What a server says when it does not know: then the file's name tells.
_GENERIC_TYPES = ("", "application/octet-stream", "binary/octet-stream")
_ALLOWED_IN_WORDS = (
    "images (PNG, JPEG, GIF, WebP, SVG), video (MP4, WebM), audio (MP3, OGG, WAV), PDF, "
    "subtitles (VTT) and plain text"
)


class FileRefused(Exception):
    """A hosted file the export will not take; the message continues "the file of block
    X ..." and says what to do."""


@dataclass(frozen=True)
class Download:
    path: Path  # a temporary file, whole
    digest: str  # sha256, hex
    size: int
    content_type: str


def download_file(url: str, into: Path, max_bytes: int) -> Download:
    """Stream `url` to a new file in `into`, hashing it on the way; refuse (FileRefused)
    a type outside FILE_TYPES, or more than `max_bytes`, before or while it comes.
    Nothing of a refused or failed download is left behind."""
    limit = f"{max_bytes / MIB:g} MB"
    with httpx.stream("GET", url, timeout=60, follow_redirects=True) as response:
        response.raise_for_status()
        kind = _content_type(response.headers.get("content-type", ""), url)
        if kind not in FILE_TYPES:
            raise FileRefused(
                f"is of type {kind or 'unknown'}, which a module cannot hold; it can hold "
                f"{_ALLOWED_IN_WORDS}. Save the file as one of those, upload it again in "
                "Notion, then export again"
            )
        declared = response.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > max_bytes:
            raise FileRefused(
                f"is {_megabytes(int(declared))}, more than the {limit} a file may have "
                f"(notion.max_file_mb in pipeline.yaml); {_TOO_BIG}"
            )
        handle, temporary = tempfile.mkstemp(dir=into, prefix="download-")
        digest, size = hashlib.sha256(), 0
        try:
            with os.fdopen(handle, "wb") as out:
                for chunk in response.iter_bytes(1 << 16):
                    size += len(chunk)
                    if size > max_bytes:
                        raise FileRefused(
                            f"is more than the {limit} a file may have (notion.max_file_mb "
                            f"in pipeline.yaml); {_TOO_BIG}"
                        )
                    digest.update(chunk)
                    out.write(chunk)
                out.flush()
                os.fsync(out.fileno())
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
    return Download(Path(temporary), digest.hexdigest(), size, kind)


_TOO_BIG = (
    "make it smaller (compress the video or image) or put it on a video or file site and "
    "link to it (an embed or an external link), then export again"
)


def _megabytes(size: int) -> str:
    return f"{size / MIB:.0f} MB" if size >= 10 * MIB else f"{size / MIB:.1f} MB"


def _content_type(header: str, url: str) -> str:
    kind = header.split(";", 1)[0].strip().lower()
    if kind in _GENERIC_TYPES:
        return _TYPE_OF_SUFFIX.get(Path(urlsplit(url).path).suffix.lower(), kind)
    return kind


def _suffix(url: str, kind: str) -> str:
    """The file's name ending in data/assets: the URL's when it fits the type (as before),
    else the type's own; never one a web server would treat as a page or a program."""
    suffix = Path(urlsplit(url).path).suffix.lower()
    fitting = FILE_TYPES.get(kind, ("",))
    return suffix if suffix in fitting else fitting[0]


def _title(page: dict[str, Any]) -> str:
    """The page's title; "" for a page too odd to have one (it fails on its own later)."""
    try:
        return page_title(page)
    except Exception:
        return ""


def _internal_error(page_id: str, exc: Exception) -> str:
    """A bug met on one page, in words for the team lead; its type for the operator, and
    the traceback only with PIPELINE_DEBUG=1 (never for a team lead)."""
    kind = type(exc).__name__
    _LOG.warning(
        "page %s: internal error (%s) while exporting; this is a bug in the pipeline",
        page_id,
        kind,
        exc_info=bool(os.environ.get("PIPELINE_DEBUG")),
    )
    return (
        f"the pipeline hit an internal error ({kind}) on this page: this is a bug in the "
        "pipeline, not a mistake on the page. Other pages export as usual; the pipeline's "
        "maintainers must fix it (run with PIPELINE_DEBUG=1 to see where)"
    )


def _normal_id(page_id: str) -> str:
    """A page id in Notion's dashed form, however it was written."""
    return extract_notion_id(page_id) or page_id


def _utc(timestamp: str) -> str:
    """Notion's '2025-11-26T14:30:00.000Z' as the schema's '2025-11-26T14:30:00Z'."""
    return timestamp.split(".", maxsplit=1)[0].rstrip("Z") + "Z"


def require_success(report: ExportReport) -> None:
    """Exit 1 when a Ready page failed; problems of pages checked before Ready are on
    their rows, for their team leads, and fail nothing."""
    failed = [r for r in report.results if r.outcome == "failed" and not r.check]
    if failed:
        ready = sum(not r.check for r in report.results)
        raise ContentError(
            f"{len(failed)} of {ready} pages could not be exported; see the table above"
        )
