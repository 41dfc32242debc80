"""`pipeline sync push/pull` with a real Postgres and the local Notion server."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import psycopg
import pytest

from pipeline.notion.api import NotionAPI
from pipeline.sync.entities import entities
from pipeline.sync.run import read_sync_config, run_sync
from tests.builders import rt
from tests.conftest import CLI, Database, Repo
from tests.doubles.notion_server import (
    TOKEN,
    NotionServer,
    NotionState,
    delete_property,
    duplicate,
    edit_time,
    new_row,
    point_cli_at,
    rename_property,
    retype_property,
    serve,
    trash,
)


@pytest.fixture
def notion(
    repo: Repo, db: Database, monkeypatch: pytest.MonkeyPatch, cli: CLI
) -> Iterator[NotionServer]:
    for server in serve(NotionState()):
        point_cli_at(server, monkeypatch, repo.root)
        db.conn.execute(
            "INSERT INTO universities (id, name, code) VALUES ('cpp', 'Cal Poly "
            "Pomona', 'CPP'), ('uci', 'UC Irvine', 'UCI')"
        )
        db.conn.execute(
            "INSERT INTO teams (name, university_id, status) VALUES ('Structures', 'cpp', 'active')"
        )
        db.conn.execute(
            "INSERT INTO students (id, name, university_id) VALUES ('s1', 'Ada', 'cpp')"
        )
        parent = server.state.add_page({}, [])["id"]
        assert cli("sync", "setup", "--parent-page", parent).code == 0
        yield server


def rows_of(notion: NotionServer, repo: Repo, entity: str) -> dict[str, dict[str, Any]]:
    """postgres_id -> page of an entity's database."""
    source = json.loads((repo.root / "notion-sync.json").read_text())["databases"][entity][
        "data_source_id"
    ]
    pages = [p for p in notion.state.pages.values() if p["parent"].get("data_source_id") == source]
    return {
        "".join(t["plain_text"] for t in p["properties"]["postgres_id"]["rich_text"]): p
        for p in pages
    }


def edit(page: dict[str, Any], name: str, kind: str, value: Any) -> None:
    """A team lead's edit in Notion: the value and the page's edit time change."""
    if kind == "select":
        value = {"name": value}
    page["properties"][name][kind] = value
    page["last_edited_time"] = edit_time()


def test_push_then_edit_in_notion_then_pull(
    repo: Repo, db: Database, notion: NotionServer, cli: CLI
) -> None:
    result = cli("sync", "push")
    assert result.code == 0, result.out + result.err
    assert "universities: 2 added" in result.out
    universities = rows_of(notion, repo, "universities")
    assert sorted(universities) == ["cpp", "uci"]
    cpp = universities["cpp"]["properties"]
    assert cpp["Name"]["title"][0]["plain_text"] == "Cal Poly Pomona"
    assert cpp["sync_status"]["select"]["name"] == "synced"
    assert "students" not in json.loads((repo.root / "notion-sync.json").read_text())["databases"]

    again = cli("sync", "push")
    assert "universities: 0 added, 0 updated" in again.out

    edit(rows_of(notion, repo, "teams")["1"], "status", "select", "on_hold")
    result = cli("sync", "pull", "teams")
    assert result.code == 0, result.out + result.err
    assert "teams: 0 added, 1 updated" in result.out
    assert db.value("SELECT status FROM teams") == "on_hold"
    assert db.rows("SELECT sync_type, status FROM sync_log ORDER BY started_at") == [
        ("push", "completed"),
        ("push", "completed"),
        ("pull", "completed"),
    ]


def test_edit_in_postgres_then_push(
    repo: Repo, db: Database, notion: NotionServer, cli: CLI
) -> None:
    cli("sync", "push")
    db.conn.execute("UPDATE universities SET location = 'Pomona, CA' WHERE id = 'cpp'")
    result = cli("sync", "push", "universities")
    assert "universities: 0 added, 1 updated" in result.out
    page = rows_of(notion, repo, "universities")["cpp"]
    assert page["properties"]["location"]["rich_text"][0]["plain_text"] == "Pomona, CA"


