"""`pipeline validate`: read module files, run every check, collect Problems.

This is the I/O edge around the pure checks: it finds files, reads them,
resolves asset paths on disk and (optionally) fetches external URLs.
"""

from __future__ import annotations

import os
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from pipeline import checks
from pipeline.errors import UsageError
from pipeline.jsonfile import ModuleFile, locate, read_module_file
from pipeline.problems import Problem
from pipeline.schema import schema_problems

DEFAULT_MODULES_DIR = Path("data/modules")


@dataclass
class Report:
    """What validation found. Valid when no problem is an error."""

    files: list[str] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    modules: list[ModuleFile] = field(default_factory=list)

    @property
    def valid(self) -> bool:
        return not any(p.is_error for p in self.problems)

    @property
    def error_count(self) -> int:
        return sum(p.is_error for p in self.problems)

    @property
    def warning_count(self) -> int:
        return len(self.problems) - self.error_count


UrlChecker = Callable[[Sequence[str]], dict[str, str | None]]


def collect_files(paths: Iterable[Path]) -> list[Path]:
    """Module files named by the user: files as given, directories' *.json sorted."""
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found.extend(sorted(p for p in path.glob("*.json") if not p.is_dir()))
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
    relative = Path(os.path.relpath(os.path.abspath(path)))  # noqa: PTH100
    return path.as_posix() if relative.parts[:1] == ("..",) else relative.as_posix()


def repo_root(path: Path) -> Path:
    """The directory asset paths are relative to: the one holding `data/`."""
    for parent in path.resolve().parents:
        if parent.name == "data":
            return parent.parent
    return Path.cwd()


def validate_paths(paths: Sequence[Path], *, url_checker: UrlChecker | None = None) -> Report:
    files = collect_files(paths)
    report = Report(files=[display_path(f) for f in files])
    problems: list[Problem] = []
    valid_modules: list[ModuleFile] = []
    for path, display in zip(files, report.files, strict=True):
        module, read_problems = read_module_file(path, display)
        problems += read_problems
        if module is None:
            continue
        report.modules.append(module)
        found = schema_problems(module.data, display)
        if not found:
            found = checks.file_checks(module.data, display, module.stem)
            found += _missing_assets(module)
            valid_modules.append(module)
        elif isinstance(module.data.get("module_id"), str):
            found += checks.check_file_name(module.data, display, module.stem)
        problems += found
    problems += checks.cross_file_checks(
        [_summary(m) for m in valid_modules], _known_ids(files, report.modules)
    )
    if url_checker is not None:
        problems += _unreachable_urls(valid_modules, url_checker)
    report.problems = _positioned(problems, report.modules)
    return report


def _missing_assets(module: ModuleFile) -> list[Problem]:
    root = repo_root(module.path)
    problems = []
    for ref in checks.media_references(module.data):
        if ref.is_asset:
            relative = checks.asset_file(ref.target)
            if ".." not in relative.split("/") and not (root / relative).is_file():
                problems.append(
                    Problem(
                        module.display,
                        f"asset {relative} does not exist; add the file or fix the path",
                        "asset",
                        ref.pointer,
                    )
                )
    return problems


def _unreachable_urls(modules: list[ModuleFile], url_checker: UrlChecker) -> list[Problem]:
    places: dict[str, list[tuple[ModuleFile, str]]] = defaultdict(list)
    for module in modules:
        for ref in checks.media_references(module.data):
            if ref.is_external and not checks.is_notion_hosted(ref.target):
                places[ref.target].append((module, ref.pointer))
    failures = url_checker(sorted(places))
    return [
        Problem(module.display, f"{url} could not be fetched: {reason}", "url-reachable", where)
        for url, reason in failures.items()
        if reason
        for module, where in places[url]
    ]


def _summary(module: ModuleFile) -> checks.Module:
    data = module.data
    return checks.Module(
        module.display,
        data["module_id"],
        tuple(data.get("prerequisites", [])),
        tuple(data.get("related_modules", [])),
    )


def _known_ids(files: list[Path], modules: list[ModuleFile]) -> set[str]:
    """Ids a reference may name: checked modules, and every module file beside them.

    Checking one file must still accept references to its unchanged siblings.
    """
    known = {m.data["module_id"] for m in modules if isinstance(m.data.get("module_id"), str)}
    for directory in {f.parent for f in files}:
        with os.scandir(directory) as entries:
            known.update(e.name[:-5] for e in entries if e.name.endswith(".json"))
    return known


def _positioned(problems: list[Problem], modules: list[ModuleFile]) -> list[Problem]:
    text_by_file = {m.display: m.text for m in modules}
    by_file: dict[str, list[Problem]] = defaultdict(list)
    for problem in problems:
        by_file[problem.file].append(problem)
    placed = []
    for display, group in by_file.items():
        text = text_by_file.get(display)
        placed += locate(group, text) if text is not None else group
    return sorted(placed, key=lambda p: (p.file, p.line, p.column, p.message))
