"""The reference sync's Notion database schema and bookkeeping properties."""

from __future__ import annotations

from typing import Any

import pytest

from pipeline.sync.entities import ENTITIES
from pipeline.sync.properties import (
    KEY,
    LAST_SYNCED,
    SYNC_NOTES,
    SYNC_STATUS,
    SchemaProblem,
    TooLarge,
    Unreadable,
    database_properties,
    page_properties,
    row_from_page,
    schema_problems,
    status_properties,
)
from tests.builders import rt


def test_database_schema_has_options_and_bookkeeping() -> None:
    schema = database_properties(ENTITIES["teams"])
    assert schema["Name"] == {"title": {}}
    assert [o["name"] for o in schema["team_type"]["select"]["options"]] == [
        "design",
        "analysis",
        "testing",
        "integration",
    ]
    assert [o["name"] for o in schema["sync_status"]["select"]["options"]] == [
        "synced",
        "pending",
        "conflict",
    ]
    assert schema["postgres_id"] == {"rich_text": {}}
    assert schema["sync_notes"] == {"rich_text": {}}


@pytest.mark.parametrize("entity", sorted(ENTITIES))
def test_status_only_update_leaves_values_alone(entity: str) -> None:
    assert status_properties("conflict") == {"sync_status": {"select": {"name": "conflict"}}}
    fields = ENTITIES[entity].fields
    values = {f.column: f"value of {f.column}" for f in fields}
    at = "2026-01-01T00:00:00Z"
    for status in ("synced", "pending", "conflict"):
        full = page_properties(ENTITIES[entity], values, "key-1", status, at)
        # With a time: the bookkeeping a full write would set, and nothing else.
        assert status_properties(status, at) == {k: full[k] for k in (SYNC_STATUS, LAST_SYNCED)}
        # Without: only the mark; last_synced keeps the time of the last real sync.
        written = status_properties(status)
        assert set(written) == {SYNC_STATUS}
        assert not set(written) & ({f.notion for f in fields} | {KEY})


# -- issue #12 item 16: long text goes to Notion whole, in Notion's pieces, or not at all ------

PROJECTS = ENTITIES["projects"]


def description(text: str) -> list[dict[str, Any]]:
    props = page_properties(PROJECTS, {"description": text}, "p1", "synced", "2026-01-01")
    items: list[dict[str, Any]] = props["description"]["rich_text"]
    return items


def test_long_text_is_split_into_notions_pieces_and_nothing_is_cut() -> None:
    text = " ".join(f"{i:05d}" for i in range(1000))  # 5,999 characters
    items = description(text)
    assert [len(i["text"]["content"]) for i in items] == [2000, 2000, 1999]
    assert "".join(i["text"]["content"] for i in items) == text


