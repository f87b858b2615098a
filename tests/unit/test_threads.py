"""Thread assembly: Message-ID / In-Reply-To / References, provider thread ids, bounces."""

from __future__ import annotations

from dataclasses import replace

from inbox_watch.engine.threads import assemble_threads, base_subject, dedupe
from tests.builders import SAM, msg


def test_replies_references_and_bounces_join_one_thread_in_date_order() -> None:
    first = msg("2026-11-23 10:00", SAM, "jane@example.com", "Slots")
    reply = msg("2026-11-23 11:00", "jane@example.com", SAM, "Re: Slots", reply_to=first)
    # A later message that only names the first in References (its parent is not stored).
    late = replace(
        msg("2026-11-24 09:00", SAM, "jane@example.com", "Re: Slots"), references=("<missing@x>", first.message_id)
    )
    bounce = msg("2026-11-23 10:01", "mailer-daemon@x.example", SAM, "Undeliverable", original=first.message_id)
    other = msg("2026-11-23 10:00", SAM, "bob@example.com", "Other slots")
    threads = assemble_threads([late, other, bounce, reply, first])
    assert len(threads) == 2
    main = next(t for t in threads if len(t.messages) == 4)
    assert [m.message_id for m in main.messages] == [
        first.message_id,
        bounce.message_id,
        reply.message_id,
        late.message_id,
    ]
    assert main.id == first.message_id and main.subject == "Slots"


def test_provider_thread_ids_join_within_an_account_only() -> None:
    a = replace(msg("2026-11-23 10:00", SAM, "a@example.com", "A"), thread_id="t1")
    b = replace(msg("2026-11-23 11:00", "a@example.com", SAM, "B"), thread_id="t1")
    c = replace(msg("2026-11-23 12:00", "a@example.com", SAM, "C"), thread_id="t1", account="other")
    threads = assemble_threads([a, b, c])
    assert sorted(len(t.messages) for t in threads) == [1, 2]
    assert {t.id for t in threads} == {"t1"}


def test_a_message_filed_twice_is_kept_once_with_both_tags() -> None:
    a = msg("2026-11-23 10:00", SAM, "a@example.com", "A", tags=("Ann Lee",))
    copy = replace(a, id="copy", folder="INBOX", tags=())
    tagged = replace(a, id="copy2", tags=("Ann L",))
    kept = dedupe([a, copy, tagged])
    assert len(kept) == 1 and kept[0].tags == ("Ann Lee", "Ann L")
    assert base_subject("RE: Fwd: AW: Slots") == "Slots"
