"""Benchmarks, each runnable as ``python -m bench.<name>`` from the repository root."""

from __future__ import annotations

import compileall
import os
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def compile_sources() -> None:
    """Write the project's bytecode caches before a whole-process timing, as installing the
    package does. Without them (an editable install under PYTHONDONTWRITEBYTECODE=1, as on these
    machines) every process compiles the sources again: 0.2 s more on each start-up."""
    for package in ("inbox_watch", "providers", "tui"):
        compileall.compile_dir(ROOT / package, quiet=1)
    if os.environ.get("PYTHONDONTWRITEBYTECODE"):
        print("(bytecode written for inbox_watch, providers and tui, as an installed package has it)")
