"""What the pipeline tells a Module Library row about its page, and what it remembers.

- A page that failed: its problems go in the row's "Export Error" property when the
  database has one (a text property), else in a comment on the page, posted only when
  it differs from the last message the pipeline left there (the page's open comments
  are read; a comment the team lead resolved is remembered below). One message per
  problem, never the same comment twice.
- A page that exports without part of what is written on it: what was left out, the
  same way (notion/report.py's left_out_message).
- A page that exports (or passes its check) whole again: the property is emptied; after
  an error comment, a short "Exported" comment follows.
- The export's memory, `.pipeline/notion-export.json` (the workflow keeps it between
  runs): the cursor (pages edited since are asked for), the pages that failed because
  of their content and at which edit time (not read again until edited), the pages to
  read again next run (a failed download, a 5xx, something the operator must fix, a
  problem with another page), the content pages rows take their content from, and a
  fingerprint of the last comment on each page.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pipeline.config import NotionSettings
from pipeline.errors import PipelineError
from pipeline.files import atomic_write, read_json_object
from pipeline.notion.api import NotionAPI
from pipeline.notion.page import property_value
from pipeline.notion.report import OK_MARKERS, OUR_MARKERS, cleared_message


def _fingerprint(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:32]


@dataclass
class Memory:
    cursor: str | None = None
    # page id -> its edit stamp, for pages read as they are until edited: failed on their
    # content, or exported with a note of what was left out ("failed" in the saved file)
    failed: dict[str, str] = field(default_factory=dict)
    retry: list[str] = field(default_factory=list)  # page ids to read again next run
    content_pages: dict[str, str] = field(default_factory=dict)  # content page -> row page
    told: dict[str, dict[str, Any]] = field(default_factory=dict)  # page -> last comment

    @classmethod
    def load(cls, path: Path) -> Memory:
        state = read_json_object(path) or {}

        def mapping(key: str) -> dict[str, Any]:
            value = state.get(key)
            return dict(value) if isinstance(value, dict) else {}

        cursor = state.get("cursor")
        retry = state.get("retry")
        return cls(
            cursor if isinstance(cursor, str) else None,
            {k: str(v) for k, v in mapping("failed").items()},
            [str(p) for p in retry] if isinstance(retry, list) else [],
            {k: str(v) for k, v in mapping("content_pages").items()},
            {k: v for k, v in mapping("told").items() if isinstance(v, dict)},
        )

    def save(self, path: Path) -> None:
        data: dict[str, Any] = {"cursor": self.cursor}
        for key in ("failed", "retry", "content_pages", "told"):
            value = getattr(self, key)
            if value:
                data[key] = (
                    dict(sorted(value.items())) if isinstance(value, dict) else sorted(value)
                )
        atomic_write(path, (json.dumps(data, indent=1) + "\n").encode())


class Rows:
    """Tells rows how their pages did, as the module docstring says."""

    def __init__(
        self,
        api: NotionAPI,
        settings: NotionSettings,
        schema: dict[str, Any],
        memory: Memory,
    ) -> None:
        self.api, self.memory = api, memory
        self.name = settings.properties["export_error"]
        self.has_property = schema.get(self.name, {}).get("type") == "rich_text"
        self._me: str | None = None
        self._asked_me = False

    def tell(
        self,
        page: dict[str, Any],
        message: str,
        *,
        check: bool = False,
        revision: int | None = None,
    ) -> dict[str, Any]:
        """Put `message` (empty: the page is fine) on the page's row; the page as it is
        afterwards (a property update changes its last_edited_time)."""
        page_id = str(page["id"])
        if self.has_property:
            current = property_value(page, self.name) or ""
            if message[:2000] == current:
                return page
            text = [{"type": "text", "text": {"content": message[:2000]}}] if message else []
            return self.api.update_page(page_id, {self.name: {"rich_text": text}})
        told = self.memory.told.get(page_id) or {}
        if message:
            fingerprint = _fingerprint(message)
            if told.get("sha") == fingerprint or self._last_ours(page_id) == message[:2000]:
                self.memory.told[page_id] = {"sha": fingerprint, "error": True}
                return page
            self.api.comment(page_id, message)
            self.memory.told[page_id] = {"sha": fingerprint, "error": True}
        elif told.get("error"):
            last = self._last_ours(page_id)
            if last is not None and not last.startswith(OK_MARKERS):
                cleared = cleared_message(check=check, revision=revision)
                self.api.comment(page_id, cleared)
            self.memory.told.pop(page_id, None)
        return page

    def _last_ours(self, page_id: str) -> str | None:
        """The text of the last comment the pipeline left on the page that is still open."""
        me = self._bot_id()
        last = None
        for comment in self.api.comments(page_id):
            author = (comment.get("created_by") or {}).get("id")
            text = "".join(str(t.get("plain_text", "")) for t in comment.get("rich_text") or [])
            if (me is None or author == me) and text.startswith(OUR_MARKERS):
                last = text
        return last

    def _bot_id(self) -> str | None:
        if not self._asked_me:
            self._asked_me = True
            try:
                self._me = str(self.api.me().get("id") or "") or None
            except PipelineError:  # without it, the messages' words tell ours apart
                self._me = None
        return self._me
