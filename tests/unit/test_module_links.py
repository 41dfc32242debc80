"""Links to other modules (`module:<module_id>`, what the export makes of links and mentions
of Module Library pages) are checked by validate like prerequisites."""

from __future__ import annotations

import json

from tests.builders import module, text_section
from tests.conftest import CLI, Repo


def test_a_link_to_an_existing_module_is_valid(repo: Repo, cli: CLI) -> None:
    repo.write(module(module_id="tour", sections=[text_section(1)]))
    repo.write(module(sections=[text_section(1, content="Next: [the tour](module:tour).")]))
    result = cli("validate")
    assert result.code == 0, result.out


def test_a_link_to_a_missing_module_is_an_error_on_the_line(repo: Repo, cli: CLI) -> None:
    repo.write(module(module_id="tour", sections=[text_section(1)]))
    repo.write(module(sections=[text_section(1, content="Next: [the tour](module:tuor).")]))
    result = cli("validate", "--json")
    assert result.code == 1
    [problem] = json.loads(result.out)["problems"]
    assert problem["check"] == "references"
    assert problem["pointer"] == "/sections/0/content"
    assert (
        'links to the module "tuor" (module:tuor), but no module has that id' in problem["message"]
    )
    assert 'did you mean "tour"?' in problem["message"]


def test_a_module_link_must_name_a_module_id(repo: Repo, cli: CLI) -> None:
    repo.write(module(sections=[text_section(1, content="[x](module:Not_An_Id)")]))
    result = cli("validate", "--json")
    [problem] = json.loads(result.out)["problems"]
    assert problem["check"] == "markup"
    assert "must name a module id, like module:lab-safety-101" in problem["message"]
