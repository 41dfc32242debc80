"""`pipeline validate`: read module files, run every check, collect Problems.

This is the I/O edge around the pure checks: it finds files, reads them,
resolves asset paths on disk and (optionally) fetches external URLs. Files
are checked independently, so large sets are spread over all cores; only the
cross-file checks (unique ids, references, cycles) need the whole set.
"""

from __future__ import annotations

import marshal
import os
import sys
from collections import defaultdict, deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cache, partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple, TypeVar

from pipeline.assets.unused import asset_files, unused_assets
from pipeline.errors import UsageError
from pipeline.layout import DATA_DIR, MODULES_DIR
from pipeline.modules import checks
from pipeline.modules.parse import file_stem, locate, parse_object, read_bytes
from pipeline.modules.problems import Problem
from pipeline.modules.records import ModuleRows
from pipeline.modules.schema import schema_problems

if TYPE_CHECKING:  # worker processes are imported only when started: most runs need none
    from concurrent.futures import Future, ProcessPoolExecutor

# Below this many files, starting worker processes costs more than it saves.
PARALLEL_MIN_FILES = 400
_CHUNK = 100  # files per task: small, so that deploy stages results while the rest are checked
_AHEAD = 4  # chunks per worker handed out and not yet taken: enough to keep them busy
_PR_SET_PDEATHSIG = 1  # linux/prctl.h

UrlChecker = Callable[[Sequence[str]], dict[str, str | None]]
AssetCheck = Callable[[str, str], bool]  # (repo root, asset's repo path) -> the file is there


@dataclass
class Report:
    """What validation found. Valid when no problem is an error."""

    files: list[str] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    results: list[FileResult] = field(default_factory=list)

    @property
    def valid(self) -> bool:
        return not any(p.is_error for p in self.problems)

    @property
    def error_count(self) -> int:
        return sum(p.is_error for p in self.problems)

    @property
    def warning_count(self) -> int:
        return len(self.problems) - self.error_count


class FileResult(NamedTuple):
    """One file's verdict, sent back from a worker process.

    This and what it holds are NamedTuples, not dataclasses: thousands cross
    from the workers, and tuples pickle about three times faster.
    """

    path: str
    display: str
    problems: list[Problem]  # already positioned
    module: checks.ModuleRefs | None  # set when the file passed the schema
    module_id: str | None
    external_urls: list[tuple[str, str]]  # (pointer, url), when asked for
    # What deploy's own per-file check adds (db/trust.py): the git blob id, and the
    # rows of a valid file it could not trust.
    file_hash: str | None = None
    record: ModuleRows | None = None


def collect_files(paths: Iterable[Path]) -> list[Path]:
    """Module files named by the user: files as given, directories' *.json sorted."""
    return [Path(path) for path, _ in collect(paths)]


def collect(paths: Iterable[Path]) -> list[tuple[str, str]]:
    """(path, display path) of each module file; strings, because there may be many."""
    found: dict[str, str] = {}
    for path in paths:
        try:
            found.update(_files_at(path))
        except OSError as exc:
            raise UsageError(
                f"{path}: cannot be read ({exc.strerror or type(exc).__name__})"
            ) from None
    return list(found.items())


def _files_at(path: Path) -> dict[str, str]:
    if path.is_dir():
        shown = display_path(path)
        prefix = "" if shown == "." else f"{shown}/"
        with os.scandir(path) as entries:
            names = sorted(e.name for e in entries if e.name.endswith(".json") and not e.is_dir())
        return {os.path.join(path, name): prefix + name for name in names}
    if path.exists() or path.is_symlink():
        return {str(path): display_path(path)}
    if path == MODULES_DIR:
        raise UsageError(
            f"there is no {MODULES_DIR}/ here; run from the repository "
            "root or name the files to check"
        )
    raise UsageError(f"{path}: no such file or directory")


def display_path(path: Path) -> str:
    """Paths relative to the working directory, as CI annotations need them.

    Symlinks are not resolved: the user should see the name they gave.
    """
    relative = os.path.relpath(os.path.abspath(path))
    return path.as_posix() if relative.startswith("..") else Path(relative).as_posix()


