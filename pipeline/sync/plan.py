"""Two-way sync of reference tables (seed 002), the deciding part, as pure functions.

Postgres stays authoritative. For each row the planner compares three things:
the row in Postgres, the row in Notion, and the hash of the values both sides
agreed on at the last sync (sync_state). Only one side changed since: that
side wins (last write wins). Both changed to different values: nothing is
overwritten, the row is marked conflict for a person to resolve. Student
progress, analytics, feedback and assignments are never synced; students only
when configured, and then only the fields listed.

Two Notion pages with one postgres_id (Notion's "Duplicate" copies it) are a
conflict too: neither page is written or pulled until a person removes one.

A row edited in Notion that Postgres does not have (no postgres_id, or one that
names no row) is never created in Postgres, which stays authoritative: the pull
tells the row, in words, what to do.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Literal

from pipeline.sync.entities import Entity, Values, values_hash

Direction = Literal["push", "pull"]
SyncAction = Literal[
    "create_in_notion",
    "update_notion",
    "not_in_postgres",
    "update_postgres",
    "mark_synced",
    "mark_pending",
    "conflict",
]


# Pushes before issue #12 cut text at this many characters; see _whole.
OLD_CUT = 2000


@dataclass(frozen=True, slots=True)
class NotionRow:
    """A Notion row; values None: not edited since the last sync (not fetched).

    sync_status is the mark the page shows (synced, pending, conflict), and sync_notes
    what it says, when fetched.
    """

    page_id: str
    postgres_id: str | None
    values: Values | None
    sync_status: str | None = "synced"
    sync_notes: str | None = None


@dataclass(frozen=True, slots=True)
class SyncState:
    postgres_id: str
    notion_page_id: str
    synced_hash: str


@dataclass(frozen=True, slots=True)
class SyncStep:
    action: SyncAction
    postgres_id: str | None
    notion_page_id: str | None
    values: Values  # what to write (or, for a conflict, the Postgres side)
    reason: str = ""
    also: tuple[str, ...] = ()  # a conflict's further pages of the row (duplicates)
    # For the row's sync_notes, in a team lead's words ("" empties them; None: as they are).
    note: str | None = None


def plan(
    entity: Entity,
    postgres: Mapping[str, Values],
    notion: Sequence[NotionRow],
    states: Mapping[str, SyncState],
    direction: Direction,
) -> list[SyncStep]:
    """The steps of one sync run in `direction` for one entity (rows in canonical form)."""
    by_pg: dict[str, list[NotionRow]] = {}
    for page in notion:
        if page.postgres_id:
            by_pg.setdefault(page.postgres_id, []).append(page)
    by_page = {row.page_id: row for row in notion}
    steps: list[SyncStep] = []
    for pg_id in sorted(postgres):
        state = states.get(pg_id)
        pages = by_pg.get(pg_id, [])
        if len(pages) > 1:
            steps.append(_duplicated(pg_id, postgres[pg_id], pages, state))
            continue
        row = pages[0] if pages else (by_page.get(state.notion_page_id) if state else None)
        steps += _pair(entity, pg_id, postgres[pg_id], row, state, direction=direction)
    if direction == "pull" and entity.pull:
        linked = {state.notion_page_id for state in states.values()}
        steps += [
            _not_in_postgres(entity, row, row.postgres_id in states)
            for row in notion
            if row.values is not None
            and (row.postgres_id not in postgres if row.postgres_id else row.page_id not in linked)
        ]
    return steps


def _not_in_postgres(entity: Entity, row: NotionRow, was_synced: bool) -> SyncStep:
    """A row edited in Notion that Postgres does not have: what to do, for the operator
    (reason) and for the team lead on the row (note)."""
    table, key = entity.table, row.postgres_id
    title = next((row.values or {}).get(f.column) for f in entity.fields if f.kind == "title")
    row_name = f'the row "{title}"' if title else "a row without a name"
    if key is None:
        reason = (
            f"{row_name} was added in Notion and has no postgres_id; add the row in "
            "Postgres, write its id in the page's postgres_id and push (or delete the page)"
        )
        note = (
            "Not synced: this row is not in Postgres, and rows are added there, not here. "
            f"Ask whoever keeps the {table} table to add it in Postgres and write its id in "
            "postgres_id (the next sync then fills this row from Postgres), or delete this row."
        )
    elif was_synced:
        reason = f"{row_name} is no longer in Postgres; its page was edited in Notion"
        note = (
            f'Not synced: this row (postgres_id "{key}") is no longer in Postgres. Ask whoever '
            f"keeps the {table} table whether it should come back, or delete this row."
        )
    else:
        reason = f"{row_name} has postgres_id {key}, which names no row in Postgres"
        note = (
            f'Not synced: postgres_id "{key}" names no row in Postgres\'s {table} table. '
            "Correct the id, or ask whoever keeps the table to add the row."
        )
    return SyncStep("not_in_postgres", key, row.page_id, row.values or {}, reason, note=note)


def _duplicated(
    pg_id: str, pg_values: Values, rows: Sequence[NotionRow], state: SyncState | None
) -> SyncStep:
    """One row, several pages: a person decides which one is the row (the known one first)."""
    known = state.notion_page_id if state else None
    pages = sorted((row.page_id for row in rows), key=lambda page: (page != known, page))
    return SyncStep(
        "conflict",
        pg_id,
        pages[0],
        pg_values,
        f"{len(pages)} Notion pages have postgres_id {pg_id} ({', '.join(pages)}), one "
        "probably made with Duplicate; delete the copy in Notion, or clear its postgres_id "
        "(then add its row in Postgres and push), and sync again",
        also=tuple(pages[1:]),
    )


def _pair(
    entity: Entity,
    pg_id: str,
    pg_values: Values,
    row: NotionRow | None,
    state: SyncState | None,
    *,
    direction: Direction,
) -> list[SyncStep]:
    if row is None:
        return (
            [SyncStep("create_in_notion", pg_id, None, pg_values, "not in Notion yet")]
            if direction == "push"
            else []
        )
    row, cut = _whole(entity, row, pg_values)
    pg_hash = values_hash(pg_values)
    if pg_hash == _notion_hash(row, state):
        if cut and direction == "push":
            reason = "Notion holds text an older push cut at 2,000 characters"
            return [SyncStep("update_notion", pg_id, row.page_id, pg_values, reason)]
        fresh = state is None or (state.synced_hash, state.notion_page_id) != (pg_hash, row.page_id)
        # Not marked: e.g. a conflict resolved (its mark and notes are cleared).
        marked = row.values is None or (row.sync_status == "synced" and not row.sync_notes)
        return (
            [SyncStep("mark_synced", pg_id, row.page_id, pg_values)] if fresh or not marked else []
        )
    if state is None:  # linked for the first time and different: Postgres is authoritative
        if direction == "push":
            return [SyncStep("update_notion", pg_id, row.page_id, pg_values, "first sync")]
        return (
            [
                SyncStep(
                    "conflict",
                    pg_id,
                    row.page_id,
                    pg_values,
                    "differs and was never synced; push first",
                )
            ]
            if entity.pull
            else []
        )
    return _since_last_sync(entity, pg_id, pg_values, row, state, direction=direction)


def _since_last_sync(
    entity: Entity,
    pg_id: str,
    pg_values: Values,
    row: NotionRow,
    state: SyncState,
    *,
    direction: Direction,
) -> list[SyncStep]:
    """The sides differ; which of them moved since they last agreed decides."""
    pg_changed = values_hash(pg_values) != state.synced_hash
    notion_changed = _notion_hash(row, state) != state.synced_hash
    if pg_changed and notion_changed:
        return [
            SyncStep(
                "conflict",
                pg_id,
                row.page_id,
                pg_values,
                "changed in both Postgres and Notion since the last sync",
            )
        ]
    if pg_changed or not entity.pull:  # Git owns modules: Notion edits are overwritten
        reason = "changed in Postgres" if pg_changed else "edited in Notion, but Git owns it"
        return (
            [SyncStep("update_notion", pg_id, row.page_id, pg_values, reason)]
            if direction == "push"
            else []
        )
    edited = row.values or {}  # not None here: the Notion side changed, so it was fetched
    if direction == "pull":
        return [SyncStep("update_postgres", pg_id, row.page_id, edited, "changed in Notion")]
    # Nothing for the team lead to change (the next pull takes the edit): notes left from
    # an earlier run (a property that was missing, a refusal) no longer hold, and go.
    return [SyncStep("mark_pending", pg_id, row.page_id, edited, "changed in Notion", note="")]


def _whole(entity: Entity, row: NotionRow, pg_values: Values) -> tuple[NotionRow, bool]:
    """The row with text that an older push cut at OLD_CUT characters taken as the whole
    Postgres text it was cut from (a cut is no edit), and whether there was such text."""
    if row.values is None:
        return row, False
    whole = dict(row.values)
    for f in entity.fields:
        full = pg_values.get(f.column)
        if not (f.kind in ("title", "rich_text") and isinstance(full, str)):
            continue
        if len(full) > OLD_CUT and row.values.get(f.column) == (full[:OLD_CUT].strip() or None):
            whole[f.column] = full
    return (replace(row, values=whole), True) if whole != row.values else (row, False)


def _notion_hash(row: NotionRow, state: SyncState | None) -> str:
    if row.values is not None:
        return values_hash(row.values)
    return state.synced_hash if state else ""
