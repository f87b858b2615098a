"""The send-once policy's decisions, alone (the adapters' side: tests/providers/test_send_once.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from inbox_watch import retry, send_once
from inbox_watch.errors import ConnectionFailed, ProviderError, RateLimited, SendOutcomeUnknown, SendRefused
from inbox_watch.send_once import Answer, Fault, Verdict, judge


@pytest.fixture(autouse=True)
def _no_sleep() -> Iterator[None]:
    retry.set_testing(True)
    yield
    retry.set_testing(False)


@pytest.mark.parametrize(
    ("answer", "reached", "once", "verdict"),
    [
        # the service did not act on it: any request may go again
        (Answer.THROTTLED, True, True, Verdict.RETRY),
        (Answer.NONE, False, True, Verdict.RETRY),
        # a request that must not be carried out twice, which the service may have carried out
        (Answer.NONE, True, True, Verdict.UNKNOWN),
        (Answer.UNAVAILABLE, True, True, Verdict.UNKNOWN),
        (Answer.FAILED, True, True, Verdict.UNKNOWN),
        (Answer.REFUSED, True, True, Verdict.REFUSED),
        (Answer.DECLINED, True, True, Verdict.GIVE_UP),
        # an idempotent request: retried while it may still work, else the adapter's error
        (Answer.NONE, True, False, Verdict.RETRY),
        (Answer.UNAVAILABLE, True, False, Verdict.RETRY),
        (Answer.FAILED, True, False, Verdict.GIVE_UP),
        (Answer.REFUSED, True, False, Verdict.GIVE_UP),
    ],
)
def test_the_verdicts(answer: Answer, reached: bool, once: bool, verdict: Verdict) -> None:
    assert judge(Fault(answer, "x", reached=reached), once=once) is verdict


def test_a_send_is_tried_again_only_while_the_service_did_not_take_it() -> None:
    faults = [Fault(Answer.THROTTLED, "429"), Fault(Answer.NONE, "refused", reached=False)]
    calls: list[int] = []

    def call() -> str:
        calls.append(1)
        if faults:
            raise faults.pop(0)
        return "sent"

    assert send_once.run(call, once=True, attempts=5) == "sent"
    assert len(calls) == 3


def test_an_unclear_send_is_never_tried_again() -> None:
    calls: list[int] = []

    def call() -> str:
        calls.append(1)
        raise Fault(Answer.NONE, "connection lost", unclear="no answer after the message went")

    with pytest.raises(SendOutcomeUnknown, match="no answer after the message went"):
        send_once.run(call, once=True, attempts=5)
    assert len(calls) == 1


def test_giving_up_names_why() -> None:
    def throttled() -> None:
        raise Fault(Answer.THROTTLED, "HTTP 429", retry_after=7)

    with pytest.raises(RateLimited) as raised:
        send_once.run(throttled, once=True, attempts=3)
    assert raised.value.retry_after == 7

    def unreachable() -> None:
        raise Fault(Answer.NONE, "cannot reach the server", reached=False)

    with pytest.raises(ConnectionFailed, match="cannot reach the server"):
        send_once.run(unreachable, once=True, attempts=2)

    def refused() -> None:
        raise Fault(Answer.REFUSED, "550 no such user", refused=("jane@example.com",))

    with pytest.raises(SendRefused) as final:
        send_once.run(refused, once=True, attempts=5)
    assert final.value.recipients == ("jane@example.com",)


def test_an_error_of_the_adapters_own_leaves_as_it_is() -> None:
    class Missing(ProviderError):
        pass

    def call() -> None:
        raise Missing("no such folder")

    with pytest.raises(Missing):
        send_once.run(call, once=True, attempts=5)


def test_found_by_its_message_id_after_an_unclear_answer_it_is_not_made_again() -> None:
    made: list[str] = []

    def make() -> str:
        made.append("draft-1")
        raise SendOutcomeUnknown("the answer was lost")

    assert send_once.find_or_make(lambda: made[0] if made else None, make) == "draft-1"
    assert made == ["draft-1"]

    with pytest.raises(ProviderError, match="the next attempt looks for it first") as raised:
        send_once.find_or_make(lambda: None, lambda: (_ for _ in ()).throw(SendOutcomeUnknown("lost")))
    assert not isinstance(raised.value, SendOutcomeUnknown)
