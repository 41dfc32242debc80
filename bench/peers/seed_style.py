"""The seed's deploy_modules_to_db.py (seed 001), without an ORM: module by module, row by
row, every module's sections deleted and inserted again, a commit per module. The
baseline the ratios are taken against; it validates nothing.

Usage: DATABASE_URL=... python bench/peers/seed_style.py data/modules
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import psycopg

DB_STATUS = {"draft": "draft", "ready": "published", "published": "published",
             "archived": "archived"}


def main() -> None:
    with psycopg.connect(os.environ["DATABASE_URL"]) as conn:
        for path in sorted(Path(sys.argv[1]).glob("*.json")):
            data = json.loads(path.read_text())
            found = conn.execute("SELECT id FROM modules WHERE module_id = %s",
                                 (data["module_id"],)).fetchone()
            values = (data["title"], data.get("description"), data.get("category"),
                      data.get("estimated_minutes"), data.get("university_id"),
                      DB_STATUS[data["status"]], json.dumps(data.get("prerequisites", [])),
                      json.dumps(data.get("tags", [])), data["module_id"])
            if found is None:
                conn.execute("INSERT INTO modules (title, description, category, "
                             "estimated_minutes, university_id, status, prerequisites, tags, "
                             "module_id) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)", values)
            else:
                conn.execute("UPDATE modules SET title = %s, description = %s, category = %s, "
                             "estimated_minutes = %s, university_id = %s, status = %s, "
                             "prerequisites = %s, tags = %s WHERE module_id = %s", values)
            conn.commit()
            row = conn.execute("SELECT id FROM modules WHERE module_id = %s",
                               (data["module_id"],)).fetchone()
            assert row is not None
            conn.execute("DELETE FROM module_sections WHERE module_id = %s", (row[0],))
            for s in data["sections"]:
                conn.execute(
                    "INSERT INTO module_sections (module_id, section_number, section_type, "
                    "title, content, media_url, duration_seconds, section_config, "
                    "completion_criteria) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)",
                    (row[0], s["section_number"], s["section_type"], s["title"], s["content"],
                     s.get("media_url"), s.get("duration_seconds"),
                     json.dumps(s.get("section_config")),
                     json.dumps(s.get("completion_criteria"))))
            conn.commit()


if __name__ == "__main__":
    main()
