"""The rows a deploy would write, COPYed into temporary tables as validation makes them.

Validation makes a module's rows in worker processes. Deploy streams them into
ON COMMIT DROP tables shaped like the real ones while the workers go on, and keeps
only a summary of each (plan.Staged). Memory stays flat however large the library
(a row of sections is gone from Python once it is sent), the COPY overlaps
validation, and comparing with the live rows and writing them are set-based SQL
over the staged rows. The tables live in the deploy's transaction: a rollback, a
dry run or a killed process leaves nothing behind, and a transaction-mode pooler
(PgBouncer, Neon's) keeps the whole transaction on one server connection.

A module the database has no row for has nothing to compare with: its sections go
straight into module_sections, under a modules row made for it ahead (Stage.place)
and filled from the staged module row at the end. Then the server's work of
storing them (indexes, foreign keys, the md5 of each row) overlaps validation too,
instead of following it; a first deploy of a library is mostly that work."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import ExitStack
from typing import Any

import psycopg
from psycopg import sql

from pipeline.db.plan import DeployItem, SectionChanges, Staged
from pipeline.modules.records import MODULE_COLUMNS, SECTION_COLUMNS, ModuleRows

STAGED_MODULES = "pipeline_stage_modules"
STAGED_SECTIONS = "pipeline_stage_sections"
# A modules row for each new module: the deploy fills it (or rolls back). Empty title:
# the column is NOT NULL, and nobody sees the row before the commit. A row made by hand
# since the deploy read the table is left alone (the deploy then stops: _require_placed).
_PLACE = (
    "INSERT INTO modules (module_id, title) SELECT c, '' FROM unnest(%s::text[]) AS c "
    "ON CONFLICT (module_id) DO NOTHING RETURNING id, module_id"
)
_JSON_SECTION_COLUMNS = ("section_config", "completion_criteria")  # json has no equality
# COPY's text format: these characters are written as escapes, None as \N.
_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def copy_line(values: Sequence[Any]) -> str:
    """One row in COPY's text format. Module rows wait as these lines (about as long as
    the row's text) until the sections' COPY is done: one COPY at a time per connection.
    The values are what records.to_record makes: text (JSON as text), whole numbers,
    None.

    Most rows hold nothing to escape, and saying so of the joined line takes a few
    scans in C: a sixth of the time of translating each value."""
    parts = ["\\N" if v is None else str(v) for v in values]
    line = "\t".join(parts)
    if (
        "\n" in line
        or "\r" in line
        or line.count("\t") != len(parts) - 1
        or line.count("\\") != values.count(None)  # one in each \N, none in the values
    ):
        line = "\t".join("\\N" if v is None else str(v).translate(_COPY_ESCAPES) for v in values)
    return line + "\n"


def columns(prefix: str, names: Sequence[str], *, compare: bool = False) -> sql.Composed:
    """`prefix.col, ...`; with compare, JSON columns as text (json has no equality)."""

    def one(column: str) -> sql.Composed:
        cast = "::text" if compare and column in _JSON_SECTION_COLUMNS else ""
        return sql.Composed([sql.SQL(prefix), sql.Identifier(column), sql.SQL(cast)])

    return sql.SQL(", ").join(one(c) for c in names)


class Stage:
    """The staging tables of one deploy transaction, and what was staged in them."""

    def __init__(self, conn: psycopg.Connection) -> None:
        """Makes the tables (their statements only: deploy sends them with its other
        reads, in one round trip)."""
        self.conn = conn
        self.staged: dict[str, Staged] = {}
        self.placed: dict[str, int] = {}  # module id -> id of the modules row made ahead
        self.written: dict[str, int] = {}  # module id -> its sections, in module_sections
        conn.execute(
            sql.SQL(
                "CREATE TEMP TABLE {staged} ON COMMIT DROP AS "
                "SELECT {columns} FROM modules WITH NO DATA"
            ).format(staged=sql.Identifier(STAGED_MODULES), columns=columns("", MODULE_COLUMNS))
        )
        conn.execute(
            sql.SQL(
                "CREATE TEMP TABLE {staged} ON COMMIT DROP AS "
                "SELECT m.module_id, {columns} FROM module_sections s JOIN modules m "
                "ON m.id = s.module_id WITH NO DATA"
            ).format(staged=sql.Identifier(STAGED_SECTIONS), columns=columns("s.", SECTION_COLUMNS))
        )

    def place(self, module_ids: Sequence[str]) -> None:
        """Make a modules row ahead for each of these new modules (one round trip; none
        when there are none: a deploy without new modules writes nothing to `modules`
        before its plan). Only a deploy that writes makes them, and it fills every one
        or rolls back.

        Their sections then go straight into module_sections. No lock beyond the COPY's
        own is needed for that: nobody else can see, edit or add to a module whose row
        is not committed, so the drift hash read back at the end is of the deploy's own
        rows; writes to existing modules' sections still wait for the deploy's lock."""
        if module_ids:
            rows = self.conn.execute(_PLACE, (list(module_ids),)).fetchall()
            self.placed = {str(module_id): int(pk) for pk, module_id in rows}

    def take(
        self, items: Iterable[DeployItem], prepare: Callable[[DeployItem, ModuleRows], ModuleRows]
    ) -> list[DeployItem]:
        """Stage the rows of each item that has them (as `prepare` makes them ready for
        students), as the items come; return the items without their rows. The sections
        of a placed module go into module_sections instead. Nothing else may use the
        connection while `items` is read: it is busy with the COPY. One COPY is open at a
        time, so items whose sections go to the same table should come together (each
        change of table costs a round trip or two)."""
        taken: list[DeployItem] = []
        modules: list[str] = []
        with ExitStack() as copies:
            copy: psycopg.Copy | None = None
            into_live = False
            for item in items:
                if item.record is None:
                    taken.append(item)
                    continue
                record = prepare(item, item.record)
                module_id = record.module_id
                pk = self.placed.get(module_id)
                if copy is None or into_live != (pk is not None):
                    into_live = pk is not None
                    copy = self._copy(copies, into_live=into_live)
                key: str | int = module_id if pk is None else pk
                for section in record.sections:
                    copy.write_row((key, *section))
                if pk is not None:
                    self.written[module_id] = len(record.sections)
                modules.append(copy_line(record.row))
                self.staged[module_id] = Staged(
                    module_id, record.status, record.content_hash, len(record.sections)
                )
                taken.append(DeployItem(module_id, item.path, record.file_hash, None))
        if modules:
            with self.conn.cursor() as cur, cur.copy(_copy_into(STAGED_MODULES)) as copy:
                for chunk in _chunks(modules):
                    copy.write(chunk)
        return taken

    def _copy(self, copies: ExitStack, *, into_live: bool) -> psycopg.Copy:
        """End the COPY open in `copies`, if any; open one into module_sections or into
        the staged sections."""
        copies.close()
        target = _INTO_LIVE if into_live else _copy_into(STAGED_SECTIONS)
        cursor = copies.enter_context(self.conn.cursor())
        return copies.enter_context(cursor.copy(target))

    def section_changes(self, module_ids: list[str]) -> SectionChanges:
        """(added, changed, removed) sections of each module, staged against live."""
        if not module_ids:
            return {}
        data = [c for c in SECTION_COLUMNS if c != "section_number"]
        rows = self.conn.execute(
            sql.SQL("""
            SELECT coalesce(n.module_id, o.module_id),
                   count(*) FILTER (WHERE o.section_number IS NULL),
                   count(*) FILTER (WHERE n.section_number IS NOT NULL
                                      AND o.section_number IS NOT NULL
                                      AND ({new}) IS DISTINCT FROM ({old})),
                   count(*) FILTER (WHERE n.section_number IS NULL)
            FROM (SELECT * FROM {staged} WHERE module_id = ANY(%(ids)s)) n
            FULL JOIN (SELECT m.module_id, {live} FROM module_sections s
                       JOIN modules m ON m.id = s.module_id
                       WHERE m.module_id = ANY(%(ids)s)) o
              ON o.module_id = n.module_id AND o.section_number = n.section_number
            GROUP BY 1
        """).format(
                staged=sql.Identifier(STAGED_SECTIONS),
                live=columns("s.", SECTION_COLUMNS),
                new=columns("n.", data, compare=True),
                old=columns("o.", data, compare=True),
            ),
            {"ids": module_ids},
        )
        return {module_id: (added, changed, removed) for module_id, added, changed, removed in rows}

    def missing_references(self, module_ids: list[str]) -> psycopg.Cursor[Any]:
        """Each university or faculty id a staged module names that has no row; read it
        with `missing_from` (the query is sent with the deploy's other last reads)."""
        return self.conn.execute(
            sql.SQL("""
            SELECT s.module_id, 'university_id', s.university_id, 'universities'
            FROM {staged} s WHERE s.module_id = ANY(%(ids)s) AND s.university_id IS NOT NULL
              AND NOT EXISTS (SELECT 1 FROM universities u WHERE u.id = s.university_id)
            UNION ALL
            SELECT s.module_id, 'created_by_id', s.created_by_id, 'faculty'
            FROM {staged} s WHERE s.module_id = ANY(%(ids)s) AND s.created_by_id IS NOT NULL
              AND NOT EXISTS (SELECT 1 FROM faculty f WHERE f.id = s.created_by_id)
            ORDER BY 4 DESC, 1
        """).format(staged=sql.Identifier(STAGED_MODULES)),
            {"ids": module_ids},
        )


def missing_from(rows: Iterable[Sequence[Any]]) -> list[str]:
    """Stage.missing_references said as "<module>: university_id 'x' has no row in
    universities"."""
    return [
        f"{module}: {column} {value!r} has no row in {table}"
        for module, column, value, table in rows
    ]


def _copy_into(table: str) -> sql.Composed:
    return sql.SQL("COPY {table} FROM STDIN").format(table=sql.Identifier(table))


_INTO_LIVE = sql.SQL("COPY module_sections (module_id, {columns}) FROM STDIN").format(
    columns=columns("", SECTION_COLUMNS)
)


def _chunks(lines: list[str], size: int = 1 << 16) -> Iterator[str]:
    """The lines joined into pieces of about `size` characters (one write each), each
    line let go once sent: the list is emptied as it is read."""
    lines.reverse()
    while lines:
        piece, length = [], 0
        while lines and length < size:
            line = lines.pop()
            piece.append(line)
            length += len(line)
        yield "".join(piece)
