"""The deploy-side commands as a user runs them: the main job, status, show, seed."""

from __future__ import annotations

import json

import pytest

from tests.builders import module
from tests.conftest import CLI, ROOT, Database, Repo


def test_main_job_on_the_samples(repo: Repo, db: Database, cli: CLI) -> None:
    repo.copy_samples()
    assert cli("db", "migrate").code == 0
    seeded = cli("db", "seed")
    assert seeded.code == 0
    assert "1 universities, 1 faculty, 1 teams upserted" in seeded.out

    first = cli("deploy")
    assert first.code == 0, first.err
    assert "Deploy plan" in first.out
    assert "lab-safety-101" in first.out
    assert "deployed (3 insert, 0 update, 0 unchanged, 0 archived)" in first.out

    second = cli("deploy")
    assert second.code == 0
    assert "nothing to deploy: 0 insert, 0 update, 3 unchanged, 0 archived" in second.out
    assert db.value("SELECT count(*) FROM pipeline_deploys") == 1


def test_deploy_json_and_dry_run(repo: Repo, db: Database, cli: CLI) -> None:
    repo.write(module(module_id="a"))
    result = cli("deploy", "--dry-run", "--json")
    assert result.code == 0
    payload = json.loads(result.out)
    assert payload["dry_run"] is True
    assert payload["applied"] is False
    assert payload["counts"] == {
        "insert": 1,
        "update": 0,
        "repair": 0,
        "unchanged": 0,
        "archive": 0,
    }
    assert payload["modules"][0]["module_id"] == "a"
    assert db.value("SELECT count(*) FROM modules") == 0

    payload = json.loads(cli("deploy", "--json").out)
    assert payload["applied"] is True
    assert payload["sections_written"] == 2


def test_invalid_tree_deploys_nothing(repo: Repo, db: Database, cli: CLI) -> None:
    repo.write(module(module_id="a"))
    repo.write(module(module_id="b", status="bogus"))
    result = cli("deploy")
    assert result.code == 1
    assert "data/modules/b.json" in result.err
    assert "module files are invalid; nothing was deployed" in result.err
    assert db.value("SELECT count(*) FROM modules") == 0


def test_missing_reference_is_exit_1_with_names(repo: Repo, db: Database, cli: CLI) -> None:
    repo.write(module(module_id="a", university_id="mit"))
    result = cli("deploy")
    assert result.code == 1
    assert "a: university_id 'mit' has no row in universities" in result.err


