"""The module JSON Schema: where it lives, and turning violations into Problems.

Validity is decided by jsonschema-rs (compiled, about 50x faster than the
pure-Python validator), which keeps `pipeline validate` fast on thousands of
files. Only for a file that fails do we ask the `jsonschema` package for its
errors, because its error objects carry what a good message needs (the failing
keyword, the schema and instance at that point, sub-errors of anyOf/oneOf).
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Callable, Iterator
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import jsonschema_rs

from pipeline.errors import UsageError
from pipeline.layout import MODULE_SCHEMA, schema_file
from pipeline.modules.problems import Problem, did_you_mean, pointer

if TYPE_CHECKING:  # imported lazily: only a failing file needs it (saves 0.1 s start-up)
    import jsonschema
    from jsonschema.exceptions import ValidationError

_MAX_MESSAGE = 300

# Patterns in the schema, described for people.
_PATTERN_HINTS = {
    "^[a-z0-9]+(-[a-z0-9]+)*$": "a slug: lowercase letters and digits in words joined by single "
    "hyphens, like lab-safety-101",
    "^[A-Za-z0-9][A-Za-z0-9_-]*$": "an id of letters, digits, '-' and '_'",
    "^sha256:[0-9a-f]{64}$": "'sha256:' followed by 64 lowercase hex digits",
}
_PATTERN_PREFIX_HINTS = {
    "^([0-9a-f]{32}|": "a Notion page id: 32 lowercase hex digits, with or without dashes",
    "^[0-9]{4}-[0-9]{2}-": "an ISO 8601 UTC time such as 2025-11-26T14:30:00Z",
}


@cache
def load_schema() -> dict[str, Any]:
    """The module schema as `pipeline validate` applies it: module.schema.json with the
    interactive components of schemas/components/ merged in (see `with_components`)."""
    path = schema_file(MODULE_SCHEMA)
    return with_components(_shared_schema(), load_components(path.parent / COMPONENTS_DIR))


@cache
def _shared_schema() -> dict[str, Any]:
    """module.schema.json as it is on disk."""
    return _read_schema(schema_file(MODULE_SCHEMA), "the module schema")


def _read_schema(path: Path, what: str) -> dict[str, Any]:
    try:
        schema: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
        jsonschema_rs.meta.validate(schema)
    except (
        OSError,
        ValueError,
        jsonschema_rs.ValidationError,
        jsonschema_rs.ReferencingError,
    ) as exc:
        raise UsageError(
            f"{path}: {what} itself is broken ({exc}); fix or restore it from Git"
        ) from None
    if not isinstance(schema, dict):
        raise UsageError(f"{path}: {what} must be a JSON object; fix or restore it from Git")
    return schema


# -- interactive components: one schema per environment_type ---------------------------------
#
# An interactive section's section_config holds the settings every component shares
# (module.schema.json's config_interactive: instruction, environment_type, assets, tasks)
# and the settings of its component, defined by schemas/components/<name>.schema.json
# (with <name>.sample.json, a section_config that passes). Adding a component is adding
# those two files: the schema validate applies is built here, one strict object schema
# per component (shared + own settings, nothing else), chosen by environment_type.

COMPONENTS_DIR = "components"
COMPONENT_SUFFIX = ".schema.json"
SAMPLE_SUFFIX = ".sample.json"
COMPONENT_NAME = re.compile(r"^[a-z0-9]+(_[a-z0-9]+)*$")
_OWN_KEYWORDS = ("$schema", "$id", "$defs", "title", "description", "type", "properties")


def component_names() -> list[str]:
    """The environment_type values validate knows, sorted."""
    return sorted(load_components(schema_file(MODULE_SCHEMA).parent / COMPONENTS_DIR))


def default_component() -> str:
    """The component of an interactive section that names none."""
    kind = _shared_schema()["$defs"]["config_interactive"]["properties"]["environment_type"]
    return str(kind.get("default", "image_hotspots"))


@cache
def load_components(directory: Path) -> dict[str, dict[str, Any]]:
    """name -> schema of every component in `directory` (none when it does not exist)."""
    found: dict[str, dict[str, Any]] = {}
    if not directory.is_dir():
        return found
    for path in sorted(directory.glob(f"*{COMPONENT_SUFFIX}")):
        name = path.name[: -len(COMPONENT_SUFFIX)]
        if not COMPONENT_NAME.match(name):
            raise UsageError(
                f"{path}: a component's name is lowercase words joined by '_' "
                "(like drag_drop); rename the file"
            )
        schema = _read_schema(path, f"the schema of the component {name}")
        if schema.get("type") != "object" or not isinstance(schema.get("properties"), dict):
            raise UsageError(
                f"{path}: a component's schema is an object schema with properties "
                '("type": "object", "properties": {...}); see image_hotspots.schema.json'
            )
        found[name] = schema
    return found


def component_sample(name: str) -> dict[str, Any] | None:
    """The sample section_config shipped with a component, if any."""
    path = schema_file(MODULE_SCHEMA).parent / COMPONENTS_DIR / f"{name}{SAMPLE_SUFFIX}"
    try:
        sample = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return sample if isinstance(sample, dict) else None


def with_components(
    schema: dict[str, Any], components: dict[str, dict[str, Any]]
) -> dict[str, Any]:
    """`schema` whose config_interactive is one strict schema per component, chosen by
    environment_type (absent: its default); an environment_type no file defines is an
    enum error that lists the known ones. Without components, `schema` as it is."""
    if not components:
        return schema
    built = copy.deepcopy(schema)
    defs = built["$defs"]
    shared = defs["config_interactive"]
    default = shared["properties"]["environment_type"].get("default")
    branches: list[dict[str, Any]] = []
    for name, component in sorted(components.items()):
        prefix = f"component_{name}"
        own = _rename_refs(copy.deepcopy(component), prefix)
        for def_name, definition in (own.get("$defs") or {}).items():
            defs[f"{prefix}__{def_name}"] = definition
        merged: dict[str, Any] = {
            "type": "object",
            "properties": {**shared["properties"], **own["properties"]},
            "required": sorted({*shared.get("required", []), *own.get("required", [])}),
            "additionalProperties": False,
        }
        merged.update((k, v) for k, v in own.items() if k not in (*_OWN_KEYWORDS, "required"))
        defs[prefix] = merged
        branches.append(
            {
                "if": {
                    "properties": {"environment_type": {"const": name}},
                    "required": ["environment_type"],
                },
                "then": {"$ref": f"#/$defs/{prefix}"},
            }
        )
    if default in components:
        branches.append(
            {
                "if": {"not": {"required": ["environment_type"]}},
                "then": {"$ref": f"#/$defs/component_{default}"},
            }
        )
    defs["config_interactive"] = {
        "description": shared.get("description", ""),
        "type": "object",
        "properties": {"environment_type": {"enum": sorted(components)}},
        "allOf": branches,
    }
    return built


def _rename_refs(schema: Any, prefix: str) -> Any:
    """A component's own "#/$defs/x" references, pointed at its definitions as merged."""
    stack = [schema]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith("#/$defs/"):
                node["$ref"] = f"#/$defs/{prefix}__{ref[len('#/$defs/') :]}"
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return schema


