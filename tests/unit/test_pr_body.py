"""PR title and body: what changed, shown for a content reviewer; validation; the module
rendered; GitHub's size limit; content shown, never acting.

The golden files in tests/golden/pr_body/ are the bodies of typical changes, as GitHub
will get them; each was read as it renders on GitHub. After a deliberate change of the
rendering, rewrite them with `PIPELINE_UPDATE_GOLDEN=1 pytest tests/unit/test_pr_body.py`
and read the diff.
"""

from __future__ import annotations

import copy
import json
import os
import re
from collections.abc import Callable
from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.propose import pr_body, prose, sections
from pipeline.propose.gfm import markdown, parse, tokens_of
from tests.builders import LIVE_MENTION, github_view
from tests.conftest import ROOT

ZERO_WIDTH_SPACE = "\u200b"
GOLDEN = ROOT / "tests" / "golden" / "pr_body"
HEAD = "1" * 40
BASE = "2" * 40
WHERE = pr_body.Where("https://github.com/frames/modules", HEAD, BASE)
RAW = f"https://github.com/frames/modules/raw/{HEAD}/"
BLOB = f"https://github.com/frames/modules/blob/{HEAD}/"


def lab() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(
        (ROOT / "data" / "modules" / "lab-safety-101.json").read_text()
    )
    return data


