"""Where things live: the repository's layout and the pipeline's own files, in one place.

Paths are relative to the repository root (the working directory when a
command runs); functions that take `root` build absolute ones for code that
works on another checkout (tests, `propose` in a clone).
"""

from __future__ import annotations

import re
from pathlib import Path

from pipeline.errors import UsageError

DATA_DIR = Path("data")
MODULES_DIR = DATA_DIR / "modules"
ASSETS_DIR = DATA_DIR / "assets"
REFERENCE_FILE = DATA_DIR / "reference.yaml"
# Asset references in module files are repository paths that start with this.
ASSET_PREFIX = f"{ASSETS_DIR.as_posix()}/"

CONFIG_FILE = Path("pipeline.yaml")
SYNC_CONFIG = Path("notion-sync.json")

# The pipeline's own state: never committed (.gitignore), safe to delete.
STATE_DIR = Path(".pipeline")
EXPORT_CURSOR = STATE_DIR / "notion-export.json"
# Modules whose Notion pages the last export looked at: `propose` may close only their PRs.
LAST_EXPORT = STATE_DIR / "last-export.json"
EMBEDDED_DIR = STATE_DIR / "postgres"

# Next to a module's assets: which Notion block each downloaded file came from.
ASSET_MANIFEST = ".notion-assets.json"

MODULE_SCHEMA = "module.schema.json"
CONFIG_SCHEMA = "pipeline-config.schema.json"
REFERENCE_SCHEMA = "reference.schema.json"

_PACKAGE = Path(__file__).resolve().parent
_MODULE_ID = re.compile(r"[a-z0-9]+(-[a-z0-9]+)*")
MODULE_ID_MAX = 100  # the schema's maxLength, and the width of modules.module_id


def is_module_id(name: str) -> bool:
    """Whether `name` can be a module id (schemas/module.schema.json): a slug of
    lowercase words joined by single hyphens, at most MODULE_ID_MAX characters."""
    return len(name) <= MODULE_ID_MAX and _MODULE_ID.fullmatch(name) is not None


def module_file(module_id: str) -> str:
    """The repository path of a module's file."""
    return f"{MODULES_DIR.as_posix()}/{module_id}.json"


def asset_dir(module_id: str) -> str:
    """The repository path of the folder holding a module's assets (ASSET_PREFIX is
    ASSETS_DIR as a POSIX path and a slash, built once: this runs for every file)."""
    return ASSET_PREFIX + module_id


def module_of(path: str) -> str | None:
    """The module a repository path belongs to (its file or one of its assets), if any."""
    parts = path.split("/")
    if parts[:2] == list(MODULES_DIR.parts) and len(parts) == 3 and parts[2].endswith(".json"):
        return parts[2][: -len(".json")]
    if parts[:2] == list(ASSETS_DIR.parts) and len(parts) >= 4:
        return parts[2]
    return None


def schema_file(name: str) -> Path:
    """A schema of this checkout when run from one, else the copy in the wheel."""
    for candidate in (_PACKAGE.parent / "schemas" / name, _PACKAGE / "_schemas" / name):
        if candidate.is_file():
            return candidate
    raise UsageError(f"the schema {name} is missing from the installation; reinstall the package")