def repo_root(directory: str) -> str:
    """The directory asset paths are relative to: the one holding `data/`."""
    for parent in (Path(directory).resolve(), *Path(directory).resolve().parents):
        if parent.name == DATA_DIR.name:
            return str(parent.parent)
    return str(Path.cwd())


def check_file(
    path: str,
    display: str,
    root_of: Callable[[str], str],
    present: AssetCheck,
    *,
    urls: bool = False,
) -> FileResult:
    """Every per-file check of one module file; with `urls`, its external media URLs."""
    root = root_of(os.path.dirname(path))
    raw, problem = read_bytes(path, display, root)
    if problem is not None:
        return FileResult(path, display, [problem], None, None, [])
    return check_bytes(raw, path, display, root, present, urls=urls)


def check_bytes(
    raw: bytes,
    path: str,
    display: str,
    root: str,
    present: AssetCheck,
    *,
    urls: bool = False,
    file_hash: str | None = None,
    make_record: Callable[[dict[str, Any], list[checks.Reference]], ModuleRows] | None = None,
) -> FileResult:
    """check_file of bytes already read; with `make_record`, the rows of a valid file."""
    parsed, problems = parse_object(raw, display)
    if parsed is None:
        return FileResult(path, display, problems, None, None, [], file_hash)
    text, data = parsed
    module_id = data.get("module_id") if isinstance(data.get("module_id"), str) else None
    found, refs = check_document(data, text, display, file_stem(path), root, present=present)
    summary: checks.ModuleRefs | None = None
    external: list[tuple[str, str]] = []
    record: ModuleRows | None = None
    if refs is not None:
        summary = summarise(data, display)
        if urls:
            external = [
                (r.pointer, r.target)
                for r in refs
                if r.is_external and not checks.is_notion_hosted(r.target)
            ]
        if make_record is not None and not found:
            record = make_record(data, refs)
        found += unused_asset_warnings(display, data["module_id"], refs, root)
    problems += found
    return FileResult(
        path,
        display,
        locate(problems, text),
        summary,
        module_id,
        external,
        file_hash,
        record,
    )


def check_document(
    data: dict[str, Any],
    text: str,
    display: str,
    stem: str,
    root: str,
    *,
    present: AssetCheck | None = None,
) -> tuple[list[Problem], list[checks.Reference] | None]:
    """Per-file problems of one parsed module; its media references when it passed the schema.

    The exporter checks its output with this before writing a file.
    """
    found = schema_problems(data, display)
    if found:
        if isinstance(data.get("module_id"), str):
            found += checks.check_file_name(data, display, stem)
        return found, None
    plain = checks.plain_sections(data)
    refs = checks.media_references(data, plain)
    assets = [(r.pointer, checks.asset_file(r.target)) for r in refs if r.is_asset]
    found = checks.file_checks(data, display, stem, refs, text, plain)
    found += missing_assets(display, assets, root, present or asset_present)
    return found, refs


def unused_asset_warnings(
    display: str, module_id: str, refs: list[checks.Reference], root: str
) -> list[Problem]:
    """A warning for each file in data/assets/<module_id>/ that the module does not use."""
    files = asset_files(root, module_id)
    if not files:  # most modules have no folder of their own: then nothing is unused
        return []
    used = {checks.asset_file(r.target) for r in refs if r.is_asset}
    return [
        Problem(
            display,
            f"{path} is in the module's asset folder but the module does not use it; "
            "remove it, or use it (an export removes the files a module no longer uses)",
            "unused-asset",
            severity="warning",
        )
        for path in unused_assets(module_id, files, used)
    ]


def summarise(data: dict[str, Any], display: str) -> checks.ModuleRefs:
    """What the cross-file checks need of a schema-valid module."""
    return checks.ModuleRefs(
        display,
        data["module_id"],
        tuple(data.get("prerequisites", [])),
        tuple(data.get("related_modules", [])),
        data.get("notion_page_id"),
        checks.module_links(data),
    )


Item = TypeVar("Item")


