"""One back-off policy for every transient error (429, 5xx, dropped connections).

Exponential back-off with full jitter, capped, honouring a server's Retry-After. Tests call
``set_testing(True)`` so retries happen without sleeping.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from typing import TypeVar

log = logging.getLogger(__name__)
T = TypeVar("T")

_testing = False


def set_testing(enabled: bool) -> None:
    """Make retries skip their sleeps (tests)."""
    global _testing
    _testing = enabled


class Transient(Exception):
    """Raised inside a retried call to ask for another attempt, after ``retry_after`` if given."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


def parse_retry_after(value: str | None) -> float | None:
    """Seconds from a Retry-After header (delta-seconds or HTTP date), or None."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    from email.utils import parsedate_to_datetime

    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def delay_for(attempt: int, *, base: float = 1.0, cap: float = 32.0) -> float:
    """Full-jitter delay for attempt 1, 2, 3 ...: uniform in [0, min(cap, base * 2**(n-1))]."""
    return random.uniform(0, min(cap, base * 2 ** (attempt - 1)))


def retry(
    call: Callable[[], T],
    *,
    attempts: int = 5,
    base: float = 1.0,
    cap: float = 32.0,
    on_give_up: Callable[[Transient], Exception] | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> T:
    """Run ``call``; on ``Transient`` wait and try again, up to ``attempts`` times in all.

    When every attempt failed, raise ``on_give_up(last)`` if given, else the last Transient.
    """
    last: Transient | None = None
    for attempt in range(1, attempts + 1):
        try:
            return call()
        except Transient as exc:
            last = exc
            if attempt == attempts:
                break
            wait = exc.retry_after if exc.retry_after is not None else delay_for(attempt, base=base, cap=cap)
            wait = min(wait, 300.0)
            log.info("transient error (%s); attempt %d of %d, waiting %.1fs", exc, attempt, attempts, wait)
            if not _testing:
                sleep(wait)
    assert last is not None
    if on_give_up is not None:
        raise on_give_up(last) from last
    raise last
