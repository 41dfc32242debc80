"""The module content pipeline: Notion -> reviewed JSON in Git -> Postgres.

Layout, by outside system and by stage:

    cli.py      the `pipeline` command: options in, one library call, render out
    errors.py   our exceptions and the exit code each means
    config.py   pipeline.yaml
    layout.py   every path: data/modules, data/assets, .pipeline/, the schemas
    render.py   everything a command prints (text, GitHub annotations, JSON)
    files.py    atomic writes, reads that neither hang nor overflow, tolerant JSON reads
    yamlfile.py YAML people write (pipeline.yaml, data/reference.yaml), read into plain data
    git.py      git (blob ids, HEAD, branches), the one place it runs
    modules/    the module file: schema, parse, checks, records, validate, urlcheck
    notion/     Notion: api (the client), markdown, page, export, mark_live, review_feedback
    propose/    pull requests: github_api (PyGithub), branches, pr_body (with gfm, prose,
                sections: the body a reviewer reads), run
    db/         Postgres: connect, migrate (+ migrations/), plan, deploy, status, seed
    sync/       reference tables <-> Notion: entities, plan, properties, run
    assets/     files students load: store (S3 or a folder), publish, rewrite, unused, serve

The rule (tests/unit/test_layout_rules.py checks it): the modules that talk to
an outside system (`notion/api`, `propose/github_api`, `git`, `db/connect`)
import nothing of ours but `errors`, `config`, `layout` and `modules/`; pure
modules (`modules/*`, `notion/markdown`, `notion/page`, `propose/pr_body`, `propose/gfm`,
`propose/prose`, `propose/sections`,
`db/plan`, `sync/entities`, `sync/plan`, `sync/properties`) talk to no outside
system; only stage modules (`notion/export`, `notion/mark_live`,
`notion/review_feedback`, `propose/run`, `db/deploy`, `sync/run`, `assets/publish`,
`propose/rollback`, `db/backup`, `notion/backup`) and `cli.py` combine systems.
`assets/store` is the edge to S3-compatible stores (boto3).
"""

__version__ = "0.1.0"