def revised(change: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
    """The lab module at revision 2, changed by `change`."""
    new = copy.deepcopy(lab())
    new["metadata"]["revision"] = 2
    change(new)
    return new


def section(module: dict[str, Any], number: int) -> dict[str, Any]:
    found: dict[str, Any] = next(s for s in module["sections"] if s["section_number"] == number)
    return found


# -- the changes of the golden files ------------------------------------------------------


def prose_edit(module: dict[str, Any]) -> None:
    welcome = section(module, 1)
    welcome["content"] = welcome["content"].replace(
        "Never work alone after hours.", "Never work alone in the lab after 6 pm."
    )


def quiz_answer_flip(module: dict[str, Any]) -> None:
    section(module, 4)["section_config"]["questions"][0]["answer"] = ["a"]


def hotspot_move(module: dict[str, Any]) -> None:
    spots = section(module, 2)["section_config"]["hotspots"]
    spots[1]["x"], spots[1]["y"] = 320, 140


def image_replaced(module: dict[str, Any]) -> None:
    section(module, 2)["media_url"] = "data/assets/lab-safety-101/lab-floor-plan-2026.png"


def added_removed_renumbered(module: dict[str, Any]) -> None:
    """A video section inserted as 2 (so 2 and 3 become 3 and 4), the quiz removed."""
    module["sections"] = [s for s in module["sections"] if s["section_number"] != 4]
    for old in module["sections"][1:]:
        old["section_number"] += 1
    module["sections"].insert(
        1,
        {
            "section_number": 2,
            "section_type": "video",
            "title": "Evacuation Route",
            "content": "Watch the route from the lab to the assembly point.",
            "media_url": "data/assets/lab-safety-101/evacuation.mp4",
            "duration_seconds": 95,
            "section_config": {"provider": "file", "transcript": "Leave by the east door."},
            "completion_criteria": {"type": "view"},
        },
    )


def the_reviewers_case(module: dict[str, Any]) -> None:
    """Issue #14's PR: one answer flipped, a hotspot moved, a sentence edited and
    estimated_minutes changed."""
    quiz_answer_flip(module)
    hotspot_move(module)
    prose_edit(module)
    module["estimated_minutes"] = 15


def big_module() -> dict[str, Any]:
    """A new module whose body is far over GitHub's limit: 90 sections of prose, with a
    code block and a quiz between them."""
    sentence = "the lab is safe when every person knows the exits and wears the right gear"
    words = sentence.split(" ")
    text_sections: list[dict[str, Any]] = []
    for n in range(1, 91):
        paragraph = " ".join(words[(n + i) % len(words)] for i in range(180))
        content = f"## Part {n}\n\n{paragraph}.\n\n```python\nprint('step {n}')\n```\n"
        text_sections.append(
            {"section_number": n, "section_type": "text", "title": f"Part {n}", "content": content}
        )
    module = lab()
    quiz = copy.deepcopy(section(module, 4))
    quiz["section_number"] = 91
    module["sections"] = [*text_sections, quiz]
    return module


CASES: dict[str, Callable[[], str]] = {
    "new-module": lambda: pr_body.body(None, lab(), validation=[], where=WHERE),
    "prose-edit": lambda: pr_body.body(lab(), revised(prose_edit), validation=[], where=WHERE),
    "quiz-answer-flip": lambda: pr_body.body(
        lab(), revised(quiz_answer_flip), validation=[], where=WHERE
    ),
    "hotspot-move": lambda: pr_body.body(lab(), revised(hotspot_move), validation=[], where=WHERE),
    "image-replaced": lambda: pr_body.body(
        lab(),
        revised(image_replaced),
        validation=[],
        where=WHERE,
        files=[
            pr_body.FileChange("data/assets/lab-safety-101/lab-floor-plan-2026.png", "added"),
            pr_body.FileChange("data/assets/lab-safety-101/ppe-checklist.png", "changed"),
        ],
    ),
    "sections-added-removed-renumbered": lambda: pr_body.body(
        lab(), revised(added_removed_renumbered), validation=[], where=WHERE
    ),
    "reviewers-case": lambda: pr_body.body(
        lab(), revised(the_reviewers_case), validation=[], where=WHERE
    ),
    "truncated": lambda: pr_body.body(None, big_module(), validation=[], where=WHERE),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_golden_bodies(name: str) -> None:
    found = CASES[name]()
    path = GOLDEN / f"{name}.md"
    if os.environ.get("PIPELINE_UPDATE_GOLDEN"):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(found, encoding="utf-8")
    assert found == path.read_text(encoding="utf-8"), f"{path} differs; see the module docstring"


def balanced(markdown_text: str) -> None:
    """No code fence left open, every <details> closed in order, no HTML but ours."""
    tokens = parse(f"{markdown_text}\n\nEND-OF-BODY\n")
    last = [t for t in tokens if t.map and t.level == 0][-1]
    assert last.type == "paragraph_open", "a code fence or block runs to the end"
    depth = 0
    for token in tokens_of(tokens):
        if token.type not in ("html_block", "html_inline"):
            continue
        for tag in re.findall(r"</?details>", token.content):
            depth += -1 if tag == "</details>" else 1
            assert depth >= 0, "a </details> closes nothing"
        html = token.content.strip()
        assert html.startswith(("<!-- module-pipeline:", "<details><summary>", "</details>")), html
    assert depth == 0, "a <details> is left open"


@pytest.mark.parametrize("name", sorted(CASES))
def test_golden_bodies_are_balanced_and_fit(name: str) -> None:
    found = CASES[name]()
    assert len(found) <= pr_body.MAX_BODY
    balanced(found)
    assert github_view(found).mentions == []


# -- what changed, for a content reviewer --------------------------------------------------


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
    assert "**Completion:** complete after clicking 5 hotspots" in text
    assert "unchanged" not in text and "🆕" not in text  # a new module: nothing to mark


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
    assert "- `tags`: added `new`" in text
    assert "- `title`: `Lab Safety 101` → `Lab Safety 101, revised`" in text
    assert "- Title: ~~Locate Safety~~ **Find the** Equipment" in text
    assert "❌ `pipeline validate` reports:\n\n- data/modules/x.json 3:4: bad" in text
    assert "- ⚠️ block 123 could not be exported" in text
    assert "#### 🗑️ Removed: Check Your Understanding (quiz, 2 min), was section 4" in text


def test_fields_show_before_and_after() -> None:
    new = revised(lambda m: m.update(estimated_minutes=15, difficulty_level=2))
    new["description"] = "Essential safety rules for everyone entering the lab"
    text = pr_body.body(lab(), new, validation=[])
    assert "- `estimated_minutes`: `10` → `15`" in text
    assert "- `difficulty_level`: `1` → `2`" in text
    assert (
        "- `description`: Essential safety ~~protocols~~ **rules** for **everyone** entering"
    ) in text


def test_prose_changes_are_marked_word_by_word() -> None:
    text = pr_body.body(lab(), revised(prose_edit), validation=[])
    assert "#### 1. Welcome to Lab Safety (text, 2 min) · ✏️ changed" in text
    assert "> 3\\. Never work alone **in the lab** after ~~hours.~~ **6 pm.**" in text
    view = github_view(text)
    # GitHub reads the marks as strikethrough and bold, around exactly the changed words.
    [line] = [line for line in text.splitlines() if line.startswith("> 3\\. Never")]
    struck, strong = _marked(line)
    assert struck == ["hours."] and strong == ["in the lab", "6 pm."]
    assert "Never work alone" in "\n".join(view.text)
    # Unchanged sections are collapsed; changed ones are not.
    heading = "#### 3. PPE Requirements (checklist, 1.5 min) · unchanged\n"
    assert text.split(heading)[1].lstrip().startswith("<details><summary>Unchanged. Show")


def _marked(markdown_text: str) -> tuple[list[str], list[str]]:
    """The texts GitHub shows struck through, and in bold."""
    found: dict[str, list[str]] = {"s": [], "strong": []}
    inside: str | None = None
    for token in tokens_of(parse(markdown_text)):
        if token.type in ("s_open", "strong_open"):
            inside = token.type.removesuffix("_open")
            found[inside].append("")
        elif token.type in ("s_close", "strong_close"):
            inside = None
        elif inside is not None and token.type == "text":
            found[inside][-1] += token.content
    return found["s"], found["strong"]


def test_a_flipped_quiz_answer_stands_out() -> None:
    text = pr_body.body(lab(), revised(quiz_answer_flip), validation=[])
    assert (
        "> ⚠️ **The correct answer changed:** was `b` Leave by the nearest exit, now `a` "
        "Finish the solder joint"
    ) in text
    assert "- ✅ `a` Finish the solder joint ⬅️ **now correct**" in text
    assert "- ⬜ `b` Leave by the nearest exit ⬅️ **no longer correct**" in text
    assert "- ✅ `c` Closed-toe shoes\n" in text  # question 2 unchanged: ticked, unmarked
    assert "**Q1.** What do you do first when the fire alarm sounds? (`q1`, one answer)" in text


def test_a_moved_hotspot_is_marked_in_the_table() -> None:
    text = pr_body.body(lab(), revised(hotspot_move), validation=[])
    assert "| 📍 moved | `eye-wash` | Eye Wash Station | 300 → **320** | 150 → **140** |" in text
    assert "|  | `exit` | Emergency Exit | 500 | 260 |" in text
    rows = github_view(text).rows
    assert ["", "Hotspot", "Label", "x", "y"] in rows


def test_checklist_and_criteria_read_as_words() -> None:
    new = revised(lambda m: None)
    checklist = section(new, 3)
    checklist["section_config"]["items"].append({"id": "coat", "label": "Lab coat"})
    checklist["section_config"]["items"][2]["required"] = True
    checklist["completion_criteria"] = {"type": "tasks", "tasks": ["glasses", "shoes", "coat"]}
    text = pr_body.body(lab(), new, validation=[])
    assert "- ☐ Safety glasses (`glasses`, required)\n" in text
    assert "- ☐ Long hair tied back (`hair`, required) ✏️ was optional" in text
    assert "- ☐ Lab coat (`coat`, required) 🆕" in text
    assert (
        "**Completion** ✏️: complete after checking off: Safety glasses (`glasses`), "
        "Closed-toe shoes (`shoes`), Lab coat (`coat`) (was: complete after checking off: "
        "Safety glasses (`glasses`), Closed-toe shoes (`shoes`))"
    ) in text


@pytest.mark.parametrize(
    ("criteria", "words"),
    [
        ({"type": "view"}, "complete when viewed"),
        ({"type": "time", "value": 90}, "complete after 1.5 min on the section"),
        ({"type": "time", "value": 45}, "complete after 45 s on the section"),
        ({"type": "hotspots", "hotspots_clicked": 1}, "complete after clicking 1 hotspot"),
        ({"type": "hotspots", "hotspots_clicked": 5}, "complete after clicking 5 hotspots"),
        ({"type": "score", "min_score": 0.8}, "complete with a score of at least 80 %"),
        ({"type": "tasks", "tasks": ["exit"]}, "complete after checking off: Emergency Exit"),
    ],
)
def test_completion_criteria_in_words(criteria: dict[str, Any], words: str) -> None:
    assert sections.criteria_words(criteria, section(lab(), 2)).startswith(words)


def test_sections_are_matched_so_an_insert_is_no_change_of_every_later_one() -> None:
    found = pr_body.changes(lab(), revised(added_removed_renumbered))
    assert found.added == [2]
    assert found.removed == [4]
    assert found.changed == []
    assert found.moved == [(2, 3), (3, 4)]
    text = pr_body.body(lab(), revised(added_removed_renumbered), validation=[], where=WHERE)
    assert (
        "| Sections renumbered | 2 → 3 (Locate Safety Equipment), 3 → 4 (PPE Requirements) |"
        in (text)
    )
    assert "#### 3. Locate Safety Equipment (interactive, 3 min) · unchanged, was section 2" in text
    assert "#### 2. Evacuation Route (video, 95 s) · 🆕 new section" in text


def test_headings_in_a_section_sit_below_the_section_heading() -> None:
    new = lab()
    section(new, 1)["content"] = "# Top\n\ntext\n\n## Second\n\nSetext\n===\n\n> # Quoted\n"
    text = pr_body.body(None, new, validation=[])
    view = github_view(text)
    assert "##### Top" in text and "###### Second" in text and "##### Setext" in text
    assert "> ##### Quoted" in text
    levels = {h: len(m[1]) for m in re.finditer(r"^(#+) (.*)$", text, re.M) for h in [m[2]]}
    assert levels["Top"] > levels["1. Welcome to Lab Safety (text, 2 min)"]
    assert "Setext" in view.headings


def test_images_and_media_render_from_the_head_commit() -> None:
    text = pr_body.body(lab(), revised(image_replaced), validation=[], where=WHERE)
    # An image in the text and a media field: absolute URLs at the PR's commits.
    assert f"![PPE checklist]({RAW}data/assets/lab-safety-101/ppe-checklist.png)" in text
    old_plan = f"https://github.com/frames/modules/raw/{BASE}/data/assets/lab-safety-101/lab-floor-plan.png"
    new_plan = f"{RAW}data/assets/lab-safety-101/lab-floor-plan-2026.png"
    assert (
        f"| ![Locate Safety Equipment]({old_plan}) | ![Locate Safety Equipment]({new_plan}) |"
        in (text)
    )
    video = pr_body.body(None, revised(added_removed_renumbered), validation=[], where=WHERE)
    assert f"[data/assets/lab-safety-101/evacuation.mp4]({BLOB}data/assets/" in video
    # Without a place on GitHub (a preview), paths stay paths.
    assert "`data/assets/lab-safety-101/lab-floor-plan.png`" in pr_body.body(
        None, lab(), validation=[]
    )


def test_asset_links_in_code_stay_as_written() -> None:
    def url(path: str, image: bool) -> str:
        return "https://x/" + path

    source = (
        "![a](data/assets/m/a.png) and `![b](data/assets/m/b.png)`\n\n"
        "```\n![c](data/assets/m/c.png)\n```"
    )
    shown = markdown(source, asset_url=url)
    assert "![a](https://x/data/assets/m/a.png)" in shown
    assert "`![b](data/assets/m/b.png)`" in shown
    assert "\n![c](data/assets/m/c.png)\n" in shown


def test_a_removed_module() -> None:
    text = pr_body.body(lab(), None, validation=[])
    assert "**This pull request removes the module.**" in text
    assert "| Revision | 1 → removed |" in text
    assert "| Sections removed | 1 (Welcome to Lab Safety), 2 (Locate Safety Equipment)" in text
    balanced(text)
    # Too long to show whole: every removed section named, its text left out.
    big = pr_body.body(big_module(), None, validation=[], where=WHERE)
    assert len(big) <= pr_body.MAX_BODY
    balanced(big)
    assert big.count("Removed; its text is not shown here, for length.") == 91


# -- GitHub's size limit: cut only between sections ------------------------------------------


def test_long_bodies_are_cut_between_sections_with_a_link_to_the_rest() -> None:
    text = pr_body.body(None, big_module(), validation=[], where=WHERE)
    assert len(text) <= pr_body.MAX_BODY
    balanced(text)
    shown = [int(n) for n in re.findall(r"^#### (\d+)\. ", text, re.M)]
    assert 10 < len(shown) < 90
    # Every section shown is shown whole: its text, then its code block, closed.
    for n in shown:
        assert n == 91 or f"print('step {n}')\n```" in text
    # The others are named, with a link to the file.
    assert shown == list(range(1, len(shown) + 1))
    assert f"**Not shown here:** sections {len(shown) + 1} to 91." in text
    assert f"[data/modules/lab-safety-101.json]({BLOB}data/modules/lab-safety-101.json)" in text


def test_one_huge_section_leaves_the_changes_of_the_others_readable() -> None:
    old = lab()
    new = revised(quiz_answer_flip)
    section(new, 1)["content"] = "word " * 30_000  # changed, and too big to show
    section(old, 3)["content"] = section(new, 3)["content"] = "w " * 20_000  # unchanged
    text = pr_body.body(old, new, validation=[], where=WHERE)
    assert len(text) <= pr_body.MAX_BODY
    balanced(text)
    assert "Unchanged; not shown here, for length." in text  # the unchanged one, first
    assert "**Not shown here:** sections 1." in text  # the huge one, named
    assert "⬅️ **now correct**" in text  # the quiz's change is still there to review


def test_a_cut_leaves_no_fence_or_details_open() -> None:
    module = lab()
    module["sections"][1]["section_config"]["hotspots"] = [
        {"id": f"h{i}", "x": 1, "y": 2, "label": "x" * 50} for i in range(2000)
    ]
    text = pr_body.body(None, module, validation=[])
    assert len(text) <= pr_body.MAX_BODY
    balanced(text)
    assert "**Not shown here:** sections 2." in text  # the others fit, so they are shown
    assert "#### 4. Check Your Understanding" in text


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
    quiz = module["sections"][3]["section_config"]["questions"][0]
    quiz["prompt"] = "@mallory </details> <!--"
    quiz["options"][0]["text"] = "`x` ~~y~~ **z** @oscar"
    module["sections"][1]["section_config"]["hotspots"][0]["label"] = "a | b @peggy </details>"
    return module


def test_content_cannot_act_on_the_pull_request() -> None:
    module = hostile()
    text = pr_body.body(
        None, module, validation=["data/modules/x.json 1:1: '@mallory' <!-- is unknown"]
    )
    view = github_view(text)
    # The only raw HTML is ours: the marker and balanced <details> with our own summaries.
    assert view.html[0] == "<!-- module-pipeline:lab-safety-101 -->"
    balanced(text)
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
    # A table cell with a pipe stays one cell.
    spots = [row for row in view.rows if len(row) > 1 and row[1].startswith("`")]
    assert len(spots) == 5 and all(len(row) == 5 for row in spots), spots


def test_a_changed_hostile_module_stays_inert() -> None:
    text = pr_body.body(lab(), hostile(), validation=[], where=WHERE)
    balanced(text)
    assert github_view(text).mentions == []


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
    page = f"## {pr_body.text(plain)}\n\n{pr_body.markdown(content, shift=4)}\n\n{ours}\n"
    cells = f"{pr_body.text(plain)} | {pr_body.code(plain, table=True)}"
    page += f"\n| a | b |\n| --- | --- |\n| {cells} |\n"
    view = github_view(page)
    assert view.html == ["<details><summary>section_config</summary>", "</details>"]
    assert view.mentions == []
    assert view.rows[-1:] and len(view.rows[-1]) == 2


_WORDS = st.lists(
    st.sampled_from(
        ["a", "b", "lab", "@eve", "<!--", "</details>", "`x`", "#", "1.", "\n", "\n\n"]
    ),
    max_size=25,
)


@settings(max_examples=300, deadline=None)
@given(_WORDS, _WORDS)
def test_any_word_diff_is_inert_and_its_marks_hold(old: list[str], new: list[str]) -> None:
    """A diff of any two texts: no HTML, no mention, and every mark GitHub reads as a mark
    (no stray ~~ or ** left as text)."""
    before, after = " ".join(old), " ".join(new)
    page = "\n".join(prose.block(before, after)) + "\n\n" + prose.one_line(before, after) + "\n"
    view = github_view(page)
    assert view.html == [] and view.mentions == []
    assert not [t for t in view.text if "~" in t or "*" in t], page
    if before.split() != after.split():
        assert "<s>" in _html(page) or "<strong>" in _html(page)


def _html(markdown_text: str) -> str:
    from markdown_it import MarkdownIt

    html: str = MarkdownIt("commonmark").enable("strikethrough").render(markdown_text)
    return html


# -- a module file holding anything: the body is written all the same -------------------------

_SAMPLES = ("lab-safety-101", "equipment-tour", "first-pull-request")
_KEYS = ["id", "text", "label", "type", "value", "answer", "options", "kind", "x", "y", "tasks"]
_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(st.sampled_from(_KEYS) | st.text(max_size=4), inner, max_size=3)
    ),
    max_leaves=6,
)


