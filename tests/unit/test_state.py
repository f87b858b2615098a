"""Candidate state on hand-written threads: every status, the clock, chasers, the employer,
the ladder and the ranking order."""

from __future__ import annotations

from datetime import date

from inbox_watch.engine.state import Inputs, evaluate
from inbox_watch.models import Candidate, NextAction, Snooze, Status, Touch
from tests.builders import POLICY, RECRUITER, SAM, SLOTS, at, jane, msg

JANE = "jane@example.com"


def run(messages, now: str, candidates=None, **extra):  # type: ignore[no-untyped-def]
    inputs = Inputs(candidates or [jane()], messages, RECRUITER, POLICY, **extra)
    return evaluate(inputs, at(now))


def one(messages, now: str, **extra):  # type: ignore[no-untyped-def]
    (state,) = run(messages, now, **extra)
    return state


def test_idle_without_scheduling_email() -> None:
    state = one(
        [msg("2026-11-23 10:00", SAM, JANE, "Your CV", "Thanks for the CV, I'll be in touch.")], "2026-11-25 10:00"
    )
    assert state.status is Status.IDLE
    assert state.next_action is NextAction.NONE
    assert state.waiting_since is None


def test_awaiting_under_the_threshold() -> None:
    sent = msg("2026-11-23 10:00", SAM, JANE, text=SLOTS)
    state = one([sent], "2026-11-23 15:00")
    assert state.status is Status.AWAITING
    assert state.next_action is NextAction.WAIT
    assert state.waiting_since == sent.date
    assert state.silent_business_hours == 5.0


def test_silent_after_one_business_day_needs_a_chaser() -> None:
    state = one([msg("2026-11-23 10:00", SAM, JANE, text=SLOTS)], "2026-11-24 10:00")
    assert state.status is Status.SILENT
    assert state.silent_business_hours == 8.5
    assert state.next_action is NextAction.SEND_CHASER
    assert any("no chaser" in r for r in state.reasons)


def test_silence_across_a_weekend_counts_only_working_hours() -> None:
    # Friday 15:00 to Monday 15:00: 2.5 + 6 = 8.5 hours -> just silent.
    state = one([msg("2026-11-20 15:00", SAM, JANE, text=SLOTS)], "2026-11-23 15:00")
    assert state.silent_business_hours == 8.5
    assert state.status is Status.SILENT
    early = one([msg("2026-11-20 15:00", SAM, JANE, text=SLOTS)], "2026-11-23 14:00")
    assert early.status is Status.AWAITING


def test_bank_holiday_pauses_silence() -> None:
    state = one([msg("2026-12-24 15:00", SAM, JANE, text=SLOTS)], "2026-12-29 12:00")
    assert state.silent_business_hours == 2.5 + 3.0
    assert state.status is Status.AWAITING


def test_reply_from_candidate() -> None:
    sent = msg("2026-11-23 10:00", SAM, JANE, text=SLOTS)
    reply = msg("2026-11-23 12:00", JANE, SAM, "Re: Interview slots", "Tuesday is great.", reply_to=sent)
    state = one([sent, reply], "2026-11-25 10:00")
    assert state.status is Status.REPLIED
    assert state.next_action is NextAction.NONE


def test_reply_from_a_personal_address_in_the_thread() -> None:
    sent = msg("2026-11-23 10:00", SAM, JANE, text=SLOTS)
    reply = msg("2026-11-23 12:00", "jd.home@example.net", SAM, "Re: Interview slots", "Tuesday!", reply_to=sent)
    assert one([sent, reply], "2026-11-25 10:00").status is Status.REPLIED


def test_employer_in_the_thread_is_not_a_reply() -> None:
    sent = msg("2026-11-23 10:00", SAM, (JANE,), text=SLOTS)
    employer = msg("2026-11-23 12:00", "hr@acme.example", SAM, "Re: Interview slots", "Any news?", reply_to=sent)
    state = one([sent, employer], "2026-11-25 10:00")
    assert state.status is Status.SILENT
    assert state.employer_waiting
    assert state.next_action is NextAction.UPDATE_EMPLOYER