def test_both_edited_is_a_conflict_and_nothing_is_lost(
    repo: Repo, db: Database, notion: NotionServer, cli: CLI
) -> None:
    cli("sync", "push")
    db.conn.execute("UPDATE teams SET status = 'completed'")
    page = rows_of(notion, repo, "teams")["1"]
    edit(page, "status", "select", "on_hold")
    for direction in ("push", "pull"):
        result = cli("sync", direction, "teams")
        assert result.code == 1
        assert "teams 1: changed in both Postgres and Notion" in result.out
        assert db.value("SELECT status FROM teams") == "completed"
        assert page["properties"]["status"]["select"]["name"] == "on_hold"
        assert page["properties"]["sync_status"]["select"]["name"] == "conflict"
        assert "changed in both Postgres and Notion" in text_of(page, "sync_notes")
    assert db.value("SELECT items_conflicted FROM sync_log ORDER BY started_at DESC LIMIT 1") == 1


def test_a_notion_failure_leaves_postgres_alone(
    repo: Repo, db: Database, notion: NotionServer, cli: CLI
) -> None:
    cli("sync", "push")
    edit(rows_of(notion, repo, "teams")["1"], "status", "select", "on_hold")
    notion.state.faults.extend([(r"POST /v1/data_sources", 409)])  # not safe to repeat
    result = cli("sync", "pull", "teams")
    assert result.code == 4, result.err
    assert db.value("SELECT status FROM teams") == "active"
    assert db.rows(
        "SELECT status, error_message IS NOT NULL FROM sync_log ORDER BY started_at DESC LIMIT 1"
    ) == [("failed", True)]


def test_students_never_without_configuration(
    repo: Repo, db: Database, notion: NotionServer, cli: CLI
) -> None:
    result = cli("sync", "push", "students")
    assert result.code == 2
    assert "unknown entity 'students'" in result.err


# -- issue #12, roster sync: data loss (items 16, 17, 18) ------------------------------------

LONG = " ".join(f"{i:05d}" for i in range(1000))  # 5,999 characters: three Notion pieces


def source_of(repo: Repo, entity: str) -> str:
    databases = json.loads((repo.root / "notion-sync.json").read_text())["databases"]
    return str(databases[entity]["data_source_id"])


def text_of(page: dict[str, Any], name: str) -> str:
    prop = page["properties"][name]
    return "".join(t["plain_text"] for t in prop[prop["type"]])


def last_log(db: Database) -> tuple[Any, ...]:
    return db.rows(
        "SELECT status, items_updated, items_conflicted, items_failed FROM sync_log "
        "ORDER BY started_at DESC LIMIT 1"
    )[0]


def states(db: Database) -> list[tuple[Any, ...]]:
    return db.rows("SELECT * FROM sync_state ORDER BY entity, postgres_id")


def test_long_text_is_pushed_whole_and_pulled_back_whole(
    repo: Repo, db: Database, notion: NotionServer, cli: CLI
) -> None:
    db.conn.execute(
        "INSERT INTO projects (id, name, description) VALUES ('p1', 'PROVES', %s)", (LONG,)
    )
    assert cli("sync", "push").code == 0
    page = rows_of(notion, repo, "projects")["p1"]
    assert len(page["properties"]["description"]["rich_text"]) == 3
    assert text_of(page, "description") == LONG

    result = cli("sync", "pull")
    assert result.code == 0, result.out + result.err
    assert db.value("SELECT description FROM projects") == LONG

    edited = LONG.replace("00500", "fifty")  # a team lead's edit inside the second piece
    edit(page, "description", "rich_text", [rt(edited[:1000]), rt(edited[1000:])])
    assert cli("sync", "pull").code == 0
    assert db.value("SELECT description FROM projects") == edited


