"""`pipeline learn sync` against the local Notion server and a real Postgres: full then
incremental, hierarchy and relations resolved, a changed page updates only its rows, a
bad page fails alone, pages gone from Notion, and what a run costs in requests."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from tests.conftest import CLI, Database, Repo
from tests.doubles.notion_learning import (
    Workspace,
    date,
    flashcard,
    number,
    paragraph,
    relation,
    select,
    text,
    title,
)
from tests.doubles.notion_server import TOKEN, NotionServer, NotionState, serve

HOUR_AGO = time.time() - 3600


@pytest.fixture
def notion(repo: Repo, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[NotionServer, Workspace]]:
    for server in serve(NotionState()):
        monkeypatch.setenv("NOTION_TOKEN", TOKEN)
        monkeypatch.setenv("NOTION_API_BASE_URL", server.url)
        workspace = Workspace(server.state)
        (repo.root / "pipeline.yaml").write_text(workspace.config())
        yield server, workspace


def knowledge_base(ws: Workspace) -> dict[str, str]:
    """Area -> cluster -> concept, an orphan concept, one directly under the area;
    program -> track -> module; three flashcards."""
    ids: dict[str, str] = {}
    ids["cs"] = ws.add(
        "concept_areas",
        {"Name": title("Computer Science"), "Domain": select("STEM"), "Order": number(1)},
        edited=HOUR_AGO,
    )
    ids["networks"] = ws.add(
        "concept_clusters",
        {
            "Name": title("Networks"),
            "Concept Area": relation(ids["cs"]),
            "Exam Weight": number(12.5),
        },
        edited=HOUR_AGO,
    )
    ids["tcp"] = ws.add(
        "concepts",
        {
            "Name": title("TCP"),
            "Concept Cluster": relation(ids["networks"]),
            "Status": select("Active"),
            "DEC Score": number(7.5),
            "Definition": text("Reliable transport"),
        },
        edited=HOUR_AGO,
    )
    ids["orphan"] = ws.add("concepts", {"Name": title("Orphan")}, edited=HOUR_AGO)
    ids["logic"] = ws.add(
        "concepts",
        {"Name": title("Logic"), "Concept Area": relation(ids["cs"]), "Status": select("To Learn")},
        edited=HOUR_AGO,
    )
    ids["degree"] = ws.add(
        "programs",
        {
            "Name": title("CS Degree"),
            "Status": select("Active"),
            "Start Date": date("2026-09-01"),
            "End Date": date("2030-06-30"),
        },
        edited=HOUR_AGO,
    )
    ids["net-track"] = ws.add(
        "tracks",
        {
            "Name": title("Computer Networks"),
            "Program": relation(ids["degree"]),
            "Order": number(2),
        },
        edited=HOUR_AGO,
    )
    ids["week1"] = ws.add(
        "modules",
        {
            "Name": title("Week 1: Transport"),
            "Track": relation(ids["net-track"]),
            "Week": number(1),
            "Status": select("In Progress"),
        },
        edited=HOUR_AGO,
    )
    ids["card1"] = ws.add(
        "flashcards",
        flashcard(
            "NET-M1-001-DEC",
            "What is TCP?",
            "Transmission Control Protocol",
            ids["tcp"],
            ids["week1"],
        ),
        [paragraph("A connection-oriented protocol.")],
        edited=HOUR_AGO,
    )
    ids["card2"] = ws.add(
        "flashcards",
        flashcard("NET-M1-002-DEC", "TCP is {{c1::connection-oriented}}", "", ids["tcp"]),
        edited=HOUR_AGO,
    )
    ids["card3"] = ws.add(
        "flashcards",
        flashcard("NET-M1-003-DEC", "Which port does HTTPS use?", "443", None, ids["week1"]),
        [paragraph("Usually.")],
        edited=HOUR_AGO,
    )
    return ids


def test_full_sync_builds_the_hierarchy_and_resolves_relations(
    notion: tuple[NotionServer, Workspace], db: Database, cli: CLI
) -> None:
    _, ws = notion
    ids = knowledge_base(ws)
    result = cli("learn", "sync")
    assert result.code == 0, result.err + result.out
    assert db.value("SELECT count(*) FROM stg_notion_flashcards") == 3
    assert (
        db.value(
            "SELECT raw_properties->'CardID'->'rich_text'->0->>'plain_text' FROM "
            "stg_notion_flashcards WHERE notion_page_id = %s",
            ids["card1"],
        )
        == "NET-M1-001-DEC"
    )
    assert (
        db.value(
            "SELECT raw_content->0->'paragraph'->'rich_text'->0->>'plain_text' FROM "
            "stg_notion_flashcards WHERE notion_page_id = %s",
            ids["card1"],
        )
        == "A connection-oriented protocol."
    )
    assert db.rows(
        "SELECT notion_page_id, parent_type, parent_notion_id FROM stg_notion_concepts "
        "ORDER BY parent_type NULLS LAST"
    ) == [
        (ids["logic"], "area", ids["cs"]),
        (ids["tcp"], "cluster", ids["networks"]),
        (ids["orphan"], None, None),
    ]
    # area -> cluster -> concept, with the area of a concept directly under one
    assert db.rows(
        "SELECT c.name, cl.name, coalesce(ca.name, a2.name), c.status, c.dec_score::text "
        "FROM concepts c LEFT JOIN clean_concept_clusters cl ON cl.id = c.cluster_id "
        "LEFT JOIN clean_concept_areas ca ON ca.id = cl.concept_area_id "
        "LEFT JOIN clean_concept_areas a2 ON a2.id = c.concept_area_id ORDER BY c.name"
    ) == [
        ("Logic", None, "Computer Science", "to_learn", None),
        ("Orphan", None, None, "to_learn", None),
        ("TCP", "Networks", "Computer Science", "active", "7.50"),
    ]
    assert db.rows(
        "SELECT p.name, p.start_date::text, p.end_date::text, t.name, m.name, m.week_order, "
        "m.status FROM learning_modules m JOIN clean_tracks t ON t.id = m.track_id "
        "JOIN clean_programs p ON p.id = t.program_id"
    ) == [
        (
            "CS Degree",
            "2026-09-01",
            "2030-06-30",
            "Computer Networks",
            "Week 1: Transport",
            1,
            "in_progress",
        )
    ]
    assert db.rows(
        "SELECT a.card_id, a.atom_type, a.front, a.back, c.name, m.name, a.source "
        "FROM learning_atoms a LEFT JOIN concepts c ON c.id = a.concept_id "
        "LEFT JOIN learning_modules m ON m.id = a.module_id ORDER BY a.card_id"
    ) == [
        (
            "NET-M1-001-DEC",
            "flashcard",
            "What is TCP?",
            "Transmission Control Protocol",
            "TCP",
            "Week 1: Transport",
            "notion",
        ),
        (
            "NET-M1-002-DEC",
            "cloze",
            "TCP is {{c1::connection-oriented}}",
            None,
            "TCP",
            None,
            "notion",
        ),
        (
            "NET-M1-003-DEC",
            "flashcard",
            "Which port does HTTPS use?",
            "443",
            None,
            "Week 1: Transport",
            "notion",
        ),
    ]
    assert db.rows(
        "SELECT sync_type, status, items_added, items_failed FROM sync_log "
        "WHERE sync_type LIKE 'notion%%'"
    ) == [("notion_full", "completed", 11, 0)]


def test_incremental_sync_asks_only_for_edited_pages_and_writes_only_their_rows(
    notion: tuple[NotionServer, Workspace], db: Database, cli: CLI
) -> None:
    server, ws = notion
    ids = knowledge_base(ws)
    assert cli("learn", "sync").code == 0
    before = dict(db.rows("SELECT card_id, xmin::text FROM learning_atoms"))
    concepts = dict(db.rows("SELECT name, xmin::text FROM concepts"))
    server.state.hits.clear()

    ws.edit(ids["card3"], Answer=text("443 (TLS)"))
    result = cli("learn", "sync", "--json")
    assert result.code == 0, result.err
    after = dict(db.rows("SELECT card_id, xmin::text FROM learning_atoms"))
    assert [k for k in before if before[k] != after[k]] == ["NET-M1-003-DEC"]
    assert dict(db.rows("SELECT name, xmin::text FROM concepts")) == concepts
    assert (
        db.value("SELECT back FROM learning_atoms WHERE card_id = 'NET-M1-003-DEC'") == "443 (TLS)"
    )
    # 7 databases (retrieve + one query each), and the changed page's blocks: nothing else
    blocks = {k: v for k, v in server.state.hits.items() if "/blocks/" in k}
    assert blocks == {"GET /v1/blocks/{id}/children": 1}
    assert sum(server.state.hits.values()) == 7 * 2 + 1
    assert db.rows(
        "SELECT sync_type, items_updated FROM sync_log WHERE sync_type LIKE 'notion%%' "
        "ORDER BY started_at"
    ) == [("notion_full", 0), ("notion_incremental", 1)]


def test_a_bad_page_fails_alone(
    notion: tuple[NotionServer, Workspace], db: Database, cli: CLI
) -> None:
    _, ws = notion
    ids = knowledge_base(ws)
    assert cli("learn", "sync").code == 0
    ws.add("concepts", {"Name": title("Broken"), "Status": select("Learning")})
    ws.add("concepts", {"Name": title("Too good"), "DEC Score": number(11)})
    ws.add("flashcards", flashcard("NET-M1-001-DEC", "Copied", "x"))
    ws.add("flashcards", flashcard("NET-X", "", "no question"))
    result = cli("learn", "sync")
    assert result.code == 1
    assert (
        "'Status' is 'Learning'; choose one of To Learn, Active, Reviewing, Mastered, Stale"
        in result.out
    )
    assert "'DEC Score' is 11; write a number from 0 to 10" in result.out
    assert f"CardID 'NET-M1-001-DEC' is also on page {ids['card1']}" in result.out
    assert "'Question' is empty" in result.out
    assert "traceback" not in (result.out + result.err).lower()
    assert db.value("SELECT count(*) FROM concepts") == 3
    assert db.value("SELECT count(*) FROM learning_atoms") == 3
    assert (
        db.value("SELECT front FROM learning_atoms WHERE card_id = 'NET-M1-001-DEC'")
        == "What is TCP?"
    )
    # the copy fails; the page that had the CardID first keeps its atom
    assert db.value("SELECT items_failed FROM sync_log WHERE sync_type = 'notion_incremental'") == 4
    # the duplicate is fixed in Notion: both pages sync
    copy = next(p for p, page in ws.state.pages.items() if "Copied" in str(page["properties"]))
    ws.edit(copy, CardID=text("NET-M1-009-DEC"))
    assert "NET-M1-001" not in cli("learn", "sync").out
    assert db.value("SELECT front FROM learning_atoms WHERE card_id = 'NET-M1-009-DEC'") == "Copied"
    del ids


def test_pages_gone_from_notion_are_removed_and_atoms_in_anki_kept(
    notion: tuple[NotionServer, Workspace], db: Database, cli: CLI
) -> None:
    _, ws = notion
    ids = knowledge_base(ws)
    assert cli("learn", "sync").code == 0
    db.conn.execute(
        "UPDATE learning_atoms SET anki_note_id = 1, anki_card_id = 2 "
        "WHERE card_id = 'NET-M1-001-DEC'"
    )
    ws.trash(ids["card1"])
    ws.trash(ids["card3"])
    ws.trash(ids["orphan"])
    result = cli("learn", "sync", "--full", "--json")
    assert result.code == 0, result.err
    assert db.rows(
        "SELECT card_id, source_removed_at IS NOT NULL FROM learning_atoms ORDER BY card_id"
    ) == [
        ("NET-M1-001-DEC", True),
        ("NET-M1-002-DEC", False),
    ]
    assert db.value("SELECT count(*) FROM concepts WHERE name = 'Orphan'") == 0
    assert (
        db.value(
            "SELECT items_removed FROM sync_log WHERE sync_type = 'notion_full' "
            "ORDER BY started_at DESC LIMIT 1"
        )
        == 3
    )


def test_dry_run_writes_nothing(
    notion: tuple[NotionServer, Workspace], db: Database, cli: CLI
) -> None:
    _, ws = notion
    knowledge_base(ws)
    result = cli("learn", "sync", "--dry-run")
    assert result.code == 0, result.err
    assert "dry run" in result.out
    assert db.value("SELECT count(*) FROM learning_atoms") == 0
    assert db.value("SELECT count(*) FROM stg_notion_flashcards") == 0
    assert db.value("SELECT count(*) FROM sync_log") == 0


def test_a_page_whose_blocks_fail_is_asked_for_again_next_run(
    notion: tuple[NotionServer, Workspace], db: Database, cli: CLI, monkeypatch: pytest.MonkeyPatch
) -> None:
    server, ws = notion
    ids = knowledge_base(ws)
    monkeypatch.setenv("PIPELINE_NOTION_ATTEMPTS", "1")
    server.state.faults.append((f"GET /v1/blocks/{ids['card3']}/children", 503))
    first = cli("learn", "sync")
    assert first.code == 1
    assert f"flashcards page {ids['card3']}" in first.out and "its blocks" in first.out
    assert db.value("SELECT count(*) FROM learning_atoms") == 2
    # a full run whose blocks of a page fail does not take the page for gone
    ws.edit(ids["card1"], Answer=text("TCP"))
    server.state.faults.append((f"GET /v1/blocks/{ids['card1']}/children", 503))
    server.state.faults.append((f"GET /v1/blocks/{ids['card3']}/children", 503))
    assert cli("learn", "sync", "--full").code == 1
    assert (
        db.value(
            "SELECT count(*) FROM stg_notion_flashcards WHERE notion_page_id = %s", ids["card1"]
        )
        == 1
    )
    assert db.value("SELECT back FROM learning_atoms WHERE card_id = 'NET-M1-001-DEC'") == (
        "Transmission Control Protocol"
    )
    again = cli("learn", "sync")  # incremental: the failed page is asked for again
    assert again.code == 0, again.out + again.err
    assert db.value("SELECT count(*) FROM learning_atoms") == 3


def test_notion_failing_fails_the_run_and_writes_nothing(
    notion: tuple[NotionServer, Workspace], db: Database, cli: CLI, monkeypatch: pytest.MonkeyPatch
) -> None:
    server, ws = notion
    knowledge_base(ws)
    monkeypatch.setenv("PIPELINE_NOTION_ATTEMPTS", "1")
    server.state.faults.append((r"POST /v1/data_sources/.*/query", 503))
    result = cli("learn", "sync")
    assert result.code == 4
    assert TOKEN not in result.out + result.err
    assert "traceback" not in result.err.lower()
    assert db.rows("SELECT sync_type, status, error_message IS NOT NULL FROM sync_log") == [
        ("notion_full", "failed", True)
    ]
    assert db.value("SELECT count(*) FROM stg_notion_flashcards") == 0
    assert cli("learn", "sync").code == 0  # the next run is a full one again
    assert (
        db.value(
            "SELECT sync_type FROM sync_log WHERE status = 'completed' "
            "AND sync_type LIKE 'notion%%'"
        )
        == "notion_full"
    )


def test_learn_tables_hold_no_student_data() -> None:
    """Seed 003 is one learner's: nothing in pipeline/learn reads the LMS's students."""
    import re

    from tests.conftest import ROOT

    tables = "students|module_progress|module_assignments|module_feedback|module_analytics_events"
    used = re.compile(rf"\b(?:FROM|JOIN|INTO|UPDATE|TABLE)\s+(?:{tables})\b", re.IGNORECASE)
    sources = [*(ROOT / "pipeline" / "learn").glob("*.py")]
    sources.append(ROOT / "pipeline" / "db" / "migrations" / "0011_learning_sync.sql")
    for path in sources:
        assert not used.search(path.read_text(encoding="utf-8")), path.name
    assert used.search("SELECT 1 FROM module_progress")  # the check would see one