def _check_chunk(items: list[tuple[str, str]], urls: bool) -> list[FileResult]:
    # Caches live for one chunk: modules share assets, so each is looked up once.
    root_of = cache(repo_root)
    present = cache(asset_present)
    return [check_file(path, display, root_of, present, urls=urls) for path, display in items]


def _cores() -> int:
    return (
        len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    )


def _worker_started(parent: int) -> None:
    """Runs first in each worker. A worker whose parent is gone (kill -9) exits at once
    instead of finishing its chunk and waiting for work that will never come. Ctrl-C,
    which a terminal sends to every process of the command, is the parent's to handle:
    it stops the work and says "interrupted"; in a worker it would only print a
    traceback."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if sys.platform.startswith("linux"):
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent:  # the parent died before prctl took effect
        os._exit(1)


@contextmanager
def workers(files: int) -> Iterator[ProcessPoolExecutor | None]:
    """Worker processes (one per core) for checking `files` files, started now; None when
    they would cost more than they save.

    Start them before connecting to anything: a forked worker inherits every open
    socket, and would keep a database connection open after its parent was killed.
    """
    if files < PARALLEL_MIN_FILES or _cores() < 2:
        yield None
        return
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    methods = multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("fork" if "fork" in methods else None)
    pool = ProcessPoolExecutor(
        max_workers=_cores(),
        mp_context=context,
        initializer=_worker_started,
        initargs=(os.getpid(),),
    )
    try:
        # With fork, the first submit starts every worker before it returns: they boot
        # while the caller goes on (connects); waiting for them would cost 10-15 ms.
        pool.submit(int)
        yield pool
    finally:
        # Work not yet started is dropped: after a failure nobody reads its results,
        # and a large deploy would otherwise check every file before saying why it
        # stopped.
        pool.shutdown(wait=True, cancel_futures=True)


def in_parallel(
    items: list[Item],
    check_chunk: Callable[[list[Item]], list[FileResult]],
    *,
    to_read: int,
    pool: ProcessPoolExecutor | None = None,
) -> list[FileResult]:
    """check_chunk over `items`, in `pool` (or worker processes of its own) when `to_read`
    files are many enough to pay for it; results in the order of `items`.

    `check_chunk` must be picklable: a module-level function or a partial of one.
    """
    return list(each_in_parallel(items, check_chunk, to_read=to_read, pool=pool))


def each_in_parallel(
    items: list[Item],
    check_chunk: Callable[[list[Item]], list[FileResult]],
    *,
    to_read: int,
    pool: ProcessPoolExecutor | None = None,
) -> Iterator[FileResult]:
    """in_parallel, the results handed on as each chunk comes back: a caller that
    streams them on (deploy COPYs them into the database) never holds them all.

    Given a pool, the first chunks go to it now, before the first result is asked
    for: the workers start on them while the caller goes on (deploy makes the rows of
    new modules meanwhile, a round trip to the database). The rest follow as results
    are taken, with _AHEAD per worker at most waiting: a caller held up (a deploy
    waiting for a lock) does not find the whole library's rows piled up in memory."""
    if pool is None or to_read < PARALLEL_MIN_FILES:
        return _each(items, check_chunk, to_read)
    chunks = [items[i : i + _CHUNK] for i in range(0, len(items), _CHUNK)]
    check = partial(_sent, check_chunk)
    ahead = _AHEAD * _cores()  # the pool's size (workers)
    started = deque(pool.submit(check, chunk) for chunk in chunks[:ahead])
    return _unpacked(started, (partial(pool.submit, check, chunk) for chunk in chunks[ahead:]))


def _each(
    items: list[Item], check_chunk: Callable[[list[Item]], list[FileResult]], to_read: int
) -> Iterator[FileResult]:
    """each_in_parallel without a pool: here, or in worker processes of its own."""
    if to_read < PARALLEL_MIN_FILES:
        yield from check_chunk(items)
        return
    with workers(to_read) as own:
        if own is None:
            yield from check_chunk(items)
            return
        yield from each_in_parallel(items, check_chunk, to_read=to_read, pool=own)