def test_text_beyond_notions_limit_is_that_rows_failure_never_cut(
    repo: Repo, db: Database, notion: NotionServer, cli: CLI
) -> None:
    db.conn.execute(
        "INSERT INTO projects (id, name, description) VALUES ('p1', 'PROVES', %s), "
        "('p2', 'Other', 'short')",
        ("x" * 200_001,),
    )
    result = cli("sync", "push")
    assert result.code == 1
    assert "projects p1: description is 200,001 characters long" in result.out
    assert "shorten it in Postgres" in result.out
    assert sorted(rows_of(notion, repo, "projects")) == ["p2"]  # the rest went on
    assert "teams: 1 added" in result.out
    assert last_log(db)[3] == 1
    assert cli("sync", "pull").code == 0
    assert db.value("SELECT length(description) FROM projects WHERE id = 'p1'") == 200_001

    db.conn.execute("UPDATE projects SET description = %s WHERE id = 'p1'", ("y" * 200_000,))
    assert cli("sync", "push").code == 0
    page = rows_of(notion, repo, "projects")["p1"]
    assert len(page["properties"]["description"]["rich_text"]) == 100
    assert cli("sync", "pull").code == 0
    assert db.value("SELECT description FROM projects WHERE id = 'p1'") == "y" * 200_000


def test_text_an_older_push_cut_is_never_pulled_back(
    repo: Repo, db: Database, notion: NotionServer, cli: CLI
) -> None:
    db.conn.execute(
        "INSERT INTO projects (id, name, description) VALUES ('p1', 'PROVES', %s)", (LONG,)
    )
    assert cli("sync", "push").code == 0
    page = rows_of(notion, repo, "projects")["p1"]
    # What a push before this change left in Notion: the text cut at 2,000 characters.
    edit(page, "description", "rich_text", [rt(LONG[:2000])])
    result = cli("sync", "pull")
    assert result.code == 0, result.out
    assert db.value("SELECT description FROM projects") == LONG
    result = cli("sync", "push", "projects")
    assert "projects: 0 added, 1 updated" in result.out
    assert text_of(page, "description") == LONG


@pytest.mark.parametrize("direction", ["pull", "push"])
def test_a_duplicated_page_is_a_conflict_and_nothing_is_written(
    direction: str, repo: Repo, db: Database, notion: NotionServer, cli: CLI
) -> None:
    cli("sync", "push")
    original = rows_of(notion, repo, "teams")["1"]
    copy = duplicate(notion.state, original["id"])  # Notion's "Duplicate" copies postgres_id
    if direction == "pull":  # the team lead makes the copy a new team
        edit(copy, "Name", "title", [rt("Structures (copy)")])
    else:  # something a push would write
        db.conn.execute("UPDATE teams SET subsystem = 'ADCS'")
    pg_before = db.rows("SELECT name, subsystem FROM teams")
    result = cli("sync", direction, "teams")
    assert result.code == 1
    [line] = [line for line in result.out.splitlines() if "needs a person" in line]
    assert "teams 1:" in line and original["id"] in line and copy["id"] in line
    assert db.rows("SELECT name, subsystem FROM teams") == pg_before
    assert text_of(original, "Name") == "Structures"
    assert text_of(copy, "Name") == ("Structures (copy)" if direction == "pull" else "Structures")
    for page in (original, copy):
        assert page["properties"]["subsystem"]["rich_text"] == []
        assert page["properties"]["sync_status"]["select"]["name"] == "conflict"
    assert last_log(db)[1:] == (0, 1, 0)

    trash(copy)  # the person resolves it
    db.conn.execute("UPDATE teams SET subsystem = 'Frames'")
    assert cli("sync", "push", "teams").code == 0
    assert text_of(original, "subsystem") == "Frames"
    assert original["properties"]["sync_status"]["select"]["name"] == "synced"


def test_a_copy_whose_original_is_in_the_trash_takes_its_place(
    repo: Repo, db: Database, notion: NotionServer, cli: CLI
) -> None:
    cli("sync", "push")
    original = rows_of(notion, repo, "teams")["1"]
    copy = duplicate(notion.state, original["id"])
    trash(original)
    edit(copy, "status", "select", "on_hold")
    result = cli("sync", "pull", "teams")
    assert result.code == 0, result.out
    assert db.value("SELECT status FROM teams") == "on_hold"
    assert db.value("SELECT notion_page_id FROM sync_state WHERE entity = 'teams'") == copy["id"]


