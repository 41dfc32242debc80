"""pipeline.yaml: which Notion database, and what its properties are called.

Defaults follow seed 001's Module Library, so a team that built the database
as the seed describes needs only `notion.database_id`.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import SplitResult, urlsplit

from pipeline.errors import UsageError, redact
from pipeline.layout import CONFIG_FILE, CONFIG_SCHEMA, schema_file
from pipeline.learn.settings import LearnSettings, learn_settings

if TYPE_CHECKING:
    import jsonschema_rs

# The words a schema gives for a value that does not fit a pattern (VS Code's JSON and YAML
# extensions show them too).
PATTERN_MESSAGE = "patternErrorMessage"

DEFAULT_PROPERTIES = {
    "title": "Module Name",
    "status": "Status",
    "module_id": "Module ID",
    "category": "Category",
    "estimated_minutes": "Estimated Minutes",
    "tags": "Tags",
    "prerequisites": "Prerequisites",
    "university": "University",
    "team_lead": "Team Lead",
    "content_source": "Content Source",
    "description": "Description",
    "target_audience": "Target Audience",
    "pr_link": "GitHub Branch/PR",
    "last_updated": "Last Updated",
    "export_error": "Export Error",
    "deployed_revision": "Deployed Revision",
    # Authoring (#13): the page holding the content, when not the row's own body.
    "content_page": "Content Page",
}


@dataclass(frozen=True)
class NotionSettings:
    database_id: str | None = None
    data_source_id: str | None = None
    ready_status: str = "Ready"
    live_status: str = "Live"
    review_status: str = "In Review"  # where `notion review-feedback` moves a row back
    exported_by: str = "notion_sync_bot"
    requests_per_second: float = 2.9
    max_file_mb: float = 25  # the largest Notion-hosted file an export downloads, in MiB
    properties: dict[str, str] = field(default_factory=lambda: dict(DEFAULT_PROPERTIES))
    universities: dict[str, str] = field(default_factory=dict)
    people: dict[str, str] = field(default_factory=dict)
    # Authoring (#13): pages in these statuses are checked on every export, never written,
    # their problems put on their rows; the guide every message to a team lead links to.
    check_statuses: tuple[str, ...] = ("In Review",)
    guide_url: str | None = None


@dataclass(frozen=True)
class SyncSettings:
    students: tuple[str, ...] | None = None  # None: students are not synced


@dataclass(frozen=True)
class DeploySettings:
    archive_limit: int = 3
    archive_limit_percent: float = 10.0


# -- propose: the pull requests' controls (issue #14) -----------------------------------------


@dataclass(frozen=True)
class ProposeSettings:
    """What `pipeline propose` sets on the pull requests it opens (as peter-evans/
    create-pull-request does): reviewers, team reviewers, assignees and draft on a new
    PR; labels (module, auto-export, these, and the module's category's) on every one;
    commits made through GitHub's API, which GitHub signs (verified), when asked."""

    reviewers: tuple[str, ...] = ()
    team_reviewers: tuple[str, ...] = ()
    assignees: tuple[str, ...] = ()
    draft: bool = False
    labels: tuple[str, ...] = ()
    category_labels: dict[str, tuple[str, ...]] = field(default_factory=dict)
    verified_commits: bool = False

    @classmethod
    def from_yaml(cls, data: dict[str, Any]) -> ProposeSettings:
        lists = ("reviewers", "team_reviewers", "assignees", "labels")
        values: dict[str, Any] = {k: tuple(v) if k in lists else v for k, v in data.items()}
        values["category_labels"] = {
            str(category): tuple(labels)
            for category, labels in (data.get("category_labels") or {}).items()
        }
        return cls(**values)


# -- assets: where deploy publishes the files students load (issue #16) ---------------------


@dataclass(frozen=True)
class AssetSettings:
    """pipeline.yaml's `assets:`; each key can be overridden by PIPELINE_ASSETS_<KEY> in the
    environment (pipeline/assets/store.py). Credentials never come from here: boto3 reads
    them from the environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY) or its own files."""

    store: str | None = None  # "s3" or "local"; unset: local, with the embedded Postgres only
    bucket: str | None = None
    prefix: str = ""
    public_base_url: str | None = None
    endpoint_url: str | None = None  # R2, MinIO, ...; unset: AWS S3
    region: str | None = None
    directory: str = ".pipeline/assets"  # the local store's folder


@dataclass(frozen=True)
class Config:
    notion: NotionSettings = field(default_factory=NotionSettings)
    sync: SyncSettings = field(default_factory=SyncSettings)
    deploy: DeploySettings = field(default_factory=DeploySettings)
    learn: LearnSettings = field(default_factory=LearnSettings)  # notion-learning-sync
    propose: ProposeSettings = field(default_factory=ProposeSettings)
    assets: AssetSettings = field(default_factory=AssetSettings)


def env_int(name: str, default: int, *, minimum: int = 1) -> int:
    """A whole-number setting from the environment; a wrong one is a usage error (exit 2)
    named at once, not a crash later."""
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        message = f"{name}={raw!r} is not a whole number; unset it or use e.g. {default}"
        raise UsageError(message) from None
    if value < minimum:
        raise UsageError(f"{name}={raw!r} must be at least {minimum}")
    return value