@cache
def _fast() -> Any:
    return jsonschema_rs.Draft202012Validator(load_schema())


@cache
def _detailed() -> jsonschema.Draft202012Validator:
    import jsonschema

    return jsonschema.Draft202012Validator(load_schema())


def schema_problems(data: Any, display: str) -> list[Problem]:
    """Problems of `data` against the module schema; empty when valid."""
    if _fast().is_valid(data):
        return []
    try:
        problems = [p for error in _detailed().iter_errors(data) for p in _describe(error, display)]
    except RecursionError:
        problems = []
    if not problems:
        # The two validators disagree only on regex corner cases (Python's `$`
        # matches before a final newline); jsonschema-rs's verdict stands.
        problems = [
            Problem(display, _clip(e.message), "schema", pointer(*e.instance_path))
            for e in _fast().iter_errors(data)
        ]
    return sorted(problems, key=lambda p: p.pointer)


def _describe(error: ValidationError, display: str) -> Iterator[Problem]:
    where = pointer(*error.absolute_path)
    field = _field_name(error)
    kind = error.validator
    if kind == "additionalProperties":
        schema: Any = error.schema
        instance: Any = error.instance
        allowed = sorted(schema.get("properties", {}))
        for key in sorted(set(instance) - set(allowed)):
            hint = did_you_mean(key, allowed)
            yield Problem(
                display,
                f"unknown field {json.dumps(key)}{hint}",
                "schema",
                pointer(*error.absolute_path, key),
                at_key=True,
            )
        return
    if kind in ("anyOf", "oneOf") and error.context:
        yield from _describe(_best_branch(error), display)
        return
    yield Problem(display, _clip(_message(error, field)), "schema", where)


