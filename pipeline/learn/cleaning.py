"""The cleaning rules of seed 003, pure: prefixes, atomicity, quality, duplicates.

Prefix normalisation: a front that starts "Q:", "Q.", "Q)", "Question:", "Question -",
"Front:" (any case) loses it; so does a back that starts "A:", "Answer -", "Back:".

Atomicity (thresholds in pipeline.yaml, learn.cleaning): words are counted in the
text without cloze markup ({{c1::...}} counts its answer) or HTML tags.
  atomic       front <= front_max_words (25) and back <= back_max_words (15)
  verbose      over either limit
  needs_split  back > split_words (45), front > 2 x front_max_words, or a back that
               lists three or more items (lines starting "-", "*", "1." ...)
is_atomic is true only for atomic.

Quality score, 0..1, two decimals: start at 1.0, then
  -0.20  verbose (front or back over its limit)
  -0.50  needs_split (instead of the 0.20)
  -0.50  an empty back on a flashcard or mcq (a cloze needs none)
  -0.50  a cloze with no {{cN::...}} deletion
  -0.30  the back repeats the front
  -0.10  a front of fewer than three words
floored at 0. needs_review is set when the atom needs splitting or scores below 0.5.

Duplicates, within one concept (atoms with no concept are not compared): fronts equal
once lower-cased, stripped of prefixes, punctuation and extra spaces are exact
duplicates; fronts at least `near_duplicate` (0.9) alike by difflib's ratio are
near-duplicates. The atom kept is the one already studied in Anki (most reviews), then
the best scored, then the oldest; the merge is proposed in the review queue.
"""

from __future__ import annotations

import difflib
import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from pipeline.learn.settings import CleaningSettings

_FRONT_PREFIX = re.compile(r"^\s*(?:q|question|front)\s*(?:[:.)]|\s-|-(?=\s))\s*", re.IGNORECASE)
_BACK_PREFIX = re.compile(r"^\s*(?:a|answer|back)\s*(?:[:.)]|\s-|-(?=\s))\s*", re.IGNORECASE)
_CLOZE = re.compile(r"\{\{c\d+::(.*?)(?:::[^}]*)?\}\}", re.DOTALL)
_TAG = re.compile(r"<[^>]+>")
_WORD = re.compile(r"\w+(?:['\u2019-]\w+)*")
_LIST_ITEM = re.compile(r"^\s*(?:[-*•]|\d+[.)])\s+", re.MULTILINE)
_PUNCT = re.compile(r"[^\w\s]")
_SPACE = re.compile(r"\s+")


def strip_prefix(text: str | None, *, front: bool) -> str | None:
    if text is None:
        return None
    pattern = _FRONT_PREFIX if front else _BACK_PREFIX
    stripped = pattern.sub("", text, count=1)
    return stripped if stripped.strip() else text


def words(text: str | None) -> int:
    if not text:
        return 0
    return len(_WORD.findall(_TAG.sub(" ", _CLOZE.sub(r" \1 ", text))))


@dataclass(frozen=True)
class Metrics:
    front_word_count: int
    back_word_count: int
    atomicity_status: str
    is_atomic: bool
    quality_score: float
    needs_review: bool

    def atomicity(self) -> dict[str, Any]:
        return {
            "front_word_count": self.front_word_count,
            "back_word_count": self.back_word_count,
            "atomicity_status": self.atomicity_status,
            "is_atomic": self.is_atomic,
        }


def measure(atom_type: str, front: str, back: str | None, rules: CleaningSettings) -> Metrics:
    front_words, back_words = words(front), words(back)
    items = len(_LIST_ITEM.findall(back or ""))
    if back_words > rules.split_words or front_words > 2 * rules.front_max_words or items >= 3:
        status = "needs_split"
    elif front_words > rules.front_max_words or back_words > rules.back_max_words:
        status = "verbose"
    else:
        status = "atomic"
    score = 1.0 - {"atomic": 0.0, "verbose": 0.2, "needs_split": 0.5}[status]
    if atom_type == "cloze":
        if not _CLOZE.search(front):
            score -= 0.5
    elif not (back or "").strip():
        score -= 0.5
    if back and normalise(back) == normalise(front):
        score -= 0.3
    if front_words < 3:
        score -= 0.1
    score = round(max(0.0, score), 2)
    return Metrics(
        front_words,
        back_words,
        status,
        status == "atomic",
        score,
        status == "needs_split" or score < 0.5,
    )


def normalise(text: str) -> str:
    text = strip_prefix(text, front=True) or ""
    return _SPACE.sub(" ", _PUNCT.sub(" ", text.lower())).strip()


@dataclass(frozen=True)
class Candidate:
    """What duplicate detection needs of an atom."""

    id: str
    concept_id: str | None
    front: str
    reviews: int
    quality: float
    created: str


@dataclass(frozen=True)
class Duplicates:
    keep: str
    merge: tuple[str, ...]
    kind: str  # "exact" or "near"
    similarity: float


def duplicates(atoms: Iterable[Candidate], threshold: float) -> list[Duplicates]:
    """Groups of duplicate atoms within each concept, the one to keep first."""
    by_concept: dict[str, list[Candidate]] = defaultdict(list)
    for atom in atoms:
        if atom.concept_id is not None:
            by_concept[atom.concept_id].append(atom)
    found: list[Duplicates] = []
    for group in by_concept.values():
        group.sort(key=lambda a: (-a.reviews, -a.quality, a.created, a.id))
        texts = [normalise(a.front) for a in group]
        taken: set[int] = set()
        for i, first in enumerate(group):
            if i in taken:
                continue
            exact: list[str] = []
            near: list[tuple[str, float]] = []
            for j in range(i + 1, len(group)):
                if j in taken:
                    continue
                if texts[i] == texts[j]:
                    exact.append(group[j].id)
                    taken.add(j)
                    continue
                ratio = difflib.SequenceMatcher(None, texts[i], texts[j]).ratio()
                if ratio >= threshold:
                    near.append((group[j].id, ratio))
                    taken.add(j)
            if exact or near:
                kind = "near" if near else "exact"
                similarity = min([1.0, *(r for _, r in near)])
                merged = tuple(exact + [n for n, _ in near])
                found.append(Duplicates(first.id, merged, kind, round(similarity, 2)))
    return found
