"""Run the commands as an installed package runs: from bytecode.

pip compiles a package's modules when it installs it, and Python writes the bytecode
of an editable install on its first run. A machine with PYTHONDONTWRITEBYTECODE set
(the machine of these figures has it) would instead compile every module from source on
every run of every command timed, ours (about 30 modules) and the peers (one file)
alike, which is not what users run.
"""

from __future__ import annotations

import compileall
import os
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def as_installed() -> None:
    """Bytecode for the package and the peers, and let the commands timed use it."""
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
    for folder in (ROOT / "pipeline", ROOT / "bench"):
        compileall.compile_dir(folder, quiet=1)
