"""PR title and body: what changed, validation, and the module rendered."""

from __future__ import annotations

import copy
import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.propose import pr_body
from tests.builders import LIVE_MENTION, github_view
from tests.conftest import ROOT

ZERO_WIDTH_SPACE = "\u200b"


def lab() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(
        (ROOT / "data" / "modules" / "lab-safety-101.json").read_text()
    )
    return data


def test_new_module() -> None:
    module = lab()
    text = pr_body.body(None, module, validation=[])
    assert pr_body.title(module) == "Module: Lab Safety 101 (rev 1)"
    assert text.startswith("<!-- module-pipeline:lab-safety-101 -->\n## Lab Safety 101")
    assert "| Revision | new module → 1 |" in text
    assert "| Sections added | 1 (Welcome to Lab Safety), 2 (Locate Safety Equipment)" in text
    assert "✅ `pipeline validate` passes." in text
    assert "https://www.notion.so/1a2b3c4d5e6f4a1b8c2d3e4f5a6b7c8d" in text
    assert text.index("#### 1. Welcome to Lab Safety (text, 2 min)") < text.index(
        "#### 2. Locate Safety Equipment"
    )
    assert '"hotspots_clicked": 5' in text


def test_changed_module() -> None:
    old = lab()
    new = copy.deepcopy(old)
    new["metadata"]["revision"] = 2
    new["title"] = "Lab Safety 101, revised"
    new["tags"].append("new")
    new["sections"][1]["title"] = "Find the Equipment"
    del new["sections"][3]
    found = pr_body.changes(old, new)
    assert (found.added, found.changed, found.removed) == ([], [2], [4])
    assert found.fields == ["tags", "title"]
    text = pr_body.body(
        old,
        new,
        validation=["data/modules/x.json 3:4: bad"],
        notes=["block 123 could not be exported"],
    )
    assert "| Revision | 1 → 2 |" in text
    assert "| Sections removed | 4 (Check Your Understanding) |" in text
    assert "| Fields changed | `tags`, `title` |" in text
    assert "❌ `pipeline validate` reports:\n\n- data/modules/x.json 3:4: bad" in text
    assert "- ⚠️ block 123 could not be exported" in text


def test_long_bodies_are_cut_for_github() -> None:
    module = lab()
    module["sections"][0]["content"] = "x" * 100_000
    text = pr_body.body(None, module, validation=[])
    assert len(text) < 65_536
    assert text.rstrip().endswith("see the file in the diff)")


def test_a_cut_leaves_no_fence_or_details_open() -> None:
    module = lab()
    module["sections"][1]["section_config"]["hotspots"] = [{"label": "x" * 50}] * 2000
    text = pr_body.body(None, module, validation=[])
    assert len(text) < 65_536
    view = github_view(text)
    assert sum(h.startswith("<details>") for h in view.html) == 2
    assert sum(h == "</details>" for h in view.html) == 2
    assert "(cut here: the body is too long for GitHub" in view.text[-1]


# -- content from outside the review: shown, never acting (issue #12, item 14) -------------


def hostile() -> dict[str, Any]:
    """A module whose every field tries to act on the PR page."""
    module = lab()
    module["title"] = "Safety for @alice and @frames/reviewers <b>now</b>"
    module["description"] = "<!-- the reviewer sees nothing below this line"
    module["category"] = "@bob"
    module["learning_objectives"] = ["Ask @carol", "</details>", "&#64;dave via an entity"]
    module["prerequisites"] = ["`@erin` <!--"]
    first = module["sections"][0]
    first["title"] = "Welcome @frank </summary></details><details open>"
    first["content"] = (
        "Hello @grace and @frames/teachers.\n\n"
        "</details>\n\n"
        "<details><summary>hidden</summary>\n\n<!-- and an open comment\n\n"
        "**Bold** stays bold, `<code>` and `@heidi` stay code, mail me@example.org.\n\n"
        "```html\n<div>@ivan</div>\n```"
    )
    first["section_config"] = {"note": "</details> @judy\n```\n<!--"}
    module["sections"][1]["content"] = "```\nan open fence swallows the rest"
    return module


def test_content_cannot_act_on_the_pull_request() -> None:
    module = hostile()
    text = pr_body.body(
        None, module, validation=["data/modules/x.json 1:1: '@mallory' <!-- is unknown"]
    )
    view = github_view(text)
    marker = "<!-- module-pipeline:lab-safety-101 -->"
    configs = sum(bool(s.get("section_config")) for s in module["sections"])
    configs += sum(bool(s.get("completion_criteria")) for s in module["sections"])
    # The only raw HTML is ours: the marker and one balanced <details> per config block.
    assert view.html[0] == marker
    assert [h for h in view.html[1:] if h.startswith("<details>")] == [
        h for h in view.html[1:] if h.startswith("<details>") and "</summary>" in h
    ]
    assert sum(h.startswith("<details>") for h in view.html) == configs
    assert sum(h == "</details>" for h in view.html) == configs
    assert all(h.startswith(("<details><summary>", "</details>")) for h in view.html[1:])
    assert view.mentions == []
    # What the module says is there to read, as text.
    seen = "\n".join(view.text)
    assert "<!-- the reviewer sees nothing below this line" in seen
    assert "</details>" in seen and "<details><summary>hidden</summary>" in seen
    assert "&#64;dave via an entity" in seen
    # Markdown still reads as Markdown: code is shown as written, bold is bold.
    assert "<code>" in view.code and "@heidi" in view.code
    assert "<div>@ivan</div>\n" in view.code
    assert "**Bold**" not in seen and "Bold" in seen
    assert "me@example.org" in seen  # an e-mail address is no mention, left alone
    # An open fence in one section does not swallow the sections after it.
    assert any(h.startswith("3. PPE Requirements") for h in view.headings), view.headings


def test_the_title_notifies_nobody() -> None:
    title = pr_body.title(hostile())
    assert not LIVE_MENTION.search(title)
    assert title.replace(ZERO_WIDTH_SPACE, "") == (
        "Module: Safety for @alice and @frames/reviewers <b>now</b> (rev 1)"
    )
    assert "\n" not in pr_body.title({"title": "two\nlines", "metadata": {"revision": 2}})


@settings(max_examples=300, deadline=None)
@given(
    st.text(alphabet="<>!-`~@aZ1 &#;/\n\\*_[]()|:.\t>", max_size=80),
    st.text(alphabet="<>!-`@a &#;\n\\|", max_size=30),
)
def test_any_content_stays_inert(content: str, plain: str) -> None:
    """Whatever a module holds, the only HTML left is ours and no @ is a mention."""
    ours = "<details><summary>section_config</summary>\n\n</details>"
    page = f"## {pr_body.text(plain)}\n\n{pr_body.markdown(content)}\n\n{ours}\n"
    cells = f"{pr_body.text(plain)} | {pr_body.code(plain, table=True)}"
    page += f"\n| a | b |\n| --- | --- |\n| {cells} |\n"
    view = github_view(page)
    assert view.html == ["<details><summary>section_config</summary>", "</details>"]
    assert view.mentions == []
    assert view.rows[-1:] and len(view.rows[-1]) == 2
