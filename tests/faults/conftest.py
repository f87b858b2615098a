"""Fixtures of the fault campaign (see campaign.py) and the summary that prints its figures."""

from __future__ import annotations

import pytest

from tests.faults.campaign import FIGURES, FULL, Figures


@pytest.fixture
def figures(request: pytest.FixtureRequest) -> Figures:
    return Figures(request.module.__name__.rsplit(".", 1)[-1].removeprefix("test_"))


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if not FIGURES:
        return
    mode = "whole campaign" if FULL else "quick subset"
    terminalreporter.section(f"fault campaign figures ({mode})")
    for module in sorted(FIGURES):
        parts = ", ".join(f"{name}: {count}" for name, count in FIGURES[module].items())
        terminalreporter.write_line(f"{module}: {parts}")