# A URL's host after any user info: a name or an IPv4 address, or an IPv6 address in
# brackets; then, optionally, a port.
_HOST_AND_PORT = re.compile(r"(?:[A-Za-z0-9._~-]+|\[[0-9A-Fa-f:.]+\])(?::\d*)?")
_SPACE_OR_CONTROL = re.compile(r"[\s\x00-\x1f\x7f-\x9f]")


def url_problem(url: str) -> str | None:
    """What keeps `url` from being an http(s) URL a client can send requests to, in words;
    None when nothing does."""
    if _SPACE_OR_CONTROL.search(url):
        return "it holds a space or a control character"
    try:
        parts = urlsplit(url)
    except ValueError:  # an unclosed or invalid [IPv6 address]
        return "its host cannot be read (an IPv6 address is written in brackets: [::1])"
    if parts.scheme not in ("http", "https"):
        return "it does not start with http:// or https://"
    return _address_problem(parts)


def _address_problem(parts: SplitResult) -> str | None:
    """What is wrong with an http(s) URL's host and port, in words."""
    if not parts.hostname:
        return "it names no host"
    try:
        port = parts.port
    except ValueError:
        port = 0
    if port == 0:
        return "its port is not a number from 1 to 65535"
    if not _HOST_AND_PORT.fullmatch(_ascii(parts.netloc.rpartition("@")[2])):
        return "its host is not a name (letters, digits, '.', '-') or an IP address"
    return None


def _ascii(address: str) -> str:
    """A host (and port) as DNS reads it: a name in another script (bücher.example) in
    its IDNA form; "" when it has none."""
    try:
        return address.encode("idna").decode("ascii")
    except UnicodeError:
        return ""


def http_url(url: str, setting: str, advice: str) -> str:
    """`url` when it is an http(s) URL a client can use; else a UsageError naming `setting`,
    what is wrong and `advice` (what a valid value looks like). Checked when a setting is
    read, because urllib, httpx, requests and PyGithub each fail their own way on such a
    value (a ValueError, an assert, an error taken for an outage), at the first request."""
    problem = url_problem(url)
    if problem is not None:
        raise UsageError(f"{setting} {redact(url)!r} is not a usable URL: {problem}; {advice}")
    return url


def load_config(path: Path = CONFIG_FILE) -> Config:
    """The config at `path`; defaults when the file does not exist."""
    if not path.exists():
        return Config()
    # Here: commands that never read the file (status, validate) skip PyYAML's 15 ms.
    from pipeline.yamlfile import read_yaml

    data = read_yaml(path, UsageError) or {}
    problems = settings_problems(data)
    if problems:
        raise UsageError(f"{path}: " + "; ".join(problems))
    notion: dict[str, Any] = dict(data.get("notion") or {})
    notion["properties"] = {**DEFAULT_PROPERTIES, **notion.get("properties", {})}
    if "check_statuses" in notion:
        notion["check_statuses"] = tuple(notion["check_statuses"])
    students = (data.get("sync") or {}).get("students")
    return Config(
        NotionSettings(**notion),
        SyncSettings(tuple(students) if students is not None else None),
        DeploySettings(**(data.get("deploy") or {})),
        learn_settings(data.get("learn")),
        ProposeSettings.from_yaml(data.get("propose") or {}),
        AssetSettings(**(data.get("assets") or {})),
    )


def settings_problems(data: Any) -> list[str]:
    """What is wrong with settings as pipeline.yaml holds them (or part of them), each
    problem in words with its place."""
    import jsonschema_rs

    schema = json.loads(schema_file(CONFIG_SCHEMA).read_text(encoding="utf-8"))
    validator = jsonschema_rs.Draft202012Validator(schema)
    return [_describe(error, schema) for error in validator.iter_errors(data)]


def _describe(error: jsonschema_rs.ValidationError, schema: dict[str, Any]) -> str:
    """One problem in words; an unknown key with the known one it was probably meant as,
    a value that does not fit a pattern with what the schema says it may be, when it does:
    a regular expression is no answer to a person."""
    from pipeline.yamlfile import place

    where = place(list(error.instance_path))
    # The schema at the failing keyword's parent: the keys allowed, a pattern's words.
    node: Any = schema
    for step in list(error.schema_path)[:-1]:
        node = node[step]
    if error.schema_path[-1] == "pattern" and PATTERN_MESSAGE in node:
        return f"{where}: {json.dumps(error.instance)} is not allowed: {node[PATTERN_MESSAGE]}"
    unexpected = getattr(error.kind, "unexpected", None)
    if not unexpected:
        return f"{where}: {error.message}"
    allowed = sorted(node.get("properties", {}))
    from difflib import get_close_matches

    words = []
    for key in unexpected:
        close = get_close_matches(str(key), allowed, n=1, cutoff=0.6)
        hint = f"did you mean {close[0]!r}?" if close else f"known keys: {', '.join(allowed)}"
        words.append(f"unknown key {key!r} ({hint})")
    return f"{where}: {', '.join(words)}"