def test_employer_naming_the_candidate_elsewhere_is_waiting_until_answered() -> None:
    sent = msg("2026-11-23 10:00", SAM, JANE, text=SLOTS)
    asks = msg("2026-11-24 09:30", "hr@acme.example", SAM, "Analyst shortlist", "Has Jane Doe picked a time?")
    assert one([sent, asks], "2026-11-24 12:00").employer_waiting
    answered = msg("2026-11-24 10:00", SAM, "hr@acme.example", "Re: Analyst shortlist", "Chasing her today.")
    assert not one([sent, asks, answered], "2026-11-24 12:00").employer_waiting


def test_auto_reply_is_never_a_reply_and_pauses_until_return_date() -> None:
    sent = msg("2026-11-23 10:00", SAM, JANE, text=SLOTS)
    ooo = msg(
        "2026-11-23 10:01",
        JANE,
        SAM,
        "Automatic reply: Interview slots",
        "I am out of the office until Monday 30 November 2026 with no access to email.",
        reply_to=sent,
        headers=(("auto-submitted", "auto-replied"),),
    )
    state = one([sent, ooo], "2026-11-26 10:00")
    assert state.status is Status.OUT_OF_OFFICE
    assert state.out_of_office_until == date(2026, 11, 30)
    assert state.next_action is NextAction.WAIT
    # After the return date the clock runs again from that morning.
    later = one([sent, ooo], "2026-11-30 15:00")
    assert later.status is Status.AWAITING
    assert later.silent_business_hours == 6.0


def test_read_receipt_is_not_a_reply() -> None:
    sent = msg("2026-11-23 10:00", SAM, JANE, text=SLOTS)
    receipt = msg(
        "2026-11-23 10:30",
        JANE,
        SAM,
        "Read: Interview slots",
        "Your message was read.",
        headers=(("content-type", "multipart/report; report-type=disposition-notification"),),
        reply_to=sent,
    )
    assert one([sent, receipt], "2026-11-24 12:00").status is Status.SILENT


def test_calendar_reply_counts_even_when_auto_generated() -> None:
    invite = msg(
        "2026-11-23 10:00",
        SAM,
        JANE,
        "Invitation: Interview",
        "Invite attached",
        calendar="BEGIN:VCALENDAR\nMETHOD:REQUEST\nBEGIN:VEVENT\nDTSTART:20261201T100000Z\nEND:VEVENT\nEND:VCALENDAR",
    )
    accepted = msg(
        "2026-11-23 11:00",
        JANE,
        SAM,
        "Accepted: Interview",
        "",
        reply_to=invite,
        headers=(("auto-submitted", "auto-generated"),),
        calendar="BEGIN:VCALENDAR\nMETHOD:REPLY\nBEGIN:VEVENT\nATTENDEE;PARTSTAT=ACCEPTED:mailto:jane@example.com\nEND:VEVENT\nEND:VCALENDAR",
    )
    assert one([invite, accepted], "2026-11-25 10:00").status is Status.REPLIED


def test_bounce_of_the_scheduling_email() -> None:
    sent = msg("2026-11-23 10:00", SAM, JANE, text=SLOTS)
    bounce = msg(
        "2026-11-23 10:02",
        "mailer-daemon@agency.example",
        SAM,
        "Undelivered Mail Returned to Sender",
        "could not be delivered",
        failed=(JANE,),
        original=sent.message_id,
        headers=(("content-type", "multipart/report; report-type=delivery-status"),),
        delivery_status="Final-Recipient: rfc822; jane@example.com\nAction: failed",
    )
    state = one([sent, bounce], "2026-11-23 12:00")
    assert state.status is Status.BOUNCED
    assert state.next_action is NextAction.CALL
    assert any("07700 900001" in r for r in state.reasons)


