"""Our exception hierarchy.

Each error carries the exit code the CLI turns it into, so commands never call
sys.exit themselves and the mapping of failures to codes lives in one place.
"""


class PipelineError(Exception):
    """A failure the user can act on. The message says what and what to do."""

    exit_code = 1


class ContentError(PipelineError):
    """The content (module files, Notion pages) is wrong: exit 1."""

    exit_code = 1


class UsageError(PipelineError):
    """The command line or configuration is wrong: exit 2."""

    exit_code = 2


class DatabaseError(PipelineError):
    """The database refused or interrupted a write; the transaction was rolled back: exit 1."""

    exit_code = 1
