"""notion-learning-sync (seed 003): one learner's knowledge base from Notion, studied in Anki.

    settings.py     the `learn:` section of pipeline.yaml (databases, property names,
                    cleaning thresholds, Anki, the rewrite provider)
    notion_read.py  Notion: the seven databases' pages (incremental), flashcards' blocks
    transform.py    pure: Notion properties -> canonical rows; hashes; one bad page fails alone
    staging.py      Postgres: stg_notion_* upserts by hash, canonical upserts, removals
    sync.py         stage: `learn sync` (Notion -> staging -> canonical, sync_log)
    modules.py      Postgres: quiz questions of deployed LMS modules -> `module` atoms
    cleaning.py     pure: atomicity, prefixes, duplicates, quality score
    clean.py        Postgres: `learn clean` (cleaning_log, merges to the review queue)
    review.py       Postgres: the review queue (list, show, approve, reject, edit)
    providers.py    the web: AI rewrite providers (Gemini generateContent)
    rewrite.py      stage: `learn rewrite` (atoms -> provider -> review queue)
    anki.py         Anki: AnkiConnect (HTTP, v6) or a collection file (the `anki` package)
    anki_sync.py    stage: `learn anki push|pull`
    study.py        Postgres: `learn due`, `learn stats`

Built for one learner: Anki's statistics live on the atom. Nothing here reads or
writes LMS student data (progress, assignments, feedback, analytics, students).
"""