def test_status_and_show(
    repo: Repo, db: Database, cli: CLI, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GITHUB_SHA", "0123456789abcdef")
    repo.write(
        module(
            module_id="a",
            sections=[
                {"section_number": n, "section_type": "text", "title": f"T{n}", "content": f"C{n}"}
                for n in (1, 2, 3)
            ],
        )
    )
    assert cli("status").out.startswith("no modules in the database yet")
    cli("deploy")

    table = cli("status").out
    assert "a " in table and "published" in table and "0123456789" in table
    [row] = json.loads(cli("status", "--json").out)
    assert (row["module_id"], row["revision"], row["status"], row["git_sha"], row["sections"]) == (
        "a",
        1,
        "published",
        "0123456789abcdef",
        3,
    )

    shown = json.loads(cli("show", "a", "--json").out)
    assert [s["title"] for s in shown["sections"]] == ["T1", "T2", "T3"]
    # What students read; not the bookkeeping (ids, each row's md5 of migration 0012).
    assert set(shown["sections"][0]) == {
        "section_number",
        "section_type",
        "title",
        "content",
        "media_url",
        "duration_seconds",
        "section_config",
        "completion_criteria",
    }
    text = cli("show", "a").out
    assert text.index("1. T1") < text.index("2. T2") < text.index("3. T3")

    missing = cli("show", "nope")
    assert missing.code == 2
    assert "no module 'nope' in the database" in missing.err


REFERENCE_ROWS = (
    "SELECT (SELECT count(*) FROM universities), (SELECT count(*) FROM faculty), "
    "(SELECT count(*) FROM teams)"
)


def test_seed_errors(repo: Repo, db: Database, cli: CLI) -> None:
    bad = repo.root / "ref.yaml"
    bad.write_text("universities:\n  - name: no id\n")
    result = cli("db", "seed", str(bad))
    assert result.code == 1
    assert 'universities[0]: missing the required key "id"' in result.err
    bad.write_text("faculty:\n  - id: f\n    university_id: nowhere\n")
    result = cli("db", "seed", str(bad))
    assert result.code == 1
    assert "faculty 'f'" in result.err and "nowhere" in result.err
    assert cli("db", "seed", "missing.yaml").code == 2
    assert db.rows(REFERENCE_ROWS) == [(0, 0, 0)], "a failed seed wrote rows"
    assert cli("db", "seed", str(ROOT / "data" / "reference.yaml")).code == 0
    assert db.rows(REFERENCE_ROWS) == [(1, 1, 1)]
    assert cli("db", "seed", str(ROOT / "data" / "reference.yaml")).code == 0  # idempotent
    assert db.rows(REFERENCE_ROWS) == [(1, 1, 1)]


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ('universities:\n  - id: "\\ud800"\n', "universities[0].id: the text holds \\ud800"),
        ("universities: &a [*a]\n", "universities[0]: an alias here refers to a value"),
        (f"universities:\n  - id: {'x' * 300_000}\n", "longer than 255 characters"),
        (
            'universities:\n  - id: cpp\n    name: "a\\0b"\n',
            "universities[0].name: the text holds a NUL",
        ),
    ],
    ids=["surrogate", "self-alias", "long-id", "nul"],
)
def test_seed_refuses_what_the_database_cannot_take(
    repo: Repo, db: Database, cli: CLI, text: str, words: str
) -> None:
    """Exit 1 naming the file and the row, before the database is asked; never exit 3
    (a crash) or 4 (a "broken connection" for an index entry that is too long)."""
    bad = repo.root / "ref.yaml"
    bad.write_text(text, encoding="utf-8")
    result = cli("db", "seed", str(bad))
    assert result.code == 1, result.err
    assert result.err.startswith(f"error: {bad}: ")
    assert words in result.err
    assert len(result.err) < 1000
    assert db.rows(REFERENCE_ROWS) == [(0, 0, 0)]


def test_the_longest_ids_the_schema_allows_fit_the_databases_index(
    repo: Repo, db: Database, cli: CLI
) -> None:
    """255 characters of 4 bytes each: 1,020 bytes, well within a btree entry."""
    longest = "\N{GRINNING FACE}" * 255
    good = repo.root / "ref.yaml"
    good.write_text(
        f"universities:\n  - id: {longest}\n"
        f"faculty:\n  - {{id: {longest}, university_id: {longest}}}\n",
        encoding="utf-8",
    )
    result = cli("db", "seed", str(good))
    assert result.code == 0, result.err
    assert db.rows("SELECT length(id), octet_length(id) FROM universities") == [(255, 1020)]
    assert db.value("SELECT university_id FROM faculty") == longest


def test_readme_main_job_on_the_embedded_database(
    repo: Repo, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """The README's first command, with no DATABASE_URL: an embedded server starts."""
    import os
    import subprocess

    repo.copy_samples()
    # A fresh machine: no database configured, not in CI.
    unset = ("DATABASE_URL", "PIPELINE_DATABASE", "CI", "GITHUB_ACTIONS")
    env = {k: v for k, v in os.environ.items() if k not in unset}
    embedded = tmp_path_factory.mktemp("embedded") / "postgres"
    env["PIPELINE_EMBEDDED_DIR"] = str(embedded)
    job = "pipeline db migrate && pipeline db seed && pipeline deploy"
    try:
        first = subprocess.run(
            job, shell=True, cwd=repo.root, env=env, capture_output=True, text=True, check=False
        )
        assert first.returncode == 0, first.stderr
        assert "deployed (3 insert" in first.stdout
        # Each command names its database first, and says nothing else.
        assert first.stderr == f"database: embedded Postgres at {embedded}\n" * 3
        again = subprocess.run(
            "pipeline deploy",
            shell=True,
            cwd=repo.root,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        assert "3 unchanged, 0 archived; nothing written" in again.stdout
    finally:
        stopped = subprocess.run(
            "pipeline db stop",
            shell=True,
            cwd=repo.root,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
    assert stopped.stdout.strip() == "embedded Postgres stopped"
