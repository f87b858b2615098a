"""Which mail concerns someone (engine.relevance): what a two-step sync reads and keeps whole."""

from __future__ import annotations

from inbox_watch.engine.relevance import address_hasher, metadata, relevance
from inbox_watch.models import Candidate
from tests.builders import SAM, msg

JANE = Candidate(name="Jane Doe", emails=("jane@example.com",), employer_emails=("jo@fabrikam.example",))


def _keys(*messages: object) -> set[tuple[str, str]]:
    return {(m.account, m.id) for m in messages}  # type: ignore[attr-defined]


def test_a_candidates_thread_is_theirs_whoever_writes_in_it() -> None:
    slots = msg("2026-11-23 10:00", SAM, "jane@example.com")
    personal = msg("2026-11-23 12:00", "jane.home@home.example", SAM, reply_to=slots)
    copied = msg("2026-11-23 13:00", SAM, "jane.home@home.example", reply_to=personal)
    friend = msg("2026-11-23 14:00", "alex@else.example", SAM, "Dinner")
    answer = msg("2026-11-23 15:00", SAM, "alex@else.example", "Re: Dinner", reply_to=friend)
    found = relevance([slots, personal, copied, friend, answer], [JANE], [SAM])
    assert found.related == _keys(slots, personal, copied)
    assert not found.reports


def test_employer_contacts_tags_and_tag_only_candidates_addresses() -> None:
    employer = msg("2026-11-23 10:00", "jo@fabrikam.example", SAM, "Any news?")
    tagged = msg("2026-11-23 10:00", SAM, "omar@example.org", "Your CV", tags=("Omar Haddad",))
    # Omar is known only by his folder; the address Sam wrote to there is his, in any thread.
    elsewhere = msg("2026-11-24 09:00", "omar@example.org", SAM, "Another question")
    other = msg("2026-11-24 09:00", "news@list.example", SAM, "Digest")
    found = relevance([employer, tagged, elsewhere, other], [JANE], [SAM])
    assert found.related == _keys(employer, tagged, elsewhere)


def test_possible_delivery_reports_are_read_to_learn_whom_they_are_about() -> None:
    report = msg(
        "2026-11-23 10:00",
        "mailer-daemon@mx.example",
        SAM,
        "Undelivered Mail Returned to Sender",
        headers=(("content-type", "multipart/report; report-type=delivery-status"),),
    )
    ndr = msg("2026-11-23 10:00", "postmaster@corp.example", SAM, "Undeliverable: Lunch")
    person = msg("2026-11-23 10:00", "alex@else.example", SAM, "Lunch?")
    found = relevance([report, ndr, person], [JANE], [SAM])
    assert found.related == set()
    assert found.reports == _keys(report, ndr)
    # Once read, a report about the email to Jane joins her thread.
    slots = msg("2026-11-23 09:00", SAM, "jane@example.com")
    read = msg("2026-11-23 10:00", "mailer-daemon@mx.example", SAM, "Undelivered", original=slots.message_id)
    assert relevance([slots, read], [JANE], [SAM]).related == _keys(slots, read)


def test_what_is_kept_of_mail_that_concerns_no_one() -> None:
    keyed = address_hasher(b"k" * 32)
    report = msg(
        "2026-11-23 10:00",
        "mailer-daemon@mx.example",
        (SAM, "Alex@Else.example"),
        "Undelivered",
        text="could not be delivered",
        headers=(("content-type", "multipart/report"),),
        failed=("alex@else.example",),
        original="<x@agency.example>",
        delivery_status="Action: failed",
        calendar="BEGIN:VCALENDAR",
    )
    kept = metadata(report, keyed)
    assert kept.headers_only and kept.text == kept.calendar == kept.delivery_status == kept.subject == ""
    assert kept.headers == () and kept.from_name == ""
    assert kept.message_id == report.message_id and kept.date == report.date
    assert kept.original_message_id == "<x@agency.example>"
    assert kept.to == (keyed(SAM), keyed("alex@else.example")) and kept.failed_recipients == (
        keyed("alex@else.example"),
    )
    assert all(a.startswith("#") and "@" not in a and a == a.lower() for a in (kept.from_addr, *kept.to))
    assert address_hasher(b"j" * 32)(SAM) != keyed(SAM)  # another store's key: other hashes
    assert keyed(keyed(SAM)) == keyed(SAM)


def test_mail_kept_as_metadata_comes_to_concern_a_candidate_added_later() -> None:
    keyed = address_hasher(b"k" * 32)
    slots = metadata(msg("2026-11-23 10:00", SAM, "lee@example.net", "Slots"), keyed)
    answer = metadata(msg("2026-11-24 10:00", "lee.home@home.example", SAM, "Re: Slots", reply_to=slots), keyed)
    other = metadata(msg("2026-11-24 11:00", "alex@else.example", SAM, "Dinner"), keyed)
    lee = Candidate(name="Lee Park", emails=("Lee@Example.net",))
    found = relevance([slots, answer, other], [JANE, lee], [SAM], keyed)
    assert found.related == _keys(slots, answer)
    assert relevance([slots, answer, other], [JANE], [SAM], keyed).related == set()