def test_a_pull_that_fails_part_way_writes_nothing(
    repo: Repo, db: Database, notion: NotionServer, cli: CLI
) -> None:
    cli("sync", "push")
    edit(rows_of(notion, repo, "universities")["cpp"], "location", "rich_text", [rt("Pomona")])
    before = states(db)
    # Teams are read after universities; their query fails (409: not retried).
    notion.state.faults.append((rf"POST /v1/data_sources/{source_of(repo, 'teams')}/query", 409))
    result = cli("sync", "pull")
    assert result.code == 4, result.err
    assert db.value("SELECT location FROM universities WHERE id = 'cpp'") is None
    assert states(db) == before
    assert "the query of the Teams database" in result.err
    assert last_log(db)[0] == "failed"


TWO_TEAMS_AND_INTERFACES = """
INSERT INTO teams (id, name, university_id, status) VALUES (2, 'Power', 'uci', 'active');
INSERT INTO interfaces (id, name, from_team_id, to_team_id, energy_loss) VALUES
    ('i1', 'Structures to Power', 1, 2, 40), ('i2', 'Power to Structures', 2, 1, 60);
"""


@pytest.mark.parametrize(
    ("entity", "key", "name", "kind", "bad", "words"),
    [
        ("teams", "1", "Name", "title", [rt("x" * 300)], "Name is 300 characters long"),
        ("teams", "1", "university_id", "rich_text", [rt("nowhere")], "(university_id)=(nowhere)"),
        ("interfaces", "i1", "energy_loss", "number", 150, "interfaces_energy_loss_check"),
        ("interfaces", "i1", "energy_loss", "number", 1.5, "energy_loss is 1.5"),
    ],
    ids=["too-long", "foreign-key", "check", "fraction"],
)
def test_a_row_postgres_cannot_take_is_that_rows_failure(
    entity: str,
    key: str,
    name: str,
    kind: str,
    bad: Any,
    words: str,
    repo: Repo,
    db: Database,
    notion: NotionServer,
    cli: CLI,
) -> None:
    db.conn.execute(TWO_TEAMS_AND_INTERFACES)
    assert cli("sync", "push").code == 0
    before = states(db)
    page = rows_of(notion, repo, entity)[key]
    edit(page, name, kind, bad)
    # The rest goes on: a later row of both entities, a later entity.
    edit(rows_of(notion, repo, "teams")["2"], "status", "select", "on_hold")
    edit(rows_of(notion, repo, "interfaces")["i2"], "energy_loss", "number", 55)
    result = cli("sync", "pull")
    assert result.code == 1
    [line] = [line for line in result.out.splitlines() if "needs a person" in line]
    assert f"{entity} {key}:" in line and words in line and page["id"] in line
    assert "correct it in Notion" in line
    assert db.value("SELECT status FROM teams WHERE id = 2") == "on_hold"
    assert db.value("SELECT energy_loss FROM interfaces WHERE id = 'i2'") == 55
    assert db.rows("SELECT name, university_id FROM teams WHERE id = 1") == [("Structures", "cpp")]
    assert db.value("SELECT energy_loss FROM interfaces WHERE id = 'i1'") == 40
    assert [s for s in states(db) if s[:2] == (entity, key)] == [
        s for s in before if s[:2] == (entity, key)
    ]
    assert last_log(db) == ("completed", 2, 0, 1)
    assert page["properties"]["sync_status"]["select"]["name"] == "pending"
    notes = text_of(page, "sync_notes")
    assert notes.startswith("Not synced: Postgres cannot take this row") and words in notes


