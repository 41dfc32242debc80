"""pipeline.yaml's notion.max_file_mb: the largest Notion-hosted file an export takes."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.config import load_config
from pipeline.errors import UsageError


def test_the_default_is_25_mb(tmp_path: Path) -> None:
    assert load_config(tmp_path / "pipeline.yaml").notion.max_file_mb == 25


def test_it_can_be_set(tmp_path: Path) -> None:
    path = tmp_path / "pipeline.yaml"
    path.write_text("notion:\n  max_file_mb: 2.5\n")
    assert load_config(path).notion.max_file_mb == 2.5


@pytest.mark.parametrize("value", ["0", "-1", "101", "lots"])
def test_a_wrong_limit_is_a_usage_error(tmp_path: Path, value: str) -> None:
    path = tmp_path / "pipeline.yaml"
    path.write_text(f"notion:\n  max_file_mb: {value}\n")
    with pytest.raises(UsageError) as caught:
        load_config(path)
    assert "notion.max_file_mb" in str(caught.value)
