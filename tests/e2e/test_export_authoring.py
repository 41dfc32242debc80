"""Team leads author in Notion (#13), end to end: the real notion-client against the local
Notion server holding a Module Library built with seed 001's database schema."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import pytest

from pipeline.modules.validate import validate_paths
from tests.builders import (
    SEED_EXAMPLE_CONFIG,
    block,
    body,
    code,
    heading,
    page_mention,
    para,
    properties,
    rt,
    seed_template,
    todo,
    toggle_heading,
)
from tests.conftest import CLI, Repo
from tests.doubles.notion_server import (
    BOT_USER,
    NotionServer,
    NotionState,
    library,
    person_edits,
    seed_001_row,
    seed_001_schema,
)

HOUR_AGO = time.time() - 3600


@pytest.fixture
def seed(repo: Repo, monkeypatch: pytest.MonkeyPatch) -> Iterator[NotionServer]:
    """A Module Library exactly as seed 001 describes it: no Export Error property."""
    yield from library(repo.root, monkeypatch, seed_001_schema())


def module_file(repo: Repo, module_id: str) -> dict[str, Any]:
    return dict(json.loads((repo.modules / f"{module_id}.json").read_text()))


def comments(state: NotionState, page: dict[str, Any]) -> list[str]:
    return [
        "".join(t["plain_text"] for t in c["rich_text"])
        for c in state.comments
        if c["parent"].get("page_id") == page["id"]
    ]


def row_error(state: NotionState, page: dict[str, Any]) -> str:
    error = state.pages[page["id"]]["properties"]["Export Error"]["rich_text"]
    return str(error[0]["plain_text"]) if error else ""


def requests(state: NotionState) -> int:
    return sum(state.hits.values())


# -- the seed's template and schema ------------------------------------------------------------


def test_seed_001s_template_written_literally_exports_and_validates(
    repo: Repo, seed: NotionServer, cli: CLI
) -> None:
    state = seed.state
    state.add_page(
        seed_001_row("Lab Safety 101", module_id="lab-safety-101"), seed_template(), HOUR_AGO
    )
    result = cli("export", "--json")
    assert result.code == 0, result.out + result.err
    data = module_file(repo, "lab-safety-101")
    assert (data["category"], data["estimated_minutes"], data["target_audience"]) == (
        "Safety",
        10,
        "incoming_students",
    )
    assert data["content_source"] == "ai-assisted"
    assert [s["section_type"] for s in data["sections"]] == ["text", "interactive", "text"]
    assert data["sections"][1]["completion_criteria"] == {"type": "hotspots", "hotspots_clicked": 5}
    assert validate_paths([repo.modules]).valid
    [page] = json.loads(result.out)["results"]
    assert {s["where"] for s in page["skipped"]} == {"Export Notes"}
    assert state.comments == []  # nothing to tell


def test_what_the_export_leaves_out_is_told_on_the_row_until_it_is_rewritten(
    repo: Repo, seed: NotionServer, cli: CLI
) -> None:
    """The page exports, but a block it cannot read is not in the file: the team lead hears
    of it on the page (not only in the operator's summary), not of Export Notes, which
    are meant to stay out; once rewritten, a short "Exported" follows."""
    state = seed.state
    blocks = seed_template()
    blocks.insert(12, block("unsupported", block_type="ai_block"))  # in Section 1
    row = state.add_page(
        seed_001_row("Lab Safety 101", module_id="lab-safety-101"), blocks, HOUR_AGO
    )
    assert cli("export").code == 0
    [told] = comments(state, row)
    assert told.startswith(
        "Exported, but part of the page was left out: Section 1 (Welcome to Lab Safety): "
        "Notion block type 'ai_block' cannot be exported"
    )
    assert "Export Notes" not in told
    assert "docs/authoring.md" in told
    assert cli("export").code == 0  # not edited: not read again, nothing said twice
    assert len(comments(state, row)) == 1
    state.set_blocks(row["id"], seed_template())
    person_edits(row)
    assert cli("export").code == 0
    assert comments(state, row)[1:] == ["Exported: the page exports without problems now."]


def test_what_the_export_leaves_out_fills_the_export_error_property(
    repo: Repo, notion: NotionServer, cli: CLI
) -> None:
    state = notion.state
    blocks = [
        heading("Section 1: Welcome"),
        para(rt("Hello.")),
        block("unsupported", block_type="ai_block"),
    ]
    row = state.add_page(properties("drops", "Drops"), blocks, HOUR_AGO)
    assert cli("export").code == 0
    assert row_error(state, row).startswith(
        "Exported, but part of the page was left out: Section 1 (Welcome): Notion block type"
    )
    assert state.comments == []
    state.hits.clear()  # the property's update is the pipeline's own edit: not read again
    assert cli("export").code == 0
    assert state.hits["GET /v1/blocks/{id}/children"] == 0, state.hits
    state.set_blocks(row["id"], blocks[:2])
    person_edits(row)
    assert cli("export").code == 0
    assert row_error(state, row) == ""


def test_seed_001s_example_config_pasted_in_a_code_block(
    repo: Repo, seed: NotionServer, cli: CLI
) -> None:
    """As printed, the seed's example lists 2 of its 5 hotspots and asks for 5 clicks: the
    page's comment says exactly that. With the hotspots all there, it exports."""
    state = seed.state
    row = state.add_page(
        seed_001_row("Lab Safety 101", module_id="lab-safety-101"),
        seed_template(SEED_EXAMPLE_CONFIG, "json"),
        HOUR_AGO,
    )
    assert cli("export").code == 1
    [comment] = comments(state, row)
    assert comment.startswith(
        "Export failed: Section 2 (Interactive Equipment Locator), settings block line 7: the "
        "number of hotspots to click is 5 but the section has only 2 hotspots"
    )
    assert "How to fix it: docs/authoring.md" in comment
    state.set_blocks(row["id"], seed_template(SEED_EXAMPLE_CONFIG.replace(": 5", ": 2"), "json"))
    person_edits(row)
    assert cli("export").code == 0
    assert module_file(repo, "lab-safety-101")["sections"][1]["completion_criteria"] == {
        "type": "hotspots",
        "hotspots_clicked": 2,
    }
    assert comments(state, row)[-1].startswith("Exported: ")


@pytest.mark.parametrize("how", ["Content Page property", "link to page", "child page"])
def test_content_kept_on_a_linked_page_is_followed(
    repo: Repo, seed: NotionServer, cli: CLI, how: str
) -> None:
    state = seed.state
    content = state.add_standalone_page("Lab Safety 101 content", seed_template(), HOUR_AGO)
    url = f"https://www.notion.so/Lab-Safety-101-content-{content['id'].replace('-', '')}"
    if how == "Content Page property":
        row = state.add_page(
            seed_001_row("Lab Safety 101", module_id="lab-safety-101", content_page=url),
            [],
            HOUR_AGO,
        )
    elif how == "link to page":
        link = block("link_to_page", type="page_id", page_id=content["id"])
        row = state.add_page(
            seed_001_row("Lab Safety 101", module_id="lab-safety-101"), [link], HOUR_AGO
        )
    else:
        row = state.add_page(
            seed_001_row("Lab Safety 101", module_id="lab-safety-101"), [], HOUR_AGO
        )
        state.add_child_page(row["id"], "Content", seed_template())
    result = cli("export")
    assert result.code == 0, result.out + result.err
    data = module_file(repo, "lab-safety-101")
    assert [s["title"] for s in data["sections"]] == [
        "Welcome to Lab Safety",
        "Interactive Equipment Locator",
        "PPE Requirements",
    ]
    assert data["notion_page_id"] == row["id"]


def test_an_edit_of_the_content_page_alone_is_exported_next_run(
    repo: Repo, seed: NotionServer, cli: CLI
) -> None:
    state = seed.state
    content = state.add_standalone_page("Content", seed_template(), HOUR_AGO)
    url = f"https://www.notion.so/{content['id'].replace('-', '')}"
    state.add_page(
        seed_001_row("Lab Safety 101", module_id="lab-safety-101", content_page=url), [], HOUR_AGO
    )
    assert cli("export").code == 0
    state.hits.clear()
    assert "0 exported, 0 unchanged, 0 failed" in cli("export").out
    assert requests(state) <= 5, state.hits  # the search costs one request
    blocks = seed_template()
    blocks[12] = para(rt("Changed on the content page."))  # section 1's text
    state.set_blocks(content["id"], blocks)
    person_edits(content)
    result = cli("export")
    assert "1 exported" in result.out, result.out
    assert module_file(repo, "lab-safety-101")["metadata"]["revision"] == 2


def test_toggle_heading_sections_keep_their_content(
    repo: Repo, notion: NotionServer, cli: CLI
) -> None:
    blocks = [
        toggle_heading(
            "Section 1: Gear",
            [para(rt("Type: Checklist")), para(rt("Put on:")), todo("Glasses"), todo("Gloves")],
        ),
        toggle_heading("Section 2: Go", [para(rt("Off you go."))]),
    ]
    notion.state.add_page(properties("gear", "Gear"), blocks, HOUR_AGO)
    assert cli("export").code == 0
    first, second = module_file(repo, "gear")["sections"]
    assert (first["section_type"], first["content"]) == ("checklist", "Put on:")
    assert [i["id"] for i in first["section_config"]["items"]] == ["glasses", "gloves"]
    assert second["content"] == "Off you go."


def test_mentions_of_other_modules_become_module_links(
    repo: Repo, notion: NotionServer, cli: CLI
) -> None:
    state = notion.state
    tour = state.add_page(properties("equipment-tour", "Equipment Tour"), body(), HOUR_AGO)
    blocks = [
        heading("Section 1: Next"),
        para(rt("Then take "), page_mention(tour["id"], "Equipment Tour"), rt(".")),
    ]
    state.add_page(properties("lab-safety-101", "Lab Safety"), blocks, HOUR_AGO)
    assert cli("export").code == 0
    content = module_file(repo, "lab-safety-101")["sections"][0]["content"]
    assert content == "Then take [Equipment Tour](module:equipment-tour)."
    assert validate_paths([repo.modules]).valid


# -- the row says what to fix, once ------------------------------------------------------------


def test_three_runs_over_a_broken_page_post_one_comment_and_a_fix_clears_it(
    repo: Repo, seed: NotionServer, cli: CLI
) -> None:
    state = seed.state
    broken = [heading("Section 1: A"), para(rt("Type: Vidoe"))]
    row = state.add_page(seed_001_row("Broken", module_id="broken"), broken, HOUR_AGO)
    for args in (["export"], ["export"], ["export", "--full"]):
        cli(*args)
    [comment] = comments(state, row)
    assert comment.startswith("Export failed: Section 1 (A), the line “Type: Vidoe”: ")
    assert "did you mean Video?" in comment
    assert all(c["created_by"]["id"] == BOT_USER["id"] for c in state.comments)

    state.resolved.add(state.comments[0]["id"])  # the team lead resolves the comment...
    cli("export", "--full")
    assert len(comments(state, row)) == 1  # ... and it does not come back

    state.set_blocks(row["id"], [heading("Section 1: A"), para(rt("Type: Video")), para(rt("x"))])
    person_edits(row)
    assert cli("export").code == 1  # a video section without a video: a new message
    assert comments(state, row)[-1].startswith(
        "Export failed: Section 1 (A): a video section needs its video"
    )
    state.set_blocks(row["id"], body())
    person_edits(row)
    assert cli("export").code == 0
    assert comments(state, row)[-1] == "Exported: the page exports without problems now."
    cli("export", "--full")
    assert len(comments(state, row)) == 3


def test_a_page_broken_by_its_content_is_not_read_again_until_edited(
    repo: Repo, notion: NotionServer, cli: CLI
) -> None:
    state = notion.state
    bad = state.add_page(
        properties("bad", "Bad"), [heading("Section 1: A"), code("a: [1,")], HOUR_AGO
    )
    state.add_page(properties("good", "Good"), body(), HOUR_AGO)
    assert cli("export").code == 1
    assert "settings block line 1: this is not valid YAML" in row_error(state, bad)
    for _ in range(2):
        state.hits.clear()
        result = cli("export")
        assert result.code == 0, result.out  # nothing new to say
        assert state.hits["GET /v1/blocks/{id}/children"] == 0, state.hits
        assert requests(state) <= 4, state.hits
    state.set_blocks(bad["id"], body())
    person_edits(bad)
    assert cli("export").code == 0
    assert row_error(state, bad) == ""


def test_a_transient_failure_is_read_again_next_run(
    repo: Repo, notion: NotionServer, cli: CLI
) -> None:
    state = notion.state
    state.file_lifetime = -10  # the file's link has expired: the download fails
    image = block(
        "image", type="file", caption=[], file=state.hosted_file("p.png", b"PNG", notion.url)
    )
    page = state.add_page(properties("pic", "Pic"), [heading("Section 1: P"), image], HOUR_AGO)
    result = cli("export")
    assert result.code == 1
    assert "the next export tries again" in row_error(state, page)
    state.file_lifetime = 3600  # Notion signs a new link each time the blocks are read
    image["image"]["file"] = state.hosted_file("p.png", b"PNG", notion.url)
    state.set_blocks(page["id"], [heading("Section 1: P"), image])
    result = cli("export")  # the page was not edited, and is read again
    assert result.code == 0, result.out
    assert (repo.modules / "pic.json").is_file()
    assert row_error(state, page) == ""


def test_an_operator_problem_says_who_must_act_and_is_read_again(
    repo: Repo, seed: NotionServer, cli: CLI
) -> None:
    state = seed.state
    row = state.add_page(
        seed_001_row("Lab Safety 101", module_id="lab-safety-101", university="Cal Poly Pomona"),
        seed_template(),
        HOUR_AGO,
    )
    assert cli("export").code == 1
    [comment] = comments(state, row)
    assert comment.startswith(
        "Export failed: For whoever runs the pipeline (nothing to change on this page): "
        "University 'Cal Poly Pomona' has no id"
    )
    config = repo.root / "pipeline.yaml"
    config.write_text(config.read_text() + "  universities: {Cal Poly Pomona: cpp}\n")
    assert cli("export").code == 0  # read again without an edit
    assert module_file(repo, "lab-safety-101")["university_id"] == "cpp"


# -- check before Ready -------------------------------------------------------------------------


def test_in_review_pages_are_checked_never_written_problems_on_the_row(
    repo: Repo, notion: NotionServer, cli: CLI
) -> None:
    state = notion.state
    draft = state.add_page(
        properties("draft", "Draft", status="In Review"),
        [heading("Section 1: A"), para(rt("Type: Quiz"))],
        HOUR_AGO,
    )
    fine = state.add_page(properties("fine", "Fine", status="In Review"), body(), HOUR_AGO)
    state.add_page(properties("ready", "Ready"), body(), HOUR_AGO)
    state.add_page(properties("ready", "Copy being reworked", status="In Review"), body(), HOUR_AGO)
    result = cli("export")
    assert result.code == 0, result.out  # problems before Ready fail nothing
    assert sorted(p.name for p in repo.modules.glob("*.json")) == ["ready.json"]
    assert row_error(state, draft).startswith("Check before Ready: Section 1 (A): a quiz needs")
    assert row_error(state, fine) == ""
    # the copy reuses a Ready page's Module ID: its problem, not the Ready page's
    assert "checked before Ready: 1 without problems, 2 with problems" in result.out
    record = json.loads((repo.root / ".pipeline" / "last-export.json").read_text())
    assert record == {"checked": ["ready"]}

    state.set_blocks(draft["id"], body())
    person_edits(draft)
    cli("export")
    assert row_error(state, draft) == ""
    assert not (repo.modules / "draft.json").exists()


def test_check_statuses_are_configurable(repo: Repo, notion: NotionServer, cli: CLI) -> None:
    state = notion.state
    state.add_page(
        properties("draft", "Draft", status="Drafting"),
        [heading("Section 1: A"), para(rt("Type: Quiz"))],
        HOUR_AGO,
    )
    assert "checked" not in cli("export").out
    config = repo.root / "pipeline.yaml"
    config.write_text(config.read_text() + "  check_statuses: [Drafting, In Review]\n")
    assert (
        "checked before Ready: 0 without problems, 1 with problems" in cli("export", "--full").out
    )


def test_a_content_page_the_integration_cannot_read_is_for_the_operator(
    repo: Repo, seed: NotionServer, cli: CLI
) -> None:
    state = seed.state
    unshared = "https://www.notion.so/Content-0123456789abcdef0123456789abcdef"
    row = state.add_page(
        seed_001_row("Lab Safety 101", module_id="lab-safety-101", content_page=unshared),
        [],
        HOUR_AGO,
    )
    assert cli("export").code == 1
    [comment] = comments(state, row)
    assert comment.startswith(
        "Export failed: For whoever runs the pipeline (nothing to change on this page): the "
        "Content Page (https://www.notion.so/0123456789abcdef0123456789abcdef) cannot be read"
    )
    assert "Share that page with the pipeline's integration" in comment
    memory = json.loads((repo.root / ".pipeline" / "notion-export.json").read_text())
    assert memory["retry"] == [row["id"]]  # read again next run, edited or not


def test_statuses_the_library_does_not_have_are_not_asked_for(
    repo: Repo, notion: NotionServer, cli: CLI
) -> None:
    state = notion.state
    state.schema["Status"]["status"] = {"options": [{"name": "Ready"}, {"name": "Live"}]}
    state.add_page(properties("a", "A"), body(), HOUR_AGO)
    assert cli("export").code == 0
    assert state.statuses[400] == 0
