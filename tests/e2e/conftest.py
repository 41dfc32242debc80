"""Fixtures the end-to-end tests share."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.builders import schema
from tests.conftest import Repo
from tests.doubles.notion_server import NotionServer, library


@pytest.fixture
def notion(repo: Repo, monkeypatch: pytest.MonkeyPatch) -> Iterator[NotionServer]:
    """The Module Library with an Export Error property (tests/builders.schema), the CLI
    pointed at it."""
    yield from library(repo.root, monkeypatch, schema())