def sample(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((ROOT / "data" / "modules" / f"{name}.json").read_text())
    return data


def places(value: Any, at: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every place in a JSON value: each key of an object, each item of a list."""
    if isinstance(value, dict):
        children = list(value.items())
    elif isinstance(value, list):
        children = list(enumerate(value))
    else:
        return []
    found = []
    for key, child in children:
        found += [(*at, key), *places(child, (*at, key))]
    return found


@st.composite
def odd_modules(draw: st.DrawFn) -> dict[str, Any]:
    """A sample module with a few values anywhere in it replaced by any JSON."""
    module = sample(draw(st.sampled_from(_SAMPLES)))
    for _ in range(draw(st.integers(1, 4))):
        path = draw(st.sampled_from(places(module)))
        parent = module
        for step in path[:-1]:
            parent = parent[step]
        parent[path[-1]] = draw(_JSON)
    return module


@settings(max_examples=200, deadline=None)
@given(odd_modules(), odd_modules())
def test_any_module_file_gets_a_title_and_a_body(old: dict[str, Any], new: dict[str, Any]) -> None:
    """A file that validate rejects (metadata a string, a section number a list, options a
    number) is still proposed: its body and title are written, never a crash."""
    for before, after in ((old, new), (None, new), (old, None)):
        text = pr_body.body(before, after, validation=["x"], where=WHERE)
        assert len(text) <= pr_body.MAX_BODY
        balanced(text)
    assert pr_body.title(new).startswith("Module: ")


def test_values_nested_too_deeply_to_compare_are_said_so() -> None:
    """orjson reads 1,024 levels; Python compares and writes JSON to fewer."""
    new = revised(lambda module: module.update(extra=orjson.loads("[" * 1020 + "]" * 1020)))
    text = pr_body.body(lab(), new, validation=["x"], where=WHERE)
    assert "`data/modules/lab-safety-101.json` is on this branch, but its values are nested" in text
    balanced(text)


def test_a_file_that_cannot_be_read_is_no_removal() -> None:
    why = "propose cannot read it as a module"
    files = [pr_body.FileChange("data/assets/lab-safety-101/a.png", "added")]
    text = pr_body.unreadable(
        "lab-safety-101", lab(), why, validation=["not JSON"], where=WHERE, files=files
    )
    assert text.startswith("<!-- module-pipeline:lab-safety-101 -->\n## Lab Safety 101")
    assert f"`data/modules/lab-safety-101.json` is on this branch, but {why}" in text
    assert "`data/assets/lab-safety-101/a.png` (added)" in text
    assert "- not JSON" in text and "removes" not in text
    balanced(text)
    assert pr_body.title(lab(), "unreadable") == "Module: Lab Safety 101 (file cannot be read)"
    assert pr_body.title(lab(), "removal") == "Module: Lab Safety 101 (remove)"


@given(st.text(st.characters(codec=None, exclude_categories=())))
def test_any_title_is_one_line_git_can_take(name: str) -> None:
    """A title is also the commit message, in git's argv: no NUL, no control character, no
    lone surrogate (none can be encoded), on one line."""
    title = pr_body.title({"title": name})
    assert not re.search(r"[\x00-\x1f\x7f-\x9f]", title)
    title.encode("utf-8")
