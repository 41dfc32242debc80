"""`pipeline validate` in a real process: exit codes and output as CI sees them."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from tests.builders import broken_tree, module
from tests.conftest import Database, Repo


def _python(repo: Repo, *args: str) -> subprocess.CompletedProcess[str]:
    """Python in a process of its own, in the repository."""
    return subprocess.run(
        [sys.executable, *args], cwd=repo.root, capture_output=True, text=True, check=False
    )


def test_python_dash_m_in_a_real_process(repo: Repo) -> None:
    broken_tree(repo)
    done = _python(repo, "-m", "pipeline", "validate", "-f", "github")
    assert done.returncode == 1
    assert done.stdout.startswith("::error file=data/modules/bad.json,line=4,")
    assert done.stderr == ""


def test_internal_error_has_no_traceback(repo: Repo) -> None:
    repo.write(module())
    done = _python(
        repo,
        "-c",
        "import sys; from pipeline.cli import main;"
        "import pipeline.modules.validate as v;"
        "v.validate_paths = lambda *a, **k: 1/0; main(['validate'])",
    )
    assert done.returncode == 3
    assert "internal error (ZeroDivisionError)" in done.stderr
    assert "Traceback" not in done.stderr


def test_the_command_spares_the_collector_and_keeps_its_exit_code(repo: Repo) -> None:
    """`python -m pipeline` freezes what is alive before main (the modules imported)
    and before the interpreter shuts down (full collections over them cost a deploy
    50 ms); the exit code and the output are what main made."""
    broken_tree(repo)
    done = _python(
        repo,
        "-c",
        "import atexit, gc, runpy, sys; import pipeline.cli as cli; real = cli.main;"
        "cli.main = lambda: (print(gc.get_freeze_count(), file=sys.stderr), real());"
        "atexit.register(lambda: print(gc.get_freeze_count(), file=sys.stderr));"
        "sys.argv = ['pipeline', 'validate', '-f', 'github'];"
        "runpy.run_module('pipeline', run_name='__main__')",
    )
    assert done.returncode == 1
    assert done.stdout.startswith("::error file=data/modules/bad.json,line=4,")
    before_main, at_exit = map(int, done.stderr.split())
    assert 0 < before_main < at_exit  # main's own objects frozen too


def test_an_output_without_the_characters_printed_neither_fails_nor_garbles_json(
    repo: Repo, db: Database
) -> None:
    """A CI log or terminal in ASCII: the table's rules and ticks, and a title in
    another script, used to fail the command after its work (a deploy committed, then
    "internal error"). They are escaped instead, and --json stays the same JSON."""
    repo.write(module(module_id="lab", title="Sicherheit im Labor ✓ 😀"))
    env = {**os.environ, "PYTHONIOENCODING": "ascii"}
    for args in (["validate"], ["deploy"], ["status"], ["status", "--json"]):
        done = subprocess.run(
            [sys.executable, "-m", "pipeline", *args],
            cwd=repo.root,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        assert done.returncode == 0, (args, done.stderr)
        assert "Traceback" not in done.stderr
    assert json.loads(done.stdout)[0]["title"] == "Sicherheit im Labor ✓ 😀"
    assert db.rows("SELECT title FROM modules") == [("Sicherheit im Labor ✓ 😀",)]
