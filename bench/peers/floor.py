"""The floor: what a deploy of a fresh tree cannot do without. Start Python, parse every
file (orjson), check it against the schema (jsonschema-rs), and two COPYs (modules,
then their sections) in one transaction. No content rules, no plan, no output: how
close to the machine's limit `pipeline deploy` is.

Usage: DATABASE_URL=... python bench/peers/floor.py data/modules
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import jsonschema_rs
import orjson
import psycopg

SCHEMA = Path(__file__).resolve().parents[2] / "schemas" / "module.schema.json"
DB_STATUS = {"draft": "draft", "ready": "published", "published": "published",
             "archived": "archived"}
COLUMNS = ("id", "module_id", "title", "description", "category", "estimated_minutes",
           "university_id", "status", "prerequisites", "related_modules", "tags",
           "module_type", "difficulty_level", "learning_objectives", "notion_page_id",
           "content_source")
JSON = {"prerequisites", "related_modules", "tags", "learning_objectives"}


def main() -> None:
    validator = jsonschema_rs.Draft202012Validator(orjson.loads(SCHEMA.read_bytes()))
    modules = []
    for path in sorted(Path(sys.argv[1]).glob("*.json")):
        data = orjson.loads(path.read_bytes())
        if not validator.is_valid(data):
            raise SystemExit(f"{path} is not valid")
        modules.append(data)
    with psycopg.connect(os.environ["DATABASE_URL"]) as conn, conn.cursor() as cur:
        base = cur.execute("SELECT coalesce(max(id), 0) FROM modules").fetchone()[0]
        with cur.copy(f"COPY modules ({', '.join(COLUMNS)}) FROM STDIN") as copy:
            for n, m in enumerate(modules, base + 1):
                copy.write_row([
                    n if c == "id" else orjson.dumps(m.get(c, [])).decode() if c in JSON
                    else DB_STATUS[m["status"]] if c == "status" else m.get(c)
                    for c in COLUMNS])
        with cur.copy("COPY module_sections (module_id, section_number, section_type, title, "
                      "content, media_url, duration_seconds, section_config, "
                      "completion_criteria) FROM STDIN") as copy:
            for n, m in enumerate(modules, base + 1):
                for s in m["sections"]:
                    copy.write_row((n, s["section_number"], s["section_type"], s["title"],
                                    s["content"], s.get("media_url"), s.get("duration_seconds"),
                                    orjson.dumps(s.get("section_config")).decode(),
                                    orjson.dumps(s.get("completion_criteria")).decode()))


if __name__ == "__main__":
    main()