def test_a_page_in_the_trash_is_that_rows_failure(
    repo: Repo, db: Database, notion: NotionServer, cli: CLI
) -> None:
    cli("sync", "push")
    page = rows_of(notion, repo, "teams")["1"]
    trash(page)
    db.conn.execute("UPDATE teams SET status = 'completed'")
    db.conn.execute("INSERT INTO projects (id, name) VALUES ('p1', 'PROVES')")  # a later entity
    result = cli("sync", "push")
    assert result.code == 1, result.err
    assert "the Notion page of teams 1 is in the trash" in result.out
    assert page["id"] in result.out
    assert sorted(rows_of(notion, repo, "projects")) == ["p1"]
    assert last_log(db)[3] == 1

    page["in_trash"] = page["archived"] = False  # restored from the trash
    assert cli("sync", "push").code == 0
    assert page["properties"]["status"]["select"]["name"] == "completed"


def test_a_row_changed_in_postgres_while_the_pull_reads_is_not_overwritten(
    repo: Repo, db: Database, notion: NotionServer, cli: CLI
) -> None:
    """Every entity is read before any is written: a Postgres edit in between is kept."""
    cli("sync", "push")
    page = rows_of(notion, repo, "teams")["1"]
    edit(page, "status", "select", "on_hold")
    teams = source_of(repo, "teams")
    before = states(db)

    class Meanwhile(NotionAPI):
        """Someone edits the team in Postgres while later entities are read from Notion."""

        teams_read = False

        def query(
            self, data_source_id: str, *, what: str = "", **body: Any
        ) -> Iterator[dict[str, Any]]:
            if self.teams_read:
                db.conn.execute("UPDATE teams SET status = 'completed'")
            self.teams_read = self.teams_read or data_source_id == teams
            yield from super().query(data_source_id, what=what, **body)

    api = Meanwhile(TOKEN, base_url=notion.url, per_second=200)
    databases = read_sync_config(repo.root / "notion-sync.json")
    with psycopg.connect(db.url, autocommit=True) as conn:
        results = run_sync(conn, api, "pull", entities(None), databases)
    assert db.value("SELECT status FROM teams") == "completed"
    [teams_result] = [r for r in results if r.entity == "teams"]
    assert teams_result.conflicts == [
        "teams 1: changed in Postgres while this pull ran; nothing was overwritten; pull again"
    ]
    assert page["properties"]["sync_status"]["select"]["name"] == "conflict"
    assert states(db) == before


# -- a team lead changes a database's properties; rows Postgres does not have ----------------


def status_of(page: dict[str, Any]) -> tuple[str | None, str]:
    """The row's sync_status and sync_notes, as the team lead sees them."""
    select = page["properties"]["sync_status"]["select"]
    return (select or {}).get("name"), text_of(page, "sync_notes")


def time_passes(db: Database, notion: NotionServer, hours: float) -> None:
    """Move every sync run and every page edit `hours` into the past (later runs of the
    schedule see them as old)."""
    db.conn.execute(
        "UPDATE sync_log SET started_at = started_at - make_interval(secs => %s), "
        "completed_at = completed_at - make_interval(secs => %s)",
        (hours * 3600, hours * 3600),
    )
    for page in notion.state.pages.values():
        at = datetime.fromisoformat(page["last_edited_time"].replace("Z", "+00:00"))
        page["last_edited_time"] = edit_time(at.timestamp() - hours * 3600)


