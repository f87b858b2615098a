"""The words shared by the report and the dashboard: statuses, next actions, elapsed business time."""

from __future__ import annotations

from inbox_watch.config import Policy
from inbox_watch.engine.clock import BusinessClock
from inbox_watch.models import NextAction, Status
from inbox_watch.vocabulary import action_word, business_time_ago, status_word
from tests.builders import at

clock = BusinessClock(Policy())


def test_every_status_and_action_has_words_without_underscores() -> None:
    assert status_word(Status.OUT_OF_OFFICE) == status_word("out_of_office") == "out of office"
    assert action_word(NextAction.MESSAGE_ON_SOCIAL) == "message on social"
    assert all("_" not in status_word(s) for s in Status) and all("_" not in action_word(a) for a in NextAction)
    assert status_word("from_a_newer_version") == "from a newer version"  # a saved row never crashes


def test_elapsed_business_time_reads_as_people_say_it() -> None:
    assert business_time_ago(at("2026-11-23 10:00"), at("2026-11-23 10:01"), clock) == "just now"
    assert business_time_ago(at("2026-11-23 10:00"), at("2026-11-23 13:00"), clock) == "3h of business time ago"
    # Sent on Monday evening, looked at three hours later: no business time, but not "just now".
    assert business_time_ago(at("2026-11-23 19:04"), at("2026-11-23 22:00"), clock) == "earlier, outside business hours"
