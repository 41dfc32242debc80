"""What a competent engineer would write in an afternoon: read every file, upsert the
modules with executemany (psycopg 3 pipelines it), replace their sections with
executemany, all in one transaction. No validation beyond json.loads, no plan, no
output.

Usage: DATABASE_URL=... python bench/peers/competent.py data/modules
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import psycopg

DB_STATUS = {"draft": "draft", "ready": "published", "published": "published",
             "archived": "archived"}
COLUMNS = ("module_id", "title", "description", "category", "estimated_minutes",
           "university_id", "status", "prerequisites", "related_modules", "tags",
           "module_type", "difficulty_level", "learning_objectives", "notion_page_id",
           "content_source")
JSON = {"prerequisites", "related_modules", "tags", "learning_objectives"}


def main() -> None:
    modules = [json.loads(p.read_text()) for p in sorted(Path(sys.argv[1]).glob("*.json"))]
    rows = [
        tuple(json.dumps(m.get(c, [])) if c in JSON else
              DB_STATUS[m["status"]] if c == "status" else m.get(c) for c in COLUMNS)
        for m in modules
    ]
    names = ", ".join(COLUMNS)
    updates = ", ".join(f"{c} = EXCLUDED.{c}" for c in COLUMNS[1:])
    with psycopg.connect(os.environ["DATABASE_URL"]) as conn, conn.cursor() as cur:
        cur.executemany(
            f"INSERT INTO modules ({names}) VALUES ({', '.join(['%s'] * len(COLUMNS))}) "
            f"ON CONFLICT (module_id) DO UPDATE SET {updates}", rows)
        ids = dict(cur.execute("SELECT module_id, id FROM modules WHERE module_id = ANY(%s)",
                               ([m["module_id"] for m in modules],)).fetchall())
        cur.execute("DELETE FROM module_sections WHERE module_id = ANY(%s)", (list(ids.values()),))
        cur.executemany(
            "INSERT INTO module_sections (module_id, section_number, section_type, title, "
            "content, media_url, duration_seconds, section_config, completion_criteria) "
            "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)",
            [(ids[m["module_id"]], s["section_number"], s["section_type"], s["title"],
              s["content"], s.get("media_url"), s.get("duration_seconds"),
              json.dumps(s.get("section_config")), json.dumps(s.get("completion_criteria")))
             for m in modules for s in m["sections"]])


if __name__ == "__main__":
    main()