def test_chasers_do_not_restart_the_clock_and_are_counted() -> None:
    sent = msg("2026-11-23 10:00", SAM, JANE, text=SLOTS)
    chaser = msg("2026-11-23 15:00", SAM, JANE, "Re: Interview slots", "Just checking in", reply_to=sent)
    state = one([sent, chaser], "2026-11-24 11:00")
    assert state.waiting_since == sent.date
    assert state.chasers_sent == 1
    assert state.silent_business_hours == 9.5
    assert state.next_action is NextAction.WAIT  # the chaser went out under a business day ago
    # A business day after the chaser, with no answer: call, at a time outside work.
    later = one([sent, chaser], "2026-11-24 16:00")
    assert later.next_action is NextAction.CALL
    assert any("call 07700 900001" in r for r in later.reasons)


def test_ladder_after_a_logged_call_is_text_then_social() -> None:
    sent = msg("2026-11-23 10:00", SAM, JANE, text=SLOTS)
    chaser = msg("2026-11-24 10:00", SAM, JANE, "Re: Interview slots", "Checking in", reply_to=sent)
    candidate = jane(employer_emails=())
    call = Touch("Jane Doe", "call", at("2026-11-25 12:30"))
    state = run([sent, chaser], "2026-11-26 13:00", candidates=[candidate], touches=[call])[0]
    assert state.next_action is NextAction.TEXT
    text = Touch("Jane Doe", "text", at("2026-11-26 13:00"))
    state = run([sent, chaser], "2026-11-27 13:30", candidates=[candidate], touches=[call, text])[0]
    assert state.next_action is NextAction.MESSAGE_ON_SOCIAL
    # The touches do not restart the silence clock.
    assert state.waiting_since == sent.date


def test_day_three_means_update_the_employer() -> None:
    sent = msg("2026-11-23 10:00", SAM, JANE, text=SLOTS)
    state = one([sent], "2026-11-25 11:00")
    assert state.silent_business_hours >= 17
    assert state.next_action is NextAction.UPDATE_EMPLOYER


def test_consider_pulling_after_five_business_days() -> None:
    sent = msg("2026-11-16 10:00", SAM, JANE, text=SLOTS)
    state = one([sent], "2026-11-23 11:00")
    assert state.next_action is NextAction.CONSIDER_PULLING


def test_snoozed_and_pulled() -> None:
    sent = msg("2026-11-23 10:00", SAM, JANE, text=SLOTS)
    snoozed = one([sent], "2026-11-25 10:00", snoozes=[Snooze("Jane Doe", date(2026, 11, 27), "ill")])
    assert snoozed.status is Status.SNOOZED
    assert snoozed.next_action is NextAction.WAIT
    assert "ill" in snoozed.reasons[0]
    pulled = one([sent], "2026-11-25 10:00", pulled=frozenset({"jane doe"}))
    assert pulled.status is Status.PULLED
    assert pulled.next_action is NextAction.NONE


def test_new_scheduling_email_after_a_reply_opens_a_new_wait() -> None:
    first = msg("2026-11-16 10:00", SAM, JANE, text=SLOTS)
    reply = msg("2026-11-16 11:00", JANE, SAM, "Re: Interview slots", "Tuesday works", reply_to=first)
    second = msg(
        "2026-11-23 10:00", SAM, JANE, "Second interview", "Could you do Thursday at 3pm for the second round?"
    )
    state = one([first, reply, second], "2026-11-24 12:00")
    assert state.waiting_since == second.date
    assert state.status is Status.SILENT


def test_tagged_thread_links_a_candidate_without_a_roster_address() -> None:
    sent = msg("2026-11-23 10:00", SAM, "ann@example.org", "Slots for Ann", SLOTS, tags=("Ann Lee",))
    reply = msg(
        "2026-11-23 11:00", "ann@example.org", SAM, "Re: Slots for Ann", "Thanks!\nMobile: 07700 900777", reply_to=sent
    )
    (state,) = run([sent, reply], "2026-11-24 12:00", candidates=[Candidate("Ann Lee", source="tag")])
    assert state.status is Status.REPLIED
    assert state.candidate.emails == ("ann@example.org",)
    assert state.candidate.phone == "07700 900777"


