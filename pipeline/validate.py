"""`pipeline validate`: read module files, run every check, collect Problems.

This is the I/O edge around the pure checks: it finds files, reads them,
resolves asset paths on disk and (optionally) fetches external URLs. Files
are checked independently, so large sets are spread over all cores; only the
cross-file checks (unique ids, references, cycles) need the whole set.
"""

from __future__ import annotations

import multiprocessing
import os
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from pipeline import checks
from pipeline.errors import UsageError
from pipeline.jsonfile import locate, read_module_file
from pipeline.problems import Problem
from pipeline.schema import schema_problems

DEFAULT_MODULES_DIR = Path("data/modules")
# Below this many files, starting worker processes costs more than it saves.
PARALLEL_MIN_FILES = 400
_CHUNK = 250

UrlChecker = Callable[[Sequence[str]], dict[str, str | None]]


@dataclass
class Report:
    """What validation found. Valid when no problem is an error."""

    files: list[str] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    @property
    def valid(self) -> bool:
        return not any(p.is_error for p in self.problems)

    @property
    def error_count(self) -> int:
        return sum(p.is_error for p in self.problems)

    @property
    def warning_count(self) -> int:
        return len(self.problems) - self.error_count


@dataclass(frozen=True, slots=True)
class FileResult:
    """One file's verdict, small enough to send back from a worker process."""

    display: str
    problems: list[Problem]  # already positioned
    module: checks.Module | None  # set when the file passed the schema
    module_id: str | None
    external_urls: list[tuple[str, str]]  # (pointer, url), for --check-urls


def collect_files(paths: Iterable[Path]) -> list[Path]:
    """Module files named by the user: files as given, directories' *.json sorted."""
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            with os.scandir(path) as entries:
                names = sorted(
                    e.name for e in entries if e.name.endswith(".json") and not e.is_dir()
                )
            found.extend(path / name for name in names)
        elif path.exists() or path.is_symlink():
            found.append(path)
        elif path == DEFAULT_MODULES_DIR:
            raise UsageError(
                f"there is no {DEFAULT_MODULES_DIR}/ here; run from the repository "
                "root or name the files to check"
            )
        else:
            raise UsageError(f"{path}: no such file or directory")
    return list(dict.fromkeys(found))


def display_path(path: Path) -> str:
    """Paths relative to the working directory, as CI annotations need them.

    Symlinks are not resolved: the user should see the name they gave.
    """
    relative = os.path.relpath(os.path.abspath(path))
    return path.as_posix() if relative.startswith("..") else Path(relative).as_posix()


def _display_paths(files: list[Path]) -> list[str]:
    """display_path of each file, computed once per directory (it is slow per file)."""
    shown = cache(display_path)
    return [f.name if shown(f.parent) == "." else f"{shown(f.parent)}/{f.name}" for f in files]


def repo_root(directory: str) -> str:
    """The directory asset paths are relative to: the one holding `data/`."""
    for parent in (Path(directory).resolve(), *Path(directory).resolve().parents):
        if parent.name == "data":
            return str(parent.parent)
    return str(Path.cwd())


def check_file(
    path: str, display: str, root_of: Callable[[str], str], exists: Callable[[str], bool]
) -> FileResult:
    """Every per-file check of one module file."""
    module, problems = read_module_file(Path(path), display)
    if module is None:
        return FileResult(display, problems, None, None, [])
    data = module.data
    module_id = data.get("module_id") if isinstance(data.get("module_id"), str) else None
    found = schema_problems(data, display)
    summary, external = None, []
    if not found:
        refs = checks.media_references(data)
        found = checks.file_checks(data, display, module.stem, refs, module.text)
        found += _missing_assets(display, refs, root_of(os.path.dirname(path)), exists)
        summary = checks.Module(
            display,
            data["module_id"],
            tuple(data.get("prerequisites", [])),
            tuple(data.get("related_modules", [])),
        )
        external = [
            (r.pointer, r.target)
            for r in refs
            if r.is_external and not checks.is_notion_hosted(r.target)
        ]
    elif module_id is not None:
        found += checks.check_file_name(data, display, module.stem)
    problems += found
    return FileResult(display, locate(problems, module.text), summary, module_id, external)


def _check_chunk(items: list[tuple[str, str]]) -> list[FileResult]:
    # Caches live for one chunk: modules share assets, so each is stat'ed once.
    root_of = cache(repo_root)
    exists = cache(os.path.isfile)
    return [check_file(path, display, root_of, exists) for path, display in items]


def _check_all(items: list[tuple[str, str]]) -> list[FileResult]:
    workers = (
        len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    )
    if len(items) < PARALLEL_MIN_FILES or workers < 2:
        return _check_chunk(items)
    chunks = [items[i : i + _CHUNK] for i in range(0, len(items), _CHUNK)]
    methods = multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("fork" if "fork" in methods else None)
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        return [result for chunk in pool.map(_check_chunk, chunks) for result in chunk]


def validate_paths(paths: Sequence[Path], *, url_checker: UrlChecker | None = None) -> Report:
    files = collect_files(paths)
    report = Report(files=_display_paths(files))
    results = _check_all([(str(f), d) for f, d in zip(files, report.files, strict=True)])
    problems = [p for result in results for p in result.problems]
    modules = [r.module for r in results if r.module is not None]
    known = {r.module_id for r in results if r.module_id} | _sibling_ids(files)
    later = checks.cross_file_checks(modules, known)
    if url_checker is not None:
        later += _unreachable_urls(results, url_checker)
    paths_by_display = dict(zip(report.files, files, strict=True))
    problems += _positioned(later, paths_by_display)
    report.problems = sorted(problems, key=lambda p: (p.file, p.line, p.column, p.message))
    return report


def _missing_assets(
    display: str, refs: list[checks.Reference], root: str, exists: Callable[[str], bool]
) -> list[Problem]:
    problems = []
    for ref in refs:
        if ref.is_asset:
            relative = checks.asset_file(ref.target)
            if ".." not in relative.split("/") and not exists(os.path.join(root, relative)):
                message = f"asset {relative} does not exist; add the file or fix the path"
                problems.append(Problem(display, message, "asset", ref.pointer))
    return problems


def _unreachable_urls(results: list[FileResult], url_checker: UrlChecker) -> list[Problem]:
    places: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for result in results:
        for where, url in result.external_urls:
            places[url].append((result.display, where))
    failures = url_checker(sorted(places))
    return [
        Problem(display, f"{url} could not be fetched: {reason}", "url-reachable", where)
        for url, reason in failures.items()
        if reason
        for display, where in places[url]
    ]


def _sibling_ids(files: list[Path]) -> set[str]:
    """Ids a reference may name besides the checked files: every module file beside them.

    Checking one file must still accept references to its unchanged siblings.
    """
    known: set[str] = set()
    for directory in {f.parent for f in files}:
        with os.scandir(directory) as entries:
            known.update(e.name[:-5] for e in entries if e.name.endswith(".json"))
    return known


def _positioned(problems: list[Problem], paths: dict[str, Path]) -> list[Problem]:
    """Place cross-file problems; they are few, so their files are read again."""
    by_file: dict[str, list[Problem]] = defaultdict(list)
    for problem in problems:
        by_file[problem.file].append(problem)
    placed = []
    for display, group in by_file.items():
        try:
            text = paths[display].read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            placed += group
            continue
        placed += locate(group, text)
    return placed
