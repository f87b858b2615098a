"""Pausing the cyclic garbage collector around bulk work.

Parsing the store and ranking thousands of candidates build hundreds of thousands of small
objects that hold no reference cycles; CPython's collector would scan them again and again as
they are made (a third of the engine's time in bench/engine.py). Reference counting still frees
everything as usual; the collector runs again as soon as the block ends, and the objects that
survived the block are frozen (``gc.freeze``) so that its first run does not scan them all.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def paused_gc() -> Iterator[None]:
    enabled = gc.isenabled()
    gc.disable()
    # What an earlier block froze goes back to the oldest generation, where a full collection
    # can still reclaim any cycle in it: freezing never keeps garbage for longer than that.
    gc.unfreeze()
    try:
        yield
    finally:
        if enabled:
            # What survived the block is long-lived and free of cycles: move it out of the
            # collector's sight instead of letting the next allocation scan it all at once.
            # (Refcounting still frees these objects when they are dropped.)
            gc.freeze()
            gc.enable()