def _best_branch(error: ValidationError) -> ValidationError:
    """The sub-error that says most about what the author meant.

    For a completion_criteria with a known `type`, that is the branch of that
    type; otherwise jsonschema's own relevance ranking.
    """
    instance: Any = error.instance
    if isinstance(instance, dict) and isinstance(instance.get("type"), str):
        for sub in error.context or []:
            const = (
                sub.schema.get("properties", {}).get("type", {})
                if isinstance(sub.schema, dict)
                else {}
            )
            if isinstance(const, dict) and const.get("const") == instance["type"]:
                return sub
    # A branch that failed only on type ("must be null") says least: the value
    # had the type of another branch and broke a rule there.
    context = list(error.context or [])
    relevant = [sub for sub in context if sub.validator != "type"] or context
    from jsonschema.exceptions import best_match

    match = best_match(relevant)
    return match if match is not None else error


def _limit(words: str, unit: str) -> Callable[[Any, Any, str], str]:
    def describe(expected: Any, value: Any, field: str) -> str:
        return f"{field} must be {words} {expected} {unit} (it is {_measure(value)})".replace(
            "  ", " "
        )

    return describe


def _measure(value: Any) -> str:
    return str(len(value)) if isinstance(value, str | list) else _short(value)


def _enum(expected: Any, value: Any, field: str) -> str:
    options = ", ".join("null" if o is None else str(o) for o in expected)
    hint = did_you_mean(value, [o for o in expected if isinstance(o, str)])
    return f"{field} {_short(value)} is not known{hint}; use one of: {options}"


def _type(expected: Any, value: Any, field: str) -> str:
    wanted = " or ".join(expected) if isinstance(expected, list) else str(expected)
    return f"{field} must be {_article(wanted)}, found {_json_type(value)}"


_MESSAGES: dict[str, Callable[[Any, Any, str], str]] = {
    "enum": _enum,
    "type": _type,
    "const": lambda expected, _value, field: f"{field} must be {json.dumps(expected)}",
    "pattern": lambda expected, value, field: (
        f"{field} {_short(value)} must be {_pattern_hint(expected)}"
    ),
    "uniqueItems": lambda _expected, _value, field: f"{field} lists the same entry more than once",
    "minLength": _limit("at least", "characters long"),
    "maxLength": _limit("at most", "characters long"),
    "minItems": _limit("at least", "entries long"),
    "maxItems": _limit("at most", "entries long"),
    "minimum": _limit("at least", ""),
    "maximum": _limit("at most", ""),
    "exclusiveMinimum": _limit("more than", ""),
    "exclusiveMaximum": _limit("less than", ""),
}


def _message(error: ValidationError, field: str) -> str:
    if error.validator == "required":
        missing = error.message.split("'")[1] if "'" in error.message else error.message
        return f"missing required field {json.dumps(missing)}"
    describe = _MESSAGES.get(str(error.validator))
    if describe is None:
        return error.message
    message = describe(error.validator_value, error.instance, field)
    if field == "environment_type" and error.validator == "enum":
        message += f" ({ADD_A_COMPONENT})"
    return message


ADD_A_COMPONENT = (
    "a new interactive component is a schema file schemas/components/<name>.schema.json "
    "and a sample <name>.sample.json; no code changes"
)


def _field_name(error: ValidationError) -> str:
    names = [str(p) for p in error.absolute_path if not isinstance(p, int)]
    return names[-1] if names else "the module"


def _pattern_hint(pattern: str) -> str:
    if pattern in _PATTERN_HINTS:
        return _PATTERN_HINTS[pattern]
    for prefix, hint in _PATTERN_PREFIX_HINTS.items():
        if pattern.startswith(prefix):
            return hint
    return f"text matching {pattern}"


def _json_type(value: Any) -> str:
    names = {
        dict: "an object",
        list: "an array",
        str: "a string",
        bool: "true/false",
        int: "a number",
        float: "a number",
        type(None): "null",
    }
    return names.get(type(value), type(value).__name__)


def _article(type_name: str) -> str:
    return {
        "object": "an object",
        "array": "an array",
        "integer": "a whole number",
        "null": "null",
    }.get(type_name, f"a {type_name}")


def _short(value: Any) -> str:
    try:
        text = json.dumps(value, ensure_ascii=False)
    except (ValueError, RecursionError):
        text = "…"
    return text if len(text) <= 60 else text[:57] + "…"


def _clip(message: str) -> str:
    return message if len(message) <= _MAX_MESSAGE else message[: _MAX_MESSAGE - 1] + "…"
