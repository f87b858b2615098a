"""One send-once policy for every adapter: what a failed request means, and the Message-ID look-ups.

A message must never go out twice, and a draft must never be made twice. Each adapter turns its
own failures (an SMTP answer, an HTTP status, a dropped connection) into a :class:`Fault`, what
happened in the service's words, and :func:`judge` decides, the same way for all of them:

- ``RETRY``: the service surely did not act on it (it throttled the request unread, or no
  connection was made): the same request may go again now, after a back-off;
- ``GIVE_UP``: nothing went out, and the service says not now (or an idempotent request kept
  failing): the adapter's own error; a later pass may try again;
- ``REFUSED``: nothing went out, and the same message would be refused again: ``SendRefused``;
- ``UNKNOWN``: a request that must not be carried out twice may have been carried out (its
  answer was lost, or the service failed after taking it): ``SendOutcomeUnknown``, never repeated.

:func:`run` carries a request out under that policy with the shared back-off
(:mod:`inbox_watch.retry`); :func:`find_or_make` and :func:`send_unless_sent` are the Message-ID
look-ups around it: a draft or a send whose outcome was unclear is looked up by its Message-ID,
never made again blindly.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from inbox_watch.errors import ConnectionFailed, ProviderError, RateLimited, SendOutcomeUnknown, SendRefused
from inbox_watch.models import SendReceipt
from inbox_watch.retry import Transient, retry

T = TypeVar("T")


class Answer(enum.Enum):
    """What the service answered to a failed request."""

    NONE = "no answer"  # the connection failed, dropped or timed out before an answer
    THROTTLED = "throttled"  # refused unread, try again soon (HTTP 429, Gmail's rate-limit 403)
    UNAVAILABLE = "unavailable"  # failing for now (a 5xx worth retrying); it may have acted
    FAILED = "failed"  # failed otherwise (another 5xx): it may have acted, and retrying will not help
    DECLINED = "declined"  # turned away, not for good (SMTP 4xx, greylisting; another 4xx): nothing taken
    REFUSED = "refused"  # refused for good: the same request would be refused again


class Verdict(enum.Enum):
    RETRY = "retry"
    GIVE_UP = "give up"
    REFUSED = "refused"
    UNKNOWN = "unknown"


@dataclass(eq=False)
class Fault(Exception):
    """One failed attempt as the adapter saw it. ``reached``: the request may have reached the
    service (False only when no connection was made, or nothing of it was sent); ``detail``:
    one line for the error, no credentials; ``unclear``: the line when the outcome is unknown,
    if it differs; ``refused``: the recipients a service refused for good."""

    answer: Answer
    detail: str
    reached: bool = True
    retry_after: float | None = None
    refused: tuple[str, ...] = ()
    unclear: str = ""

    def __str__(self) -> str:
        return self.detail


def judge(fault: Fault, *, once: bool) -> Verdict:
    """The policy. ``once``: the request must not be carried out twice (a send, a draft made)."""
    if fault.answer is Answer.THROTTLED or not fault.reached:
        return Verdict.RETRY  # the service did not act on it
    if not once:
        return Verdict.RETRY if fault.answer in (Answer.NONE, Answer.UNAVAILABLE) else Verdict.GIVE_UP
    if fault.answer in (Answer.NONE, Answer.UNAVAILABLE, Answer.FAILED):
        return Verdict.UNKNOWN
    return Verdict.REFUSED if fault.answer is Answer.REFUSED else Verdict.GIVE_UP


def given_up(fault: Fault) -> ProviderError:
    """The error for a request that did not go through and may be tried on a later pass."""
    if fault.answer is Answer.NONE:
        return ConnectionFailed(fault.detail)
    if fault.answer in (Answer.THROTTLED, Answer.UNAVAILABLE):
        return RateLimited(fault.detail, fault.retry_after)
    return ProviderError(fault.detail)


@dataclass(frozen=True)
class Wording:
    """How an adapter words the verdicts (defaults: the fault's own detail)."""

    unknown: Callable[[Fault], str] = lambda fault: fault.unclear or fault.detail
    refused: Callable[[Fault], str] = str
    given_up: Callable[[Fault], ProviderError] = given_up


class Again(Transient):
    """A retry the policy asked for (``Verdict.RETRY``)."""

    def __init__(self, fault: Fault) -> None:
        super().__init__(fault.detail, fault.retry_after)
        self.fault = fault


def attempt(
    call: Callable[[], T],
    *,
    once: bool,
    wording: Wording = Wording(),
    fault_of: Callable[[Exception], Fault | None] = lambda exc: None,
) -> T:
    """``call()`` once, judged: it raises a :class:`Fault`, or an exception ``fault_of`` turns
    into one, and the verdict raises what it says (a retry as a ``retry.Transient``); anything
    else is the adapter's own error and leaves as it is (an expired sign-in, a missing folder)."""
    try:
        return call()
    except Exception as exc:  # noqa: BLE001 - every failure is judged, or leaves as it was
        fault = exc if isinstance(exc, Fault) else fault_of(exc)
        if fault is None:
            raise
    verdict = judge(fault, once=once)
    if verdict is Verdict.RETRY:
        raise Again(fault)
    if verdict is Verdict.UNKNOWN:
        raise SendOutcomeUnknown(wording.unknown(fault))
    if verdict is Verdict.REFUSED:
        raise SendRefused(wording.refused(fault), fault.refused)
    raise wording.given_up(fault)


def run(
    call: Callable[[], T],
    *,
    once: bool,
    attempts: int,
    wording: Wording = Wording(),
    fault_of: Callable[[Exception], Fault | None] = lambda exc: None,
) -> T:
    """``attempt`` up to ``attempts`` times in all, with the shared back-off between them; when
    the service never took it, the adapter's ``given_up`` error."""

    def give_up(last: Transient) -> Exception:
        return wording.given_up(last.fault) if isinstance(last, Again) else last

    return retry(
        lambda: attempt(call, once=once, wording=wording, fault_of=fault_of), attempts=attempts, on_give_up=give_up
    )


def find_or_make(find: Callable[[], str | None], make: Callable[[], str], *, look_first: bool = True) -> str:
    """Something that carries a Message-ID and must exist once (a draft): found by it first
    (``look_first``), else made; when making it got no clear answer, looked up again. Not
    found then: a ProviderError (the next attempt looks for it first), never a second one made
    here."""
    existing = find() if look_first else None
    if existing:
        return existing
    try:
        return make()
    except SendOutcomeUnknown as exc:
        found = find()
        if found:
            return found
        raise ProviderError(f"{exc}; the draft may exist, and the next attempt looks for it first") from None


def send_unless_sent(find_sent: Callable[[], str | None], send: Callable[[], SendReceipt]) -> SendReceipt:
    """A message whose Message-ID is already in Sent is not sent again: its id is returned."""
    already = find_sent()
    return SendReceipt(already) if already else send()
