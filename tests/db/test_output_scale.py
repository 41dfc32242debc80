"""Output that scales (issue #15 item 3): a deploy plan and `pipeline status` print the
rows that matter and counts; `--all` prints every row; `--json` always has them all."""

from __future__ import annotations

import json

from tests.builders import module
from tests.conftest import CLI, Database, Repo


def test_one_change_among_many_prints_one_row(repo: Repo, db: Database, cli: CLI) -> None:
    for n in range(30):
        repo.write(module(module_id=f"m{n:02d}"))
    assert cli("deploy").code == 0
    repo.write(module(module_id="m07", title="Changed"))
    result = cli("deploy")
    assert result.code == 0
    rows = [line for line in result.out.splitlines() if " m" in line and "│" in line]
    assert [r.split("│")[1].strip() for r in rows] == ["m07"]
    assert "1 update, 29 unchanged" in result.out

    every = cli("deploy", "--dry-run", "--all")
    assert sum(" m" in line and "│" in line for line in every.out.splitlines()) == 30
    plan = json.loads(cli("deploy", "--dry-run", "--json").out)
    assert len(plan["modules"]) == 30
    assert plan["modules"][0]["module_id"] == "m00"


def test_status_prints_counts_and_what_is_worth_a_look(repo: Repo, db: Database, cli: CLI) -> None:
    for n in range(20):
        repo.write(module(module_id=f"m{n:02d}"))
    repo.write(module(module_id="draft", status="draft"))
    assert cli("deploy").code == 0
    repo.write(module(module_id="m03", title="Changed"))
    assert cli("deploy").code == 0
    db.conn.execute("UPDATE modules SET title = 'Edited by hand' WHERE module_id = 'm11'")

    out = cli("status").out
    listed = {line.split("│")[1].strip() for line in out.splitlines() if "│" in line}
    assert listed - {"module"} == {"m03", "draft", "m11"}  # latest deploy, draft, drifted
    assert "21 modules: 1 draft, 20 published; 18 more unchanged (--all lists them)" in out
    every = cli("status", "--all").out
    assert sum("│" in line and " m" in line for line in every.splitlines()) == 20
    rows = json.loads(cli("status", "--json").out)
    assert len(rows) == 21
    assert {r["module_id"] for r in rows if r["drifted"]} == {"m11"}
