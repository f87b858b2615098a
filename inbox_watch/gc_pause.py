"""Pausing the cyclic garbage collector around bulk work.

Parsing the store and ranking thousands of candidates build hundreds of thousands of small
objects that hold no reference cycles; CPython's collector would scan them again and again as
they are made (a third of the engine's time in bench/engine.py). Reference counting still frees
everything as usual; the collector runs again as soon as the block ends.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def paused_gc() -> Iterator[None]:
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