def test_pieces_count_characters_as_notion_does() -> None:
    # Notion counts UTF-16 code units: a character beyond the BMP is two of them, and a
    # piece never ends inside one.
    text = "a" + "\U0001d11e" * 1500  # 1 + 3,000 units
    items = description(text)
    assert [len(i["text"]["content"].encode("utf-16-le")) // 2 for i in items] == [1999, 1002]
    assert "".join(i["text"]["content"] for i in items) == text


def test_up_to_100_pieces_and_beyond_that_nothing() -> None:
    assert len(description("x" * 200_000)) == 100
    with pytest.raises(TooLarge, match=r"description is 200,001 characters long.*200,000"):
        description("x" * 200_001)


def test_an_email_beyond_notions_limit_is_refused_not_cut() -> None:
    faculty = ENTITIES["faculty"]
    email = "a" * 190 + "@cpp.edu"
    assert page_properties(faculty, {"email": email}, "f1", "synced", "2026-01-01")["email"] == {
        "email": email
    }
    with pytest.raises(TooLarge, match="email is 201 characters long"):
        page_properties(faculty, {"email": email + "abc"}, "f1", "synced", "2026-01-01")


def test_a_row_beyond_notions_request_size_is_refused() -> None:
    # 200,000 characters of three UTF-8 bytes each: 600 KB, and Notion takes 500 KB a request.
    with pytest.raises(TooLarge, match="request"):
        description("\u4e2d" * 200_000)


def test_a_note_is_written_only_when_given_and_a_whole_write_empties_it() -> None:
    assert status_properties("pending", note="Not synced: why")[SYNC_NOTES] == {
        "rich_text": [{"type": "text", "text": {"content": "Not synced: why"}}]
    }
    assert status_properties("synced", "2026-01-01", note="")[SYNC_NOTES] == {"rich_text": []}
    full = page_properties(PROJECTS, {"name": "PROVES"}, "p1", "synced", "2026-01-01")
    assert full[SYNC_NOTES] == {"rich_text": []}


# -- red team: a team lead renames, deletes or retypes a property of a synced database ------

UNIVERSITIES = ENTITIES["universities"]


def source_schema(entity_name: str, **changes: str | None) -> dict[str, dict[str, Any]]:
    """The data source's properties as Notion gives them; changes: name -> new type
    (None: deleted), or "old>new" keys renamed."""
    schema = {
        name: {"id": name[:4], "name": name, "type": kind}
        for name, spec in database_properties(ENTITIES[entity_name]).items()
        for kind in spec
    }
    for name, kind in changes.items():
        if ">" in name:
            old, new = name.split(">")
            schema[new] = {**schema.pop(old), "name": new}
        elif kind is None:
            del schema[name]
        else:
            schema[name] = {**schema[name], "type": kind}
    return schema


@pytest.mark.parametrize("entity", sorted(ENTITIES))
def test_a_database_as_setup_made_it_has_no_problems(entity: str) -> None:
    for push in (True, False):
        assert schema_problems(ENTITIES[entity], source_schema(entity), push=push) == []


def test_a_renamed_property_is_named_with_what_it_may_have_become() -> None:
    schema = source_schema("universities", **{"code>Code": ""})
    [problem] = schema_problems(UNIVERSITIES, schema, push=False, synced_columns={"code"})
    assert problem == SchemaProblem("Universities", "code", "rich_text", renamed="Code")
    words = problem.for_operator()
    assert words.startswith('the Universities database in Notion has no property "code" (text)')
    assert '"Code" may be it, renamed; rename it back to "code"' in words
    assert "Deleted properties" in words
    assert "sync setup" not in words  # synced values depend on it: added back empty, lost
    assert 'property "code" is missing' in problem.for_row()


def test_a_property_never_synced_may_be_added_by_setup() -> None:
    schema = source_schema("universities", location=None)
    [problem] = schema_problems(UNIVERSITIES, schema, push=False, synced_columns={"code"})
    assert (problem.renamed, problem.may_add) == (None, True)
    assert "`pipeline sync setup --parent-page ID` adds it" in problem.for_operator()


def test_the_renamed_title_is_found_whatever_its_new_name() -> None:
    schema = source_schema("universities", **{"Name>University": ""})
    [problem] = schema_problems(UNIVERSITIES, schema, push=True)
    assert (problem.name, problem.renamed, problem.may_add) == ("Name", "University", False)


def test_another_type_is_a_problem_and_a_multi_select_is_never_cut_to_one() -> None:
    schema = source_schema("teams", team_type="multi_select")
    [problem] = schema_problems(ENTITIES["teams"], schema, push=False)
    assert problem.found == "multi_select"
    assert problem.for_operator() == (
        'the Teams database\'s property "team_type" is a multi-select in Notion, and the sync '
        "reads and writes a select there; change its type back to select (one choice per row)"
    )
    assert '"team_type" is a multi-select now' in problem.for_row()


def test_a_property_only_shown_in_notion_is_needed_by_a_push_only() -> None:
    schema = source_schema("universities", full_name=None)
    assert schema_problems(UNIVERSITIES, schema, push=False) == []
    [problem] = schema_problems(UNIVERSITIES, schema, push=True)
    assert (problem.name, problem.may_add) == ("full_name", True)


@pytest.mark.parametrize("name", [KEY, SYNC_STATUS, LAST_SYNCED, SYNC_NOTES])
def test_the_bookkeeping_properties_are_checked_too(name: str) -> None:
    [problem] = schema_problems(
        UNIVERSITIES, source_schema("universities", **{name: None}), push=False
    )
    assert problem.name == name
    assert problem.may_add == (name != KEY)  # postgres_id added back empty keys no page


def test_a_page_property_that_cannot_be_read_is_never_read_as_empty() -> None:
    def text(kind: str, value: str) -> dict[str, Any]:
        return {"type": kind, kind: [rt(value)] if value else []}

    page: dict[str, Any] = {
        "id": "page-1",
        "properties": {
            "Name": text("title", "Cal Poly Pomona"),
            "code": text("rich_text", "CPP"),
            "location": text("rich_text", ""),
            "contact_email": {"type": "email", "email": None},
            "postgres_id": text("rich_text", "cpp"),
        },
    }
    row = row_from_page(UNIVERSITIES, page)
    assert (row.postgres_id, row.values and row.values["code"]) == ("cpp", "CPP")
    page["properties"]["Code"] = page["properties"].pop("code")
    with pytest.raises(
        Unreadable, match='page page-1 of the Universities database has no text property "code"'
    ):
        row_from_page(UNIVERSITIES, page)
    page["properties"]["code"] = {"type": "multi_select", "multi_select": [{"name": "CPP"}]}
    with pytest.raises(Unreadable, match='"code"'):
        row_from_page(UNIVERSITIES, page)
