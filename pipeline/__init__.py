"""The module content pipeline: Notion -> reviewed JSON in Git -> Postgres."""

__version__ = "0.1.0"
