"""The floor of validating: start Python, parse every file (orjson) and check it against
the schema (jsonschema-rs), in one loop. No content rules, no report: what
`pipeline validate`'s CPU is compared with.

Usage: python bench/peers/validate_floor.py data/modules
"""

from __future__ import annotations

import sys
from pathlib import Path

import jsonschema_rs
import orjson

SCHEMA = Path(__file__).resolve().parents[2] / "schemas" / "module.schema.json"


def main() -> None:
    validator = jsonschema_rs.Draft202012Validator(orjson.loads(SCHEMA.read_bytes()))
    invalid = [
        path
        for path in sorted(Path(sys.argv[1]).glob("*.json"))
        if not validator.is_valid(orjson.loads(path.read_bytes()))
    ]
    if invalid:
        raise SystemExit(f"{len(invalid)} files are not valid, e.g. {invalid[0]}")


if __name__ == "__main__":
    main()
