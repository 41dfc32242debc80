"""Files in a module's asset folder (data/assets/<module_id>/) that the module does not use.

`pipeline validate` warns about them, and the export removes them in the module's
pull request:

    used = used_assets(module)                        # what the module names
    unused = unused_assets(module_id, asset_files(root, module_id), used)

`unused_assets` is pure; `asset_files` only lists a folder. A caller that knows other
modules' references too (a module may name another's file) passes their union as
`used`, so nothing another module needs is ever called unused. The export's own record
of downloads (`.notion-assets.json`) is not an asset and never listed.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from pipeline.layout import ASSET_MANIFEST, asset_dir
from pipeline.modules.checks import asset_file, media_references


def used_assets(module: Mapping[str, Any]) -> set[str]:
    """The repository paths of the asset files a schema-valid module names."""
    return {asset_file(r.target) for r in media_references(module) if r.is_asset}


def unused_assets(module_id: str, files: Iterable[str], used: Iterable[str]) -> list[str]:
    """The paths among `files` in data/assets/<module_id>/ (at any depth) that are not
    in `used`, sorted; the export's manifest is not an asset."""
    folder = asset_dir(module_id) + "/"
    wanted = set(used)
    return sorted(
        path
        for path in files
        if path.startswith(folder)
        and path not in wanted
        and path.rsplit("/", 1)[-1] != ASSET_MANIFEST
    )


def asset_files(root: Path | str, module_id: str) -> list[str]:
    """The repository paths of the regular files in data/assets/<module_id>/, at any depth,
    sorted; symbolic links are not followed (nor listed)."""
    start = os.path.join(root, asset_dir(module_id))
    if not os.path.isdir(start):  # what os.walk finds then, without raising and catching
        return []
    found = []
    for here, folders, names in os.walk(start):
        folders[:] = [f for f in folders if not os.path.islink(os.path.join(here, f))]
        for name in names:
            full = os.path.join(here, name)
            if not os.path.islink(full) and os.path.isfile(full):
                found.append(os.path.relpath(full, root).replace(os.sep, "/"))
    return sorted(found)
