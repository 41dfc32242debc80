"""Planning a deploy: desired modules vs what the database holds, as a pure function."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from pipeline.modules.records import ModuleRows

DeployAction = Literal["insert", "update", "unchanged", "archive"]


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

    def count(self, action: DeployAction) -> int:
        return sum(step.action == action for step in self.steps)

    def ids(self, *actions: DeployAction) -> list[str]:
        return [step.module_id for step in self.steps if step.action in actions]

    @property
    def writes_nothing(self) -> bool:
        return all(step.action == "unchanged" for step in self.steps)


SectionRows = Mapping[str, Sequence[tuple[Any, ...]]]


def make_plan(
    desired: Iterable[DeployItem], live: Mapping[str, CurrentModule], live_sections: SectionRows
) -> Plan:
    """What a deploy of `desired` would do.

    `live_sections` needs to hold the rows of modules that will be updated
    (only for the section counts); section rows are in content.SECTION_COLUMNS
    order, section_number first.
    """
    plan = Plan()
    wanted: set[str] = set()
    for item in sorted(desired, key=lambda d: d.module_id):
        wanted.add(item.module_id)
        current, record = live.get(item.module_id), item.record
        if current is not None and _same_file(current, item):
            plan.steps.append(
                PlanStep(
                    item.module_id,
                    "unchanged",
                    current.revision,
                    current.revision,
                    current.status,
                    current.sections,
                )
            )
            continue
        if record is None:
            raise ValueError(f"{item.module_id}: changed file without a record")
        if current is None:
            plan.steps.append(
                PlanStep(
                    record.module_id,
                    "insert",
                    None,
                    1,
                    record.status,
                    len(record.sections),
                    sections_added=len(record.sections),
                )
            )
        elif current.content_hash == record.content_hash and current.status == record.status:
            plan.steps.append(
                PlanStep(
                    record.module_id,
                    "unchanged",
                    current.revision,
                    current.revision,
                    current.status,
                    len(record.sections),
                )
            )
        else:
            added, changed, removed = section_changes(
                live_sections.get(record.module_id, ()), record.sections
            )
            plan.steps.append(
                PlanStep(
                    record.module_id,
                    "update",
                    current.revision,
                    current.revision + 1,
                    record.status,
                    len(record.sections),
                    added,
                    changed,
                    removed,
                )
            )
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
