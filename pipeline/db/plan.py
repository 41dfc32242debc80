"""Planning a deploy: desired modules vs what the database holds, as a pure function."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from typing import Literal, NamedTuple

from pipeline.modules.records import ModuleRows

DeployAction = Literal["insert", "update", "repair", "unchanged", "archive"]


@dataclass(frozen=True, slots=True)
class ArchiveLimit:
    """How much one whole-tree deploy may archive without --allow-archive."""

    count: int = 3
    percent: float = 10.0


@dataclass(frozen=True, slots=True)
class CurrentModule:
    """A module row as the database has it."""

    id: int
    module_id: str
    status: str
    content_hash: str | None
    revision: int
    file_hash: str | None = None
    sections: int = 0


@dataclass(frozen=True, slots=True)
class DeployItem:
    """A module file to deploy. `record` may be None only when the database already
    holds these exact bytes (same file_hash): then nothing needs reading; or once its
    rows are staged (db/stage.py), when the plan has their Staged summary."""

    module_id: str
    path: str
    file_hash: str | None
    record: ModuleRows | None


class Staged(NamedTuple):
    """What the plan needs of a module's new rows, which wait in the database's staging
    tables (db/stage.py): a deploy of any size holds these, not the rows."""

    module_id: str
    status: str  # database status
    content_hash: str
    sections: int


# module id -> (sections added, changed, removed) against the live rows (db/stage.py)
SectionChanges = Mapping[str, tuple[int, int, int]]


@dataclass(frozen=True, slots=True)
class PlanStep:
    module_id: str
    action: DeployAction
    revision_before: int | None
    revision_after: int | None
    status_after: str
    sections: int = 0
    sections_added: int = 0
    sections_changed: int = 0
    sections_removed: int = 0


@dataclass
class Plan:
    steps: list[PlanStep] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # what the deploy did not do, and why

    def count(self, action: DeployAction) -> int:
        return sum(step.action == action for step in self.steps)

    def ids(self, *actions: DeployAction) -> list[str]:
        return [step.module_id for step in self.steps if step.action in actions]

    @property
    def writes_nothing(self) -> bool:
        return all(step.action == "unchanged" for step in self.steps)


def make_plan(
    desired: Iterable[DeployItem],
    staged: Mapping[str, Staged],
    live: Mapping[str, CurrentModule],
    changes: SectionChanges,
    *,
    archive_missing: bool = True,
    drifted: AbstractSet[str] = frozenset(),
) -> Plan:
    """What a deploy of `desired` would do.

    `staged` summarises the new rows of every desired module whose file is not the
    one deployed; `changes` needs to hold the section changes of modules that will be
    updated or repaired (only for the counts shown). With `archive_missing` (a whole
    tree), live modules without a file are archived; a module in `drifted` (its rows
    changed behind the pipeline's back) whose file did not change is written again
    from the file: a repair.
    """
    plan = Plan()
    wanted: set[str] = set()
    for item in sorted(desired, key=lambda d: d.module_id):
        wanted.add(item.module_id)
        step = _step(item, staged.get(item.module_id), live.get(item.module_id), changes, drifted)
        plan.steps.append(step)
    if archive_missing:
        for module_id in sorted(set(live) - wanted):
            current = live[module_id]
            if current.status != "archived":
                plan.steps.append(
                    PlanStep(
                        module_id,
                        "archive",
                        current.revision,
                        current.revision,
                        "archived",
                        current.sections,
                    )
                )
    return plan


def _step(
    item: DeployItem,
    rows: Staged | None,
    current: CurrentModule | None,
    changes: SectionChanges,
    drifted: AbstractSet[str],
) -> PlanStep:
    repair = item.module_id in drifted
    if current is not None and _same_file(current, item) and not repair:
        return PlanStep(
            item.module_id,
            "unchanged",
            current.revision,
            current.revision,
            current.status,
            current.sections,
        )
    if rows is None:
        raise ValueError(f"{item.module_id}: changed file without staged rows")
    if current is None:
        count = rows.sections
        return PlanStep(rows.module_id, "insert", None, 1, rows.status, count, sections_added=count)
    same = current.content_hash == rows.content_hash and current.status == rows.status
    if same and not repair:
        return PlanStep(
            rows.module_id,
            "unchanged",
            current.revision,
            current.revision,
            current.status,
            rows.sections,
        )
    added, changed, removed = changes.get(rows.module_id, (0, 0, 0))
    return PlanStep(
        rows.module_id,
        "repair" if same else "update",
        current.revision,
        current.revision if same else current.revision + 1,
        rows.status,
        rows.sections,
        added,
        changed,
        removed,
    )


def archive_refusal(plan: Plan, live: Mapping[str, CurrentModule], limit: ArchiveLimit) -> str:
    """Why this plan archives too much to go ahead without --allow-archive ("" when it may).

    A deploy that would archive more than `limit.count` modules and more than
    `limit.percent` of the live ones is far more likely a wrong path than a
    real retirement of that many modules at once.
    """
    archiving = plan.ids("archive")
    published = sum(m.status != "archived" for m in live.values())
    if len(archiving) <= max(limit.count, published * limit.percent / 100):
        return ""
    shown = ", ".join(archiving[:5]) + (
        f" and {len(archiving) - 5} more" if len(archiving) > 5 else ""
    )
    return (
        f"this deploy would archive {len(archiving)} of the {published} live modules "
        f"({shown}): more than the limit of {limit.count} modules or {limit.percent:g}% of "
        "the live ones. Nothing was written. If those modules' files are gone on purpose, run "
        "again with --allow-archive; otherwise check the path (deploy the whole "
        "data/modules/ tree, or name the files to deploy just those)"
    )


def _same_file(current: CurrentModule, item: DeployItem) -> bool:
    return (
        current.file_hash is not None
        and current.file_hash == item.file_hash
        and current.status != "archived"
    )


def needs_record(
    item: DeployItem, live: Mapping[str, CurrentModule], staged: Mapping[str, Staged]
) -> bool:
    """A file not read (the database vouched for its bytes) that must be read after all:
    its row is not the one the database vouched for any more."""
    current = live.get(item.module_id)
    return (
        item.record is None
        and item.module_id not in staged
        and (current is None or not _same_file(current, item))
    )