def test_a_renamed_property_holds_its_table_and_postgres_keeps_every_value(
    repo: Repo, db: Database, notion: NotionServer, cli: CLI
) -> None:
    """Red team: `code` renamed `Code` read as None and wiped the column of every row."""
    assert cli("sync", "push").code == 0
    source = source_of(repo, "universities")
    rename_property(notion.state, source, "code", "Code")
    cpp = rows_of(notion, repo, "universities")["cpp"]
    edit(cpp, "Code", "rich_text", [rt("CPP-POMONA")])
    edit(cpp, "Name", "title", [rt("Cal Poly Pomona (CPP)")])
    edit(rows_of(notion, repo, "teams")["1"], "status", "select", "on_hold")  # another table
    before = db.rows("SELECT id, name, code FROM universities ORDER BY id")
    states_before = [s for s in states(db) if s[0] == "universities"]
    updates = 0

    for direction in ("pull", "push", "pull"):  # and on the next runs of the schedule
        result = cli("sync", direction)
        assert result.code == 1, result.out + result.err
        assert "Traceback" not in result.err
        assert "universities: not synced" in result.out
        [line] = [line for line in result.out.splitlines() if "needs a person" in line]
        assert 'Universities database in Notion has no property "code" (text)' in line
        assert '"Code" may be it, renamed' in line and 'rename it back to "code"' in line
        assert db.rows("SELECT id, name, code FROM universities ORDER BY id") == before
        assert [s for s in states(db) if s[0] == "universities"] == states_before
        status, notes = status_of(cpp)
        assert status == "pending"
        assert 'property "code" is missing' in notes and 'rename it back to "code"' in notes
        if direction == "push":  # the row shows it already: not written again
            assert notion.state.hits["PATCH /v1/pages/{id}"] == updates
        updates = notion.state.hits["PATCH /v1/pages/{id}"]
        time_passes(db, notion, hours=1)
    assert db.value("SELECT status FROM teams") == "on_hold"  # the other tables went on

    rename_property(notion.state, source, "Code", "code")
    result = cli("sync", "pull")
    assert result.code == 0, result.out + result.err
    assert db.rows("SELECT id, name, code FROM universities ORDER BY id") == [
        ("cpp", "Cal Poly Pomona (CPP)", "CPP-POMONA"),
        ("uci", "UC Irvine", "UCI"),
    ]
    assert status_of(cpp) == ("synced", "")


@pytest.mark.parametrize("gone", ["sync_status", "postgres_id"])
def test_a_renamed_bookkeeping_property_holds_its_table(
    gone: str, repo: Repo, db: Database, notion: NotionServer, cli: CLI
) -> None:
    assert cli("sync", "push").code == 0
    rename_property(notion.state, source_of(repo, "universities"), gone, gone.upper())
    before = db.rows("SELECT * FROM universities ORDER BY id")
    result = cli("sync", "pull", "universities")
    assert result.code == 1, result.out + result.err
    assert f'has no property "{gone}"' in result.out
    assert f'"{gone.upper()}" may be it, renamed' in result.out
    assert db.rows("SELECT * FROM universities ORDER BY id") == before


def test_a_select_made_multi_select_is_refused_never_cut_to_one(
    repo: Repo, db: Database, notion: NotionServer, cli: CLI
) -> None:
    """Red team: a multi-select's first choice was pulled and the others dropped."""
    assert cli("sync", "push").code == 0
    retype_property(
        notion.state,
        source_of(repo, "teams"),
        "team_type",
        "multi_select",
        lambda value: [value] if value else [],
    )
    team = rows_of(notion, repo, "teams")["1"]
    edit(team, "team_type", "multi_select", [{"name": "design"}, {"name": "testing"}])
    result = cli("sync", "pull")
    assert result.code == 1, result.out + result.err
    [line] = [line for line in result.out.splitlines() if "needs a person" in line]
    assert '"team_type" is a multi-select' in line and "change its type back to select" in line
    assert db.value("SELECT team_type FROM teams") is None
    status, notes = status_of(team)
    assert status == "pending" and '"team_type" is a multi-select' in notes
    assert "universities: 0 added" in result.out  # the other tables went on


def test_a_row_added_in_notion_is_told_on_the_row(
    repo: Repo, db: Database, notion: NotionServer, cli: CLI
) -> None:
    """Red team: only the command's output said so; the row showed nothing."""
    assert cli("sync", "push").code == 0
    source = source_of(repo, "universities")
    page = new_row(notion.state, source, {"Name": [rt("UC San Diego")], "code": [rt("UCSD")]})
    before = db.rows("SELECT * FROM universities ORDER BY id")
    result = cli("sync", "pull")
    assert result.code == 1, result.out + result.err
    [line] = [line for line in result.out.splitlines() if "needs a person" in line]
    assert '"UC San Diego"' in line and page["id"] in line and "no postgres_id" in line
    assert db.rows("SELECT * FROM universities ORDER BY id") == before
    status, notes = status_of(page)
    assert status == "pending"
    assert notes.startswith("Not synced: this row is not in Postgres")
    assert "write its id in postgres_id" in notes

    updates = notion.state.hits["PATCH /v1/pages/{id}"]
    assert cli("sync", "pull").code == 1
    assert notion.state.hits["PATCH /v1/pages/{id}"] == updates  # told once, not every run

    # What the note says to do: the row is added in Postgres, its id written in the page.
    db.conn.execute("INSERT INTO universities (id, name, code) VALUES ('ucsd', 'UCSD', 'UCSD')")
    edit(page, "postgres_id", "rich_text", [rt("ucsd")])
    result = cli("sync", "push")
    assert result.code == 0, result.out + result.err
    assert text_of(page, "Name") == "UCSD"  # Postgres's values (it is authoritative)
    assert status_of(page) == ("synced", "")
    assert len(rows_of(notion, repo, "universities")) == 3  # no second page for ucsd


