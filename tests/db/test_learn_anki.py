"""`pipeline learn anki push|pull` on a real Anki collection (the `anki` package), both
directly (--collection) and through a local AnkiConnect serving that same collection;
`learn due` and `learn stats` from what was pulled."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from anki.collection import Collection

from tests.conftest import CLI, Database, Repo
from tests.doubles.anki_connect import AnkiConnectServer, AnkiState, new_collection, serve, study


def arrange_atoms(db: Database) -> None:
    db.conn.execute(
        "INSERT INTO concepts (name) VALUES ('TCP');"
        "INSERT INTO learning_atoms (card_id, atom_type, front, back, quality_score, concept_id) "
        "SELECT * FROM (VALUES "
        "('C1', 'flashcard', 'What is TCP?', 'Transmission Control <Protocol>', 0.9), "
        "('C2', 'cloze', '{{c1::UDP}} is connectionless', NULL, 1.0), "
        "('C3', 'flashcard', 'Too weak', 'x', 0.5), "
        "('C4', 'mcq', 'Pick one', 'a', 1.0)) v, (SELECT id FROM concepts) c"
    )


def notes_in(path: Path) -> dict[str, tuple[str, list[str], str]]:
    """Atom tag -> (note type, fields, deck) of every note in the collection."""
    col = Collection(str(path))
    try:
        found = {}
        for nid in col.find_notes(""):
            note = col.get_note(nid)
            model = note.note_type()
            assert model is not None
            tag = next(t for t in note.tags if t.startswith("nls::atom::"))
            found[tag] = (model["name"], list(note.fields), col.decks.name(note.cards()[0].did))
        return found
    finally:
        col.close()


@pytest.fixture
def collection(repo: Repo) -> Path:
    return new_collection(repo.root / "collection.anki2")


@pytest.fixture
def anki_connect(repo: Repo, collection: Path) -> Iterator[AnkiConnectServer]:
    for server in serve(AnkiState(collection, key="k3y")):
        (repo.root / "pipeline.yaml").write_text(
            f"learn:\n  anki:\n    connect_url: {server.url}\n    deck: Networks\n"
        )
        yield server


def check_push_and_pull(
    db: Database,
    cli: CLI,
    collection: Path,
    args: list[str],
    *,
    fsrs: bool,
    release: Callable[[], None],
    resume: Callable[[], None],
) -> None:
    """release/resume: the desktop app lets go of the file while the test reads or studies it."""
    arrange_atoms(db)
    first = cli("learn", "anki", "push", *args, "--json")
    assert first.code == 0, first.err
    assert json.loads(first.out)["added"] == 2
    ids = dict(
        db.rows("SELECT card_id, anki_note_id FROM learning_atoms WHERE anki_note_id IS NOT NULL")
    )
    assert sorted(ids) == ["C1", "C2"]
    again = cli("learn", "anki", "push", *args, "--json")
    assert (json.loads(again.out)["added"], json.loads(again.out)["unchanged"]) == (0, 2)
    # a crash between Anki and Postgres: the note is found again by its tag, not re-added
    db.conn.execute("UPDATE learning_atoms SET anki_note_id = NULL, anki_card_id = NULL")
    assert json.loads(cli("learn", "anki", "push", *args, "--json").out)["added"] == 0
    assert (
        dict(
            db.rows(
                "SELECT card_id, anki_note_id FROM learning_atoms WHERE anki_note_id IS NOT NULL"
            )
        )
        == ids
    )
    # an edit of the atom edits the note in place
    db.conn.execute("UPDATE learning_atoms SET back = 'TCP' WHERE card_id = 'C1'")
    edited = json.loads(cli("learn", "anki", "push", *args, "--json").out)
    assert (edited["added"], edited["updated"]) == (0, 1)
    release()
    notes = notes_in(collection)
    assert len(notes) == 2
    atom = dict(db.rows("SELECT card_id, id::text FROM learning_atoms"))
    assert notes[f"nls::atom::{atom['C1']}"] == ("Basic", ["What is TCP?", "TCP"], "Networks")
    assert notes[f"nls::atom::{atom['C2']}"][0:2] == (
        "Cloze",
        ["{{c1::UDP}} is connectionless", ""],
    )
    cards = dict(
        db.rows("SELECT card_id, anki_card_id FROM learning_atoms WHERE anki_card_id IS NOT NULL")
    )
    study(collection, {cards["C1"]: [3, 3], cards["C2"]: [1]})
    resume()
    pulled = cli("learn", "anki", "pull", *args, "--json")
    assert pulled.code == 0, pulled.err
    assert json.loads(pulled.out)["updated"] == 2
    c1 = db.rows(
        "SELECT anki_ease_factor::text, anki_interval, anki_review_count, anki_lapses, anki_queue, "
        "anki_stability IS NOT NULL, anki_difficulty BETWEEN 0 AND 1, anki_due_date IS NOT NULL "
        "FROM learning_atoms WHERE card_id = 'C1'"
    )[0]
    assert c1[:5] == ("2.500", 2, 2, 0, 2)
    assert c1[5:7] == ((True, True) if fsrs else (False, None))
    c2 = db.rows("SELECT anki_review_count, anki_queue FROM learning_atoms WHERE card_id = 'C2'")[0]
    assert c2 == (1, 1)
    assert json.loads(cli("learn", "anki", "pull", *args, "--json").out)["updated"] == 0
    assert db.rows("SELECT sync_type, status FROM sync_log ORDER BY started_at") == [
        *[("anki_push", "completed")] * 4,
        ("anki_pull", "completed"),
        ("anki_pull", "completed"),
    ]


def test_push_and_pull_with_a_collection_file(
    repo: Repo, db: Database, cli: CLI, collection: Path
) -> None:
    (repo.root / "pipeline.yaml").write_text("learn:\n  anki:\n    deck: Networks\n")
    check_push_and_pull(
        db,
        cli,
        collection,
        ["--collection", str(collection)],
        fsrs=True,
        release=lambda: None,
        resume=lambda: None,
    )
    due = cli("learn", "due", "--json")
    assert due.code == 0, due.err
    assert [c["card_id"] for c in json.loads(due.out)] == ["C2"]  # C1 is due in two days
    text = cli("learn", "due")
    assert text.code == 0 and "C2" in text.out and "TCP" in text.out
    assert "4 atoms, 2 in Anki, 1 due today" in cli("learn", "stats").out
    stats = json.loads(cli("learn", "stats", "--json").out)
    assert stats["concepts"][0]["concept_name"] == "TCP"
    assert stats["concepts"][0]["in_anki_count"] == 2
    assert (stats["atoms"], stats["in_anki"], stats["due_today"]) == (4, 2, 1)


def test_push_and_pull_through_ankiconnect(
    db: Database,
    cli: CLI,
    collection: Path,
    anki_connect: AnkiConnectServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("ANKICONNECT_KEY", "k3y")
    state = anki_connect.state

    def release() -> None:
        with state.lock:
            assert state.col is not None
            state.col.close()

    def resume() -> None:
        with state.lock:
            state.col = Collection(str(collection))

    check_push_and_pull(db, cli, collection, [], fsrs=False, release=release, resume=resume)
    assert state.calls["addNote"] == 2
    assert state.calls["updateNoteFields"] == 1


def test_ankiconnect_down_or_key_refused_is_said_plainly(
    repo: Repo,
    db: Database,
    cli: CLI,
    anki_connect: AnkiConnectServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    arrange_atoms(db)
    refused = cli("learn", "anki", "push")
    assert refused.code == 2
    assert "ANKICONNECT_KEY" in refused.err
    (repo.root / "pipeline.yaml").write_text(
        "learn:\n  anki:\n    connect_url: http://127.0.0.1:9\n"
    )
    down = cli("learn", "anki", "push")
    assert down.code == 4
    assert "start Anki with the AnkiConnect add-on" in down.err
    missing = cli("learn", "anki", "pull", "--collection", str(repo.root / "nope.anki2"))
    assert missing.code == 2 and "does not exist" in missing.err


def test_dry_run_push_writes_nothing(repo: Repo, db: Database, cli: CLI, collection: Path) -> None:
    arrange_atoms(db)
    result = cli("learn", "anki", "push", "--collection", str(collection), "--dry-run")
    assert result.code == 0, result.err
    assert "dry run" in result.out and "2 added" in result.out
    assert notes_in(collection) == {}
    assert db.value("SELECT count(*) FROM learning_atoms WHERE anki_note_id IS NOT NULL") == 0
    assert db.value("SELECT count(*) FROM sync_log") == 0