def _unpacked(
    started: deque[Future[list[tuple[FileResult, bytes | None]]]],
    later: Iterator[Callable[[], Future[list[tuple[FileResult, bytes | None]]]]],
) -> Iterator[FileResult]:
    """The results of the chunks `started`, in order, starting one of `later` as each
    is taken; chunks not started are never started if the caller stops early."""
    try:
        while started:
            chunk = started.popleft().result()
            start = next(later, None)
            if start is not None:
                started.append(start())
            for result, rows in chunk:
                yield result if rows is None else result._replace(record=_received(rows))
    finally:
        for future in started:
            future.cancel()


def _received(rows: bytes) -> ModuleRows:
    # Bytes our own worker wrote (_sent); the pool trusts its pickles no less.
    return ModuleRows(*marshal.loads(rows))  # noqa: S302


def _sent(
    check_chunk: Callable[[list[Item]], list[FileResult]], items: list[Item]
) -> list[tuple[FileResult, bytes | None]]:
    """check_chunk, in a worker: each result as it goes back to the parent, its rows
    (when it has them) marshalled. They are nested tuples of text, numbers and None,
    which marshal writes and reads three times faster than pickle: 30 ms less for a
    thousand modules, on a deploy that is CPU-bound. Both ends are the same Python."""
    return [
        (result, None)
        if result.record is None
        else (result._replace(record=None), marshal.dumps(tuple(result.record)))
        for result in check_chunk(items)
    ]


def validate_paths(paths: Sequence[Path], *, url_checker: UrlChecker | None = None) -> Report:
    """Check module files: collect them, check each file, then check across files."""
    files = collect(paths)
    work = partial(_check_chunk, urls=url_checker is not None)
    results = in_parallel(files, work, to_read=len(files))
    return cross_checked(files, results, url_checker)


def cross_checked(
    files: list[tuple[str, str]], results: list[FileResult], url_checker: UrlChecker | None = None
) -> Report:
    """The report of per-file `results`, with the checks across files (and URLs) added."""
    report = Report(files=[display for _, display in files], results=results)
    problems = [p for result in results for p in result.problems]
    modules = [r.module for r in results if r.module is not None]
    known = {r.module_id for r in results if r.module_id} | _sibling_ids(
        [path for path, _ in files]
    )
    later = checks.cross_file_checks(modules, known)
    if url_checker is not None:
        later += _unreachable_urls(results, url_checker)
    problems += _positioned(later, {display: path for path, display in files})
    report.problems = sorted(problems, key=lambda p: (p.file, p.line, p.column, p.message))
    return report


def missing_assets(
    display: str, assets: Iterable[tuple[str, str]], root: str, present: AssetCheck
) -> list[Problem]:
    """Problems for (pointer, repo path) pairs whose file is not there."""
    return [
        Problem(
            display,
            f"asset {relative} does not exist; add the file or fix the path",
            "asset",
            where,
        )
        for where, relative in assets
        if ".." not in relative.split("/") and not present(root, relative)
    ]


def asset_present(root: str, relative: str) -> bool:
    """Asset references are repo paths (data/assets/...): they resolve against the root."""
    return os.path.isfile(os.path.join(root, relative))


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


def _sibling_ids(files: list[str]) -> set[str]:
    """Ids a reference may name besides the checked files: every module file beside them.

    Checking one file must still accept references to its unchanged siblings.
    """
    known: set[str] = set()
    for directory in {os.path.dirname(f) or "." for f in files}:
        with os.scandir(directory) as entries:
            known.update(e.name[:-5] for e in entries if e.name.endswith(".json"))
    return known


def _positioned(problems: list[Problem], paths: dict[str, str]) -> list[Problem]:
    """Place cross-file problems; they are few, so their files are read again."""
    by_file: dict[str, list[Problem]] = defaultdict(list)
    for problem in problems:
        by_file[problem.file].append(problem)
    placed = []
    for display, group in by_file.items():
        try:
            text = Path(paths[display]).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            placed += group
            continue
        placed += locate(group, text)
    return placed