def test_a_row_whose_postgres_id_names_no_row_is_told_on_the_row(
    repo: Repo, db: Database, notion: NotionServer, cli: CLI
) -> None:
    assert cli("sync", "push").code == 0
    page = new_row(
        notion.state,
        source_of(repo, "universities"),
        {"Name": [rt("UC San Diego")], "postgres_id": [rt("ucsd")]},
    )
    result = cli("sync", "pull")
    assert result.code == 1, result.out + result.err
    [line] = [line for line in result.out.splitlines() if "needs a person" in line]
    assert "universities ucsd:" in line and page["id"] in line
    assert 'postgres_id "ucsd" names no row' in status_of(page)[1]
    assert status_of(page)[0] == "pending"


def test_a_database_made_before_sync_notes_gets_it_at_the_next_run(
    repo: Repo, db: Database, notion: NotionServer, cli: CLI
) -> None:
    assert cli("sync", "push").code == 0
    source = source_of(repo, "teams")
    delete_property(notion.state, source, "sync_notes")
    team = rows_of(notion, repo, "teams")["1"]
    edit(team, "university_id", "rich_text", [rt("nowhere")])  # refused: the row is told
    result = cli("sync", "pull")
    assert result.code == 1, result.out + result.err
    assert notion.state.sources[source]["properties"]["sync_notes"]["type"] == "rich_text"
    assert status_of(team)[0] == "pending"
    assert "(university_id)=(nowhere)" in status_of(team)[1]


def test_a_held_run_of_one_university_tells_only_its_rows(
    repo: Repo, db: Database, notion: NotionServer, cli: CLI
) -> None:
    assert cli("sync", "push").code == 0
    rename_property(notion.state, source_of(repo, "universities"), "code", "Code")
    universities = rows_of(notion, repo, "universities")
    for page in universities.values():
        edit(page, "Name", "title", [rt("Renamed")])
    result = cli("sync", "pull", "--university", "uci")
    assert result.code == 1, result.out + result.err
    assert status_of(universities["uci"])[0] == "pending"
    assert status_of(universities["cpp"]) == ("synced", "")


def test_a_page_that_cannot_be_read_is_that_rows_failure_and_nothing_is_taken_from_it(
    repo: Repo, db: Database, notion: NotionServer, cli: CLI
) -> None:
    """A page without a property its database has (its database changed while the sync
    read it): the row is not taken as emptied; the others go on."""
    assert cli("sync", "push").code == 0
    pages = rows_of(notion, repo, "universities")
    edit(pages["cpp"], "Name", "title", [rt("Cal Poly")])
    del pages["cpp"]["properties"]["code"]
    edit(pages["uci"], "location", "rich_text", [rt("Irvine, CA")])
    result = cli("sync", "pull")
    assert result.code == 1, result.out + result.err
    [line] = [line for line in result.out.splitlines() if "needs a person" in line]
    assert "universities cpp:" in line and pages["cpp"]["id"] in line
    assert 'has no text property "code"' in line
    assert db.rows("SELECT id, name, code, location FROM universities ORDER BY id") == [
        ("cpp", "Cal Poly Pomona", "CPP", None),
        ("uci", "UC Irvine", "UCI", "Irvine, CA"),
    ]
