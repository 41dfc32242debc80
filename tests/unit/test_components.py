"""Interactive components are an extension point: one schema per environment_type in
schemas/components/, each with a sample; adding one is adding those two files."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from pipeline.modules import schema as module_schema
from pipeline.modules.checks import media_references
from pipeline.modules.schema import (
    component_names,
    load_components,
    load_schema,
    schema_problems,
    with_components,
)
from tests.builders import module
from tests.conftest import CLI, ROOT, Repo

COMPONENTS = ROOT / "schemas" / "components"


def interactive(config: dict[str, Any], **extra: Any) -> dict[str, Any]:
    section = {
        "section_number": 1,
        "section_type": "interactive",
        "title": "Try it",
        "content": "",
        "section_config": config,
        **extra,
    }
    return module(sections=[section])


def messages(data: dict[str, Any]) -> list[str]:
    return [f"{p.pointer}: {p.message}" for p in schema_problems(data, "x.json")]


def test_the_shipped_components() -> None:
    assert component_names() == ["3d_scene", "drag_drop", "image_hotspots", "simulation"]
    assert module_schema.default_component() == "image_hotspots"


@pytest.mark.parametrize(
    "name", sorted(p.name[: -len(".schema.json")] for p in COMPONENTS.glob("*.schema.json"))
)
def test_every_component_has_a_sample_that_passes(name: str) -> None:
    sample_file = COMPONENTS / f"{name}.sample.json"
    assert sample_file.is_file(), f"{name} has no sample"
    sample = json.loads(sample_file.read_text())
    assert sample["environment_type"] == name
    assert messages(interactive(sample)) == []


def test_an_unknown_component_lists_the_known_ones_and_how_to_add_one() -> None:
    [problem] = messages(interactive({"instruction": "x", "environment_type": "spinner"}))
    assert 'environment_type "spinner" is not known' in problem
    assert "3d_scene, drag_drop, image_hotspots, simulation" in problem
    assert "schemas/components/<name>.schema.json" in problem and "no code changes" in problem


def test_component_settings_are_strict() -> None:
    assert messages(interactive({"instruction": "x", "hotspot": []})) == [
        '/sections/0/section_config: missing required field "hotspots"',
        '/sections/0/section_config/hotspot: unknown field "hotspot" (did you mean "hotspots"?)',
    ]
    drag = json.loads((COMPONENTS / "drag_drop.sample.json").read_text())
    assert messages(interactive({**drag, "hotspots": []})) == [
        '/sections/0/section_config/hotspots: unknown field "hotspots"'
    ]
    spot = {"id": "a", "x": "1", "y": 2, "label": "A"}
    assert messages(interactive({"instruction": "x", "hotspots": [spot]})) == [
        "/sections/0/section_config/hotspots/0/x: x must be a number, found a string"
    ]


def test_without_environment_type_the_default_component_applies() -> None:
    spot = {"id": "a", "x": 1, "y": 2, "label": "A"}
    assert messages(interactive({"instruction": "x", "hotspots": [spot]})) == []
    assert messages(interactive({"instruction": "x"})) == [
        '/sections/0/section_config: missing required field "hotspots"'
    ]


def test_adding_a_component_is_adding_a_file(tmp_path: Path) -> None:
    """No code change: a new schema in the folder is a new environment_type."""
    folder = tmp_path / "components"
    shutil.copytree(COMPONENTS, folder)
    (folder / "timeline.schema.json").write_text(
        json.dumps(
            {
                "$schema": "https://json-schema.org/draft/2020-12/schema",
                "type": "object",
                "properties": {
                    "events": {"type": "array", "items": {"$ref": "#/$defs/event"}, "minItems": 1}
                },
                "required": ["events"],
                "$defs": {
                    "event": {
                        "type": "object",
                        "properties": {"year": {"type": "integer"}, "label": {"type": "string"}},
                        "required": ["year", "label"],
                        "additionalProperties": False,
                    }
                },
            }
        )
    )
    shared = json.loads((ROOT / "schemas" / "module.schema.json").read_text())
    built = with_components(shared, load_components(folder))
    validator = jsonschema.Draft202012Validator(built)
    good = {
        "instruction": "Order them",
        "environment_type": "timeline",
        "events": [{"year": 1969, "label": "Moon landing"}],
    }
    assert list(validator.iter_errors(interactive(good))) == []
    bad = {**good, "events": [{"year": "1969", "label": "x"}], "extra": 1}
    assert len(list(validator.iter_errors(interactive(bad)))) >= 2
    assert (
        "timeline" in built["$defs"]["config_interactive"]["properties"]["environment_type"]["enum"]
    )


def test_a_broken_component_schema_is_named(tmp_path: Path) -> None:
    (tmp_path / "Bad Name.schema.json").write_text("{}")
    with pytest.raises(Exception, match="lowercase words joined by '_'"):
        load_components.__wrapped__(tmp_path)
    (tmp_path / "Bad Name.schema.json").unlink()
    (tmp_path / "list.schema.json").write_text('{"type": "array"}')
    with pytest.raises(Exception, match="an object schema with properties"):
        load_components.__wrapped__(tmp_path)


def test_ids_in_any_component_are_unique_and_completion_may_name_them(repo: Repo, cli: CLI) -> None:
    drag = json.loads((COMPONENTS / "drag_drop.sample.json").read_text())
    drag["items"].append({"id": "gloves", "label": "Again"})
    repo.write(interactive(drag, completion_criteria={"type": "tasks", "tasks": ["glass"]}))
    result = cli("validate", "--json")
    [problem] = json.loads(result.out)["problems"]
    assert problem["message"] == 'item id "gloves" is used more than once; ids must be unique'
    assert problem["pointer"] == "/sections/0/section_config/items/2/id"


def test_a_file_a_component_names_must_exist(repo: Repo, cli: CLI) -> None:
    scene = json.loads((COMPONENTS / "3d_scene.sample.json").read_text())
    repo.write(interactive({**scene, "model": "data/assets/demo/press.glb"}))
    result = cli("validate", "--json")
    [problem] = json.loads(result.out)["problems"]
    assert problem["pointer"] == "/sections/0/section_config/model"
    assert "data/assets/demo/press.glb" in problem["message"]
    repo.asset("data/assets/demo/press.glb")
    assert cli("validate").code == 0


def test_the_loaded_schema_is_the_one_validate_uses() -> None:
    names = load_schema()["$defs"]["config_interactive"]["properties"]["environment_type"]
    assert names["enum"] == component_names()


@pytest.mark.parametrize(
    ("settings", "pointers"),
    [
        ({"model": "https://example.org/a.glb"}, []),
        ({"levels": [{"sound": "data/assets/a/b.mp3"}]}, ["/levels/0/sound"]),
        ({"note": "see data/assets/a/b.mp3"}, []),  # a text that only mentions one
        ({"a/b": {"c~d": "data/assets/x.png"}}, ["/a~1b/c~0d"]),
        ({"wide": 2**70, "model": "data/assets/m.glb"}, ["/model"]),  # orjson refuses 2**70
        ({"instruction": "data/assets/i.png"}, []),  # shared keys are not the component's
    ],
)
def test_the_files_a_component_names_are_found_wherever_they_are(
    settings: dict[str, Any], pointers: list[str]
) -> None:
    doc = interactive({"instruction": "Do it.", "environment_type": "x", **settings})
    found = [r.pointer for r in media_references(doc)]
    assert found == [f"/sections/0/section_config{p}" for p in pointers]
