"""`pipeline learn clean`, the review queue, `learn rewrite` against a local Gemini API,
and quiz questions of deployed LMS modules becoming atoms, on a real Postgres."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from tests.builders import module, text_section
from tests.conftest import CLI, Database, Repo
from tests.doubles.gemini_server import GEMINI_KEY, GeminiServer, GeminiState, serve


def atom(db: Database, card: str, front: str, back: str | None, concept: str | None = None) -> str:
    return str(
        db.value(
            "INSERT INTO learning_atoms (card_id, front, back, concept_id) VALUES (%s, %s, %s, "
            "(SELECT id FROM concepts WHERE name = %s)) RETURNING id::text",
            card,
            front,
            back,
            concept,
        )
    )


def test_clean_logs_every_change_and_proposes_merges_once(
    repo: Repo, db: Database, cli: CLI
) -> None:
    db.conn.execute("INSERT INTO concepts (name) VALUES ('TCP')")
    first = atom(db, "C1", "Q: What is TCP?", "A: Transmission Control Protocol", "TCP")
    atom(db, "C2", "What is TCP", "A protocol", "TCP")
    long = atom(db, "C3", "List the layers", "- physical\n- link\n- network\n- transport", None)
    dry = cli("learn", "clean", "--dry-run", "--json")
    assert dry.code == 0, dry.err
    planned = json.loads(dry.out)
    assert planned["changed_atoms"] == 3
    assert db.value("SELECT count(*) FROM cleaning_log") == 0
    assert db.value("SELECT count(*) FROM review_queue") == 0

    result = cli("learn", "clean")
    assert result.code == 0, result.err
    assert "1 merges proposed" in result.out
    assert db.rows(
        "SELECT front, back, atomicity_status, quality_score::text FROM learning_atoms "
        "WHERE id = %s",
        first,
    ) == [("What is TCP?", "Transmission Control Protocol", "atomic", "1.00")]
    log = db.rows(
        "SELECT operation, old_value, new_value FROM cleaning_log WHERE atom_id = %s "
        "ORDER BY operation",
        first,
    )
    assert [r[0] for r in log] == ["atomicity_check", "prefix_normalize", "quality_score"]
    assert log[1][1] == {"front": "Q: What is TCP?", "back": "A: Transmission Control Protocol"}
    assert log[1][2] == {"front": "What is TCP?", "back": "Transmission Control Protocol"}
    assert db.rows(
        "SELECT atomicity_status, needs_review FROM learning_atoms WHERE id = %s", long
    ) == [("needs_split", True)]
    merge = db.rows(
        "SELECT source, status, original_atom_id::text, cardinality(merge_atom_ids) "
        "FROM review_queue"
    )
    assert merge == [("duplicate_merge", "pending", first, 1)]
    # the atoms themselves are not merged until a person approves
    assert db.value("SELECT count(*) FROM learning_atoms WHERE merged_into_id IS NOT NULL") == 0

    again = cli("learn", "clean", "--json")
    assert json.loads(again.out)["changed_atoms"] == 0
    assert db.value("SELECT count(*) FROM review_queue") == 1
    assert db.value("SELECT count(*) FROM sync_log WHERE sync_type = 'cleaning'") == 2


def queue_item(
    db: Database, original: str | None, front: str, back: str, source: str = "gemini"
) -> str:
    return str(
        db.value(
            "INSERT INTO review_queue (front, back, original_atom_id, original_front, "
            "original_back, source, quality_score, batch_id) SELECT %s, %s, a.id, a.front, a.back, "
            "%s, 0.9, 'b1' FROM (SELECT %s::uuid AS id) x "
            "LEFT JOIN learning_atoms a ON a.id = x.id "
            "RETURNING id::text",
            front,
            back,
            source,
            original,
        )
    )


def test_review_approve_reject_and_edit(repo: Repo, db: Database, cli: CLI) -> None:
    original = atom(db, "C1", "What is TCP, and why is it reliable?", "Long answer")
    other = atom(db, "C2", "Keep me", "as I am")
    rewrite = queue_item(db, original, "What is TCP?", "A reliable transport protocol")
    refused = queue_item(db, other, "Changed", "badly")
    fresh = queue_item(db, None, "Which port does DNS use?", "53")

    listed = cli("learn", "review", "list", "--json")
    assert listed.code == 0, listed.err
    assert {i["id"] for i in json.loads(listed.out)} == {rewrite, refused, fresh}
    table = cli("learn", "review", "list")
    assert table.code == 0 and rewrite[:8] in table.out and "new" in table.out
    shown = cli("learn", "review", "show", rewrite[:8])
    assert "What is TCP, and why is it reliable?" in shown.out and "What is TCP?" in shown.out

    approved = cli("learn", "review", "approve", rewrite[:8], "--json")
    assert approved.code == 0, approved.err
    item = json.loads(approved.out)
    assert (item["status"], item["approved_atom_id"]) == ("approved", original)
    assert db.rows(
        "SELECT front, back, rewrite_count, last_rewrite_at IS NOT NULL, quality_score IS NOT NULL "
        "FROM learning_atoms WHERE id = %s",
        original,
    ) == [("What is TCP?", "A reliable transport protocol", 1, True, True)]
    assert db.rows(
        "SELECT operation, old_value->>'front' FROM cleaning_log WHERE atom_id = %s", original
    ) == [("ai_rewrite", "What is TCP, and why is it reliable?")]
    twice = cli("learn", "review", "approve", rewrite)
    assert twice.code == 1 and "already approved" in twice.err

    rejected = cli("learn", "review", "reject", refused, "--note", "loses the point")
    assert rejected.code == 0, rejected.err
    assert db.rows("SELECT front, back FROM learning_atoms WHERE id = %s", other) == [
        ("Keep me", "as I am")
    ]
    assert (
        db.value("SELECT reviewer_notes FROM review_queue WHERE id = %s", refused)
        == "loses the point"
    )

    edited = cli("learn", "review", "edit", fresh, "--back", "53 (UDP and TCP)")
    assert edited.code == 0, edited.err
    assert db.value("SELECT status FROM review_queue WHERE id = %s", fresh) == "edited"
    assert [i["id"] for i in json.loads(cli("learn", "review", "list", "--json").out)] == [fresh]
    done = json.loads(cli("learn", "review", "approve", fresh, "--json").out)
    assert done["status"] == "edited" and done["approved_at"]
    assert db.rows(
        "SELECT front, back, source, batch_id FROM learning_atoms WHERE id = %s",
        done["approved_atom_id"],
    ) == [("Which port does DNS use?", "53 (UDP and TCP)", "ai_batch", "b1")]
    assert json.loads(cli("learn", "review", "list", "--json").out) == []
    assert cli("learn", "review", "show", "zzzz").code == 2
    assert db.rows("SELECT source, status, count FROM v_review_queue_summary") == [
        ("gemini", "approved", 1),
        ("gemini", "edited", 1),
        ("gemini", "rejected", 1),
    ]


def test_an_approved_merge_folds_the_duplicates_in(repo: Repo, db: Database, cli: CLI) -> None:
    db.conn.execute("INSERT INTO concepts (name) VALUES ('TCP')")
    keep = atom(db, "C1", "What is TCP?", "Transmission Control Protocol", "TCP")
    dup = atom(db, "C2", "What is TCP", "A protocol", "TCP")
    assert cli("learn", "clean").code == 0
    item = db.value("SELECT id::text FROM review_queue")
    result = cli(
        "learn",
        "review",
        "edit",
        item,
        "--back",
        "Transmission Control Protocol (layer 4)",
        "--approve",
    )
    assert result.code == 0, result.err
    assert db.value("SELECT merged_into_id::text FROM learning_atoms WHERE id = %s", dup) == keep
    assert db.value("SELECT back FROM learning_atoms WHERE id = %s", keep) == (
        "Transmission Control Protocol (layer 4)"
    )
    assert sorted(
        r[0]
        for r in db.rows("SELECT operation FROM cleaning_log WHERE operation = 'duplicate_merge'")
    ) == [
        "duplicate_merge",
        "duplicate_merge",
    ]
    stats = json.loads(cli("learn", "stats", "--json").out)
    assert stats["concepts"][0]["total_atoms"] == 1  # the merged one no longer counts


@pytest.fixture
def gemini(repo: Repo, monkeypatch: pytest.MonkeyPatch) -> Iterator[GeminiServer]:
    for server in serve(GeminiState()):
        monkeypatch.setenv("GEMINI_API_KEY", GEMINI_KEY)
        monkeypatch.setenv("GEMINI_API_BASE_URL", server.url)
        monkeypatch.setenv("PIPELINE_GEMINI_ATTEMPTS", "3")
        (repo.root / "pipeline.yaml").write_text("learn:\n  rewrite:\n    provider: gemini\n")
        yield server


LONG = (
    "A reliable, ordered and error-checked stream of bytes between applications running on "
    "hosts that talk over an IP network"
)


def test_rewrite_is_off_unless_configured(repo: Repo, db: Database, cli: CLI) -> None:
    atom(db, "C1", "x", "y")
    result = cli("learn", "rewrite")
    assert result.code == 2
    assert "AI rewriting is off" in result.err


def test_rewrite_queues_proposals_from_gemini(
    repo: Repo, db: Database, cli: CLI, gemini: GeminiServer
) -> None:
    long = atom(
        db,
        "C1",
        "What is TCP?",
        LONG,
    )
    atom(
        db,
        "C2",
        "Blocked card",
        LONG,
    )
    atom(db, "C3", "Fine card here", "yes")
    assert cli("learn", "clean").code == 0
    gemini.state.answer = lambda prompt: None if "Blocked card" in prompt else _rewrite(prompt)
    gemini.state.faults.extend([503, 429])  # retried: back-off, then RetryInfo's delay

    dry = cli("learn", "rewrite", "--dry-run", "--json")
    assert [a["card_id"] for a in json.loads(dry.out)["atoms"]] == ["C2", "C1"]
    assert gemini.state.requests == []

    result = cli("learn", "rewrite")
    assert result.code == 0, result.err
    assert "C2: not rewritten: Gemini blocked the prompt (SAFETY)" in result.out
    assert db.rows(
        "SELECT original_atom_id::text, front, back, source, status, ai_confidence::text, "
        "quality_score IS NOT NULL, batch_id LIKE 'rewrite-%%' FROM review_queue"
    ) == [
        (
            long,
            "What is TCP?",
            "A reliable, ordered and error-checked",
            "gemini",
            "pending",
            "0.80",
            True,
            True,
        )
    ]
    body = gemini.state.requests[-1]
    assert body["generationConfig"]["responseMimeType"] == "application/json"
    assert set(gemini.state.keys) == {GEMINI_KEY}
    # a second run does not send an atom whose proposal is still pending
    again = cli("learn", "rewrite", "--json")
    assert [a["card_id"] for a in json.loads(again.out)["atoms"]] == ["C2"]
    assert GEMINI_KEY not in result.out + result.err + again.out + again.err


def _rewrite(prompt: str) -> str:
    from tests.doubles.gemini_server import rewrite_as_json

    return rewrite_as_json(prompt)


def test_gemini_refusals_are_usage_errors_and_outages_service_errors(
    repo: Repo, db: Database, cli: CLI, gemini: GeminiServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    db.conn.execute(
        "INSERT INTO learning_atoms (card_id, front, back, needs_review) "
        "VALUES ('C1', 'Why?', 'x', true)"
    )
    monkeypatch.setenv("GEMINI_API_KEY", "wrong-key")
    refused = cli("learn", "rewrite")
    assert refused.code == 2
    assert "PERMISSION_DENIED" in refused.err and "wrong-key" not in refused.err
    monkeypatch.setenv("GEMINI_API_KEY", GEMINI_KEY)
    gemini.state.faults.extend([503, 503, 503])
    down = cli("learn", "rewrite")
    assert down.code == 4
    assert "after 3 attempts" in down.err
    (repo.root / "pipeline.yaml").write_text(
        "learn:\n  rewrite:\n    provider: gemini\n    model: gemini-0-nonexistent\n"
    )
    unknown = cli("learn", "rewrite")
    assert unknown.code == 2 and "learn.rewrite.model" in unknown.err


QUIZ: dict[str, Any] = {
    "section_number": 2,
    "section_type": "quiz",
    "title": "Check",
    "content": "Answer these.",
    "section_config": {
        "pass_score": 0.8,
        "questions": [
            {
                "id": "q1",
                "prompt": "Which layer is TCP?",
                "kind": "single",
                "options": [{"id": "a", "text": "Transport"}, {"id": "b", "text": "Network"}],
                "answer": ["a"],
                "explanation": "TCP is a transport protocol.",
            },
            {
                "id": "q2",
                "prompt": "Which are transport protocols?",
                "kind": "multiple",
                "options": [
                    {"id": "a", "text": "TCP"},
                    {"id": "b", "text": "UDP"},
                    {"id": "c", "text": "IP"},
                ],
                "answer": ["a", "b"],
            },
        ],
    },
}


def test_quiz_questions_of_deployed_modules_become_atoms_once(
    repo: Repo, db: Database, cli: CLI
) -> None:
    repo.write(
        module(
            module_id="net-basics",
            title="Network basics",
            status="published",
            sections=[text_section(1), QUIZ],
        )
    )
    repo.write(module(module_id="draft-one", status="draft", sections=[text_section(1), QUIZ]))
    assert cli("deploy").code == 0
    (repo.root / "pipeline.yaml").write_text("learn: {}\n")
    result = cli("learn", "sync", "--json")
    assert result.code == 0, result.err
    assert json.loads(result.out)["modules"]["added"] == 2
    rows = db.rows(
        "SELECT a.card_id, a.atom_type, a.front, a.back, a.source, m.name, m.lms_module_id, "
        "a.atom_data->'answer' FROM learning_atoms a JOIN learning_modules m ON m.id = a.module_id "
        "ORDER BY a.card_id"
    )
    assert rows == [
        (
            "module:net-basics:q1",
            "mcq",
            "Which layer is TCP?",
            "Transport\n\nTCP is a transport protocol.",
            "module",
            "Network basics",
            "net-basics",
            ["a"],
        ),
        (
            "module:net-basics:q2",
            "mcq",
            "Which are transport protocols?",
            "TCP; UDP",
            "module",
            "Network basics",
            "net-basics",
            ["a", "b"],
        ),
    ]
    versions = dict(db.rows("SELECT card_id, xmin::text FROM learning_atoms"))
    again = cli("learn", "sync", "--json")
    assert json.loads(again.out)["modules"] | {"failures": []} == {
        "modules": 1,
        "questions": 2,
        "added": 0,
        "updated": 0,
        "removed": 0,
        "failures": [],
    }
    assert dict(db.rows("SELECT card_id, xmin::text FROM learning_atoms")) == versions
    # a question changes and one goes: the atom is updated, the other removed
    quiz = json.loads(json.dumps(QUIZ))
    quiz["section_config"]["questions"] = quiz["section_config"]["questions"][:1]
    quiz["section_config"]["questions"][0]["prompt"] = "At which layer does TCP work?"
    repo.write(
        module(
            module_id="net-basics",
            title="Network basics",
            status="published",
            sections=[text_section(1), quiz],
            metadata={"revision": 2},
        )
    )
    assert cli("deploy").code == 0
    third = json.loads(cli("learn", "sync", "--json").out)["modules"]
    assert (third["updated"], third["removed"]) == (1, 1)
    assert db.rows("SELECT card_id, front FROM learning_atoms") == [
        ("module:net-basics:q1", "At which layer does TCP work?")
    ]
    assert db.value("SELECT count(*) FROM learning_modules") == 1
    assert db.value("SELECT count(*) FROM sync_log WHERE sync_type = 'lms_modules'") == 3