def test_ranking_order_and_reasons() -> None:
    people = [
        Candidate("Silent Long", ("long@example.com",)),
        Candidate("Silent Short", ("short@example.com",)),
        Candidate("Awaiting", ("await@example.com",)),
        Candidate("Replied", ("rep@example.com",)),
        Candidate("Bounced", ("bounce@example.com",)),
    ]
    messages = [
        msg("2026-11-18 10:00", SAM, "long@example.com", "A", SLOTS),
        msg("2026-11-23 10:00", SAM, "short@example.com", "B", SLOTS),
        msg("2026-11-24 14:00", SAM, "await@example.com", "C", SLOTS),
    ]
    asked = msg("2026-11-23 10:00", SAM, "rep@example.com", "D", SLOTS)
    messages += [asked, msg("2026-11-23 11:00", "rep@example.com", SAM, "Re: D", "Yes", reply_to=asked)]
    b = msg("2026-11-24 10:00", SAM, "bounce@example.com", "E", SLOTS)
    messages += [
        b,
        msg(
            "2026-11-24 10:01",
            "mailer-daemon@agency.example",
            SAM,
            "Undeliverable: E",
            "failed",
            failed=("bounce@example.com",),
            original=b.message_id,
            headers=(("content-type", "multipart/report; report-type=delivery-status"),),
        ),
    ]
    states = run(messages, "2026-11-24 16:00", candidates=people)
    order = [s.candidate.name for s in states]
    assert order.index("Silent Long") < order.index("Silent Short")
    assert set(order[:3]) == {"Silent Long", "Silent Short", "Bounced"}
    assert order[3] == "Awaiting"
    assert order[-1] == "Replied"
    assert [s.rank for s in states] == [1, 2, 3, 4, 5]
    assert all(s.reasons for s in states)
    assert states[0].score > states[1].score


def test_employer_pressure_and_slot_expiry_raise_the_score() -> None:
    sent = msg("2026-11-23 10:00", SAM, JANE, text=SLOTS)
    calm = one([sent], "2026-11-24 12:00")
    asks = msg("2026-11-24 11:00", "hr@acme.example", SAM, "Jane?", "Any news on Jane Doe?")
    pressed = one([sent, asks], "2026-11-24 12:00")
    assert pressed.score > calm.score
    invite = msg(
        "2026-11-23 10:00",
        SAM,
        JANE,
        "Invitation",
        "Invite",
        calendar="BEGIN:VCALENDAR\nMETHOD:REQUEST\nBEGIN:VEVENT\nDTSTART:20261124T150000Z\nEND:VEVENT\nEND:VCALENDAR",
    )
    soon = one([invite], "2026-11-24 12:00")
    assert soon.score > calm.score
    assert any("slot" in r for r in soon.reasons)


def test_classifications_kept_at_sync_time_give_the_same_ranking() -> None:
    from datetime import UTC, datetime

    from inbox_watch.engine.classify import CLASSIFIER_VERSION, classify, to_stored
    from providers.demo import DEMO_RECRUITER, demo_candidates
    from providers.demo.mailbox import build_mailbox

    now = datetime(2026, 11, 25, 15, tzinfo=UTC)
    messages = build_mailbox("demo", now)
    stored = {(m.account, m.id): to_stored(classify(m, read_dates=False)) for m in messages}
    fresh = evaluate(Inputs(demo_candidates(), messages, DEMO_RECRUITER, POLICY), now)
    kept = evaluate(Inputs(demo_candidates(), messages, DEMO_RECRUITER, POLICY, stored_classes=stored), now)
    assert fresh == kept
    # A classification kept by another classifier version is not trusted: the message is read again.
    stale = {key: [CLASSIFIER_VERSION - 1, "other", ["old rules"], False, True] for key in stored}
    again = evaluate(Inputs(demo_candidates(), messages, DEMO_RECRUITER, POLICY, stored_classes=stale), now)
    assert again == fresh
