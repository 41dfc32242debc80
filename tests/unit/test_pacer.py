"""The Notion client's pacer: requests spaced to the configured rate, holds after a 429."""

from __future__ import annotations

import pytest

from pipeline.notion.api import Pacer


def test_pacer_spaces_requests() -> None:
    now = [100.0]
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        now[0] += seconds

    pacer = Pacer(4.0, clock=lambda: now[0], sleep=sleep)
    for _ in range(5):
        pacer.wait()
    assert slept == [0.25, 0.25, 0.25, 0.25]
    pacer.hold(2.0)
    pacer.wait()
    assert slept[-1] == pytest.approx(2.0)
