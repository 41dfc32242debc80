"""Planning a deploy: desired modules vs what the database holds, as a pure function."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from typing import Any, Literal

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
    holds these exact bytes (same file_hash): then nothing needs reading."""

    module_id: str
    path: str
    file_hash: str | None
    record: ModuleRows | None


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


SectionRows = Mapping[str, Sequence[tuple[Any, ...]]]


def make_plan(
    desired: Iterable[DeployItem],
    live: Mapping[str, CurrentModule],
    live_sections: SectionRows,
    *,
    archive_missing: bool = True,
    drifted: AbstractSet[str] = frozenset(),
) -> Plan:
    """What a deploy of `desired` would do.

    `live_sections` needs to hold the rows of modules that will be updated or
    repaired (only for the section counts); section rows are in
    records.SECTION_COLUMNS order, section_number first. With `archive_missing`
    (a whole tree), live modules without a file are archived; a module in
    `drifted` (its rows changed behind the pipeline's back) whose file did not
    change is written again from the file: a repair.
    """
    plan = Plan()
    wanted: set[str] = set()
    for item in sorted(desired, key=lambda d: d.module_id):
        wanted.add(item.module_id)
        plan.steps.append(_step(item, live.get(item.module_id), live_sections, drifted))
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
    current: CurrentModule | None,
    live_sections: SectionRows,
    drifted: AbstractSet[str],
) -> PlanStep:
    record = item.record
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
    if record is None:
        raise ValueError(f"{item.module_id}: changed file without a record")
    if current is None:
        count = len(record.sections)
        return PlanStep(
            record.module_id, "insert", None, 1, record.status, count, sections_added=count
        )
    same = current.content_hash == record.content_hash and current.status == record.status
    if same and not repair:
        return PlanStep(
            record.module_id,
            "unchanged",
            current.revision,
            current.revision,
            current.status,
            len(record.sections),
        )
    added, changed, removed = section_changes(
        live_sections.get(record.module_id, ()), record.sections
    )
    return PlanStep(
        record.module_id,
        "repair" if same else "update",
        current.revision,
        current.revision if same else current.revision + 1,
        record.status,
        len(record.sections),
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


def needs_record(item: DeployItem, live: Mapping[str, CurrentModule]) -> bool:
    current = live.get(item.module_id)
    return item.record is None and (current is None or not _same_file(current, item))


def section_changes(
    before: Sequence[tuple[Any, ...]], after: Sequence[tuple[Any, ...]]
) -> tuple[int, int, int]:
    """(added, changed, removed) section numbers between two versions of a module."""
    old = {row[0]: row for row in before}
    new = {row[0]: row for row in after}
    added = len(new.keys() - old.keys())
    removed = len(old.keys() - new.keys())
    changed = sum(old[n] != new[n] for n in new.keys() & old.keys())
    return added, changed, removed
