"""Candidate state on hand-written threads: every status, the clock, chasers, the employer,
the ladder and the ranking order."""

from __future__ import annotations

from dataclasses import replace
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
    # While away the clock stands still: the minute before the auto-reply is kept.
    assert state.silent_business_hours == 0.02
    # After the return date the clock runs again from that morning.
    later = one([sent, ooo], "2026-11-30 15:00")
    assert later.status is Status.AWAITING
    assert later.silent_business_hours == 6.02


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
    assert any("07700 100001" in r for r in state.reasons)


def test_a_delay_notice_is_not_a_bounce_and_says_so() -> None:
    sent = msg("2026-11-23 10:00", SAM, JANE, text=SLOTS)
    delayed = msg(
        "2026-11-23 14:00",
        "mailer-daemon@agency.example",
        SAM,
        "Delivery Status Notification (Delay)",
        "THIS IS A WARNING MESSAGE ONLY. YOU DO NOT NEED TO RESEND YOUR MESSAGE.",
        failed=(JANE,),
        original=sent.message_id,
        headers=(("content-type", "multipart/report; report-type=delivery-status"),),
        delivery_status="Final-Recipient: rfc822; jane@example.com\nAction: delayed\nStatus: 4.4.7",
    )
    state = one([sent, delayed], "2026-11-23 15:00")
    assert state.status is Status.AWAITING
    assert "delivery to jane@example.com delayed on Mon 23 Nov (the mail system is still trying)" in state.reasons
    # The same report saying the delivery failed marks the candidate bounced.
    failed = replace(delayed, delivery_status="Final-Recipient: rfc822; jane@example.com\nAction: failed")
    assert one([sent, failed], "2026-11-23 15:00").status is Status.BOUNCED


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
    assert any("call 07700 100001" in r for r in later.reasons)


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
        "2026-11-23 11:00", "ann@example.org", SAM, "Re: Slots for Ann", "Thanks!\nMobile: 07700 100777", reply_to=sent
    )
    (state,) = run([sent, reply], "2026-11-24 12:00", candidates=[Candidate("Ann Lee", source="tag")])
    assert state.status is Status.REPLIED
    assert state.candidate.emails == ("ann@example.org",)
    assert state.candidate.phone == "07700 100777"


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
    # A kept classification damaged on disk (a byte overwritten in its kind) is read again too.
    damaged = {key: [CLASSIFIER_VERSION, "sch,duling", [], False, True, False] for key in stored}
    assert evaluate(Inputs(demo_candidates(), messages, DEMO_RECRUITER, POLICY, stored_classes=damaged), now) == fresh


# --- regressions: each goes through ``evaluate`` ------------------------------------------------

HR = "hr@acme.example"
INVITE = "BEGIN:VCALENDAR\nMETHOD:REQUEST\nBEGIN:VEVENT\nDTSTART:{}\nEND:VEVENT\nEND:VCALENDAR"


def out_of_office(when: str, sender: str, back: str, reply_to, subject: str = "Automatic reply: Interview slots"):  # type: ignore[no-untyped-def]
    return msg(
        when,
        sender,
        SAM,
        subject,
        f"I am out of the office until {back}.",
        reply_to=reply_to,
        headers=(("auto-submitted", "auto-replied"),),
    )


def test_an_employer_out_of_office_does_not_pause_the_candidate() -> None:
    sent = msg("2026-11-23 10:00", SAM, (JANE, HR), text=SLOTS)  # the employer copied in
    away = out_of_office("2026-11-23 10:01", HR, "Monday 30 November", sent)
    state = one([sent, away], "2026-11-24 11:00")
    assert state.status is Status.SILENT
    assert state.out_of_office_until is None
    assert state.next_action is NextAction.SEND_CHASER
    # The candidate's own out-of-office does, from an address the roster lacks on an email
    # filed under their tag too.
    personal = "jd.home@example.net"
    tagged = msg("2026-11-23 10:00", SAM, personal, text=SLOTS, tags=("Jane Doe",))
    theirs = out_of_office("2026-11-23 10:01", personal, "Monday 30 November", tagged)
    assert one([tagged, theirs], "2026-11-24 11:00").status is Status.OUT_OF_OFFICE


def test_employer_auto_replies_and_calendar_accepts_are_not_the_employer_waiting() -> None:
    sent = msg("2026-11-23 10:00", SAM, (JANE, HR), text=SLOTS)
    away = out_of_office("2026-11-23 10:01", HR, "Monday 30 November", sent)
    assert not one([sent, away], "2026-11-24 11:00").employer_waiting
    invite = msg("2026-11-23 10:00", SAM, (JANE, HR), "Invitation: Interview", "Invite attached",
                 calendar=INVITE.format("20261201T100000Z"))  # fmt: skip
    accepted = msg(
        "2026-11-23 10:30",
        HR,
        SAM,
        "Accepted: Interview",
        "",
        reply_to=invite,
        headers=(("auto-submitted", "auto-generated"),),
        calendar="BEGIN:VCALENDAR\nMETHOD:REPLY\nBEGIN:VEVENT\nATTENDEE;PARTSTAT=ACCEPTED:mailto:hr@acme.example\n"
        "END:VEVENT\nEND:VCALENDAR",
    )
    assert not one([invite, accepted], "2026-11-24 11:00").employer_waiting
    # Nor an auto-reply elsewhere that happens to name the candidate.
    elsewhere = msg("2026-11-20 09:00", SAM, HR, "Shortlist: Jane Doe", "Jane Doe's CV attached.")
    named = out_of_office(
        "2026-11-20 09:01", HR, "Monday 30 November", elsewhere, "Automatic reply: Shortlist: Jane Doe"
    )
    assert not one([sent, elsewhere, named], "2026-11-24 11:00").employer_waiting


def test_a_bounce_for_a_copied_address_is_not_the_candidate_bounced() -> None:
    stale = "old.contact@acme.example"
    sent = msg("2026-11-23 10:00", SAM, (JANE, stale), text=SLOTS)
    bounce = msg(
        "2026-11-23 10:02",
        "mailer-daemon@agency.example",
        SAM,
        "Undelivered Mail Returned to Sender",
        "could not be delivered",
        failed=(stale,),
        original=sent.message_id,
        headers=(("content-type", "multipart/report; report-type=delivery-status"),),
        delivery_status=f"Final-Recipient: rfc822; {stale}\nAction: failed",
    )
    state = one([sent, bounce], "2026-11-23 12:00")
    assert state.status is Status.AWAITING
    assert state.next_action is NextAction.WAIT
    # A mistyped address on an email filed under the candidate's tag still bounces for them.
    typo = "jane.deo@example.com"
    tagged = msg("2026-11-23 10:00", SAM, typo, text=SLOTS, tags=("Jane Doe",))
    returned = replace(bounce, failed_recipients=(typo,), original_message_id=tagged.message_id)
    state = one([tagged, returned], "2026-11-23 12:00")
    assert state.status is Status.BOUNCED
    assert state.reasons[0].startswith(f"delivery to {typo} failed")


def test_an_out_of_office_pauses_the_clock_and_keeps_the_silence_before_it() -> None:
    sent = msg("2026-11-16 10:00", SAM, JANE, text=SLOTS)  # Monday
    chaser = msg("2026-11-17 15:00", SAM, JANE, "Re: Interview slots", "Checking in", reply_to=sent)
    away = out_of_office("2026-11-17 15:01", JANE, "Monday 23 November", chaser)
    state = one([sent, chaser, away], "2026-11-23 15:00")
    # Mon 10:00-17:30 and Tue 09:00-15:01 before the auto-reply, then Mon 23 09:00-15:00.
    assert state.silent_business_hours == round(7.5 + 6 + 1 / 60 + 6, 2)
    assert state.status is Status.SILENT
    assert state.next_action is NextAction.UPDATE_EMPLOYER  # day 3 of silence, away days not counted


def test_a_snooze_pauses_the_clock_and_keeps_showing_the_wait() -> None:
    sent = msg("2026-11-23 10:00", SAM, JANE, text=SLOTS)  # Monday
    chaser = msg("2026-11-23 16:00", SAM, JANE, "Re: Interview slots", "Checking in", reply_to=sent)
    snoozes = [Snooze("Jane Doe", date(2026, 11, 27), "ill, back Monday", since=at("2026-11-24 10:00"))]
    snoozed = one([sent, chaser], "2026-11-25 12:00", snoozes=snoozes)
    assert snoozed.status is Status.SNOOZED
    assert snoozed.next_action is NextAction.WAIT
    assert snoozed.waiting_since == sent.date
    assert snoozed.chasers_sent == 1
    assert snoozed.silent_business_hours == 8.5  # Mon 10:00-17:30 and Tue 09:00-10:00, then paused
    # When the snooze ends, Tuesday to Friday do not count.
    back = one([sent, chaser], "2026-11-30 10:00", snoozes=snoozes)
    assert back.status is Status.SILENT
    assert back.silent_business_hours == 9.5
    # Not consider_pulling; and the chaser's business day is held by the snooze too (3.5h so far).
    assert back.next_action is NextAction.WAIT
    assert any("next step after Mon 15:00" in r for r in back.reasons)
    # A reply ends the wait, snooze or not.
    reply = msg("2026-11-25 09:00", JANE, SAM, "Re: Interview slots", "Tuesday works, thanks", reply_to=chaser)
    assert one([sent, chaser, reply], "2026-11-25 12:00", snoozes=snoozes).status is Status.REPLIED


def test_an_earlier_snooze_still_holds_the_clock_after_a_second_one() -> None:
    sent = msg("2026-11-16 10:00", SAM, JANE, text=SLOTS)  # Monday
    snoozes = [
        Snooze("Jane Doe", date(2026, 11, 20), "ill", since=at("2026-11-17 09:00")),  # Tue to Fri
        Snooze("Jane Doe", date(2026, 11, 24), "moving house", since=at("2026-11-23 09:00")),  # Mon, Tue
    ]
    state = one([sent], "2026-11-25 12:00", snoozes=snoozes)
    assert state.silent_business_hours == 7.5 + 3  # Mon 16 and Wed 25 until noon: no snoozed day counts
    # A snooze set without a recorded start (an older store) holds the clock from the start of the wait.
    legacy = one([sent], "2026-11-25 12:00", snoozes=[Snooze("Jane Doe", date(2026, 11, 24))])
    assert legacy.silent_business_hours == 3


def test_a_pulled_candidate_still_shows_the_wait_for_the_withdrawal_note() -> None:
    sent = msg("2026-11-16 10:00", SAM, JANE, text=SLOTS)
    chaser = msg("2026-11-17 10:00", SAM, JANE, "Re: Interview slots", "Just checking in", reply_to=sent)
    state = one([sent, chaser], "2026-11-23 11:00", pulled=frozenset({"jane doe"}))
    assert state.status is Status.PULLED
    assert state.next_action is NextAction.NONE
    assert state.waiting_since == sent.date
    assert state.chasers_sent == 1


def test_a_tagged_email_to_the_employer_does_not_open_the_candidates_wait() -> None:
    to_employer = msg(
        "2026-11-23 10:00",
        SAM,
        HR,
        "Jane Doe interview",
        "Hi, could you do Tuesday at 10:00 or Wednesday at 14:00 for Jane Doe's interview? Which suits you?",
        tags=("Jane Doe",),
    )
    state = one([to_employer], "2026-11-25 12:00")
    assert state.status is Status.IDLE
    assert state.waiting_since is None
    # Filed under the tag and sent to the recruiter alone (the candidate in Bcc), it does open it.
    bcc = msg("2026-11-23 10:00", SAM, SAM, text=SLOTS, tags=("Jane Doe",))
    assert one([bcc], "2026-11-25 12:00").waiting_since == bcc.date


def test_a_tag_only_candidate_never_gets_an_employer_contacts_address() -> None:
    to_employer = msg(
        "2026-11-23 09:00", SAM, HR, "Ann Lee", "Could you do Tuesday at 10:00 with Ann?", tags=("Ann Lee",)
    )
    to_ann = msg("2026-11-23 10:00", SAM, "ann@example.org", "Slots for Ann", SLOTS, tags=("Ann Lee",))
    ann = Candidate("Ann Lee", source="tag")
    states = run([to_employer, to_ann], "2026-11-23 12:00", candidates=[jane(), ann])
    (state,) = [s for s in states if s.candidate.name == "Ann Lee"]
    assert state.candidate.emails == ("ann@example.org",)
    assert state.waiting_since == to_ann.date


def test_another_candidates_reply_to_a_group_email_is_not_a_reply() -> None:
    ann, bob = "ann@example.com", "bob@example.com"
    group = msg("2026-11-23 10:00", SAM, (ann, bob), text=SLOTS)
    from_bob = msg("2026-11-23 11:00", bob, SAM, "Re: Interview slots", "Tuesday please", reply_to=group)
    states = run(
        [group, from_bob], "2026-11-25 12:00", candidates=[Candidate("Ann A", (ann,)), Candidate("Bob B", (bob,))]
    )
    assert {s.candidate.name: s.status for s in states} == {"Ann A": Status.SILENT, "Bob B": Status.REPLIED}


def test_slot_expires_is_the_soonest_slot_still_ahead() -> None:
    first = msg("2026-11-23 10:00", SAM, JANE, "Invitation", "Invite", calendar=INVITE.format("20261123T150000Z"))
    second = msg("2026-11-23 11:00", SAM, JANE, "Invitation", "Invite", calendar=INVITE.format("20261124T150000Z"))
    later = msg("2026-11-23 12:00", SAM, JANE, "Invitation", "Invite", calendar=INVITE.format("20261210T150000Z"))
    state = one([first, second, later], "2026-11-24 09:30")
    assert state.slot_expires is not None and state.slot_expires.isoformat() == "2026-11-24T15:00:00+00:00"
    assert any("slot" in r for r in state.reasons)


def test_a_draft_copy_with_the_same_message_id_does_not_hide_the_sent_email() -> None:
    sent = msg("2026-11-23 10:00", SAM, JANE, text=SLOTS)
    draft = replace(sent, id="draft-1", folder="Drafts", is_draft=True)
    state = one([draft, sent], "2026-11-23 15:00")
    assert state.status is Status.AWAITING
    assert state.waiting_since == sent.date


def test_an_out_of_office_from_before_the_scheduling_email_still_pauses() -> None:
    """Outlook answers a sender once per absence: the auto-reply to an earlier email is all the
    recruiter gets, and it holds for the scheduling email sent after it."""
    earlier = msg("2026-11-23 09:00", SAM, JANE, "Quick question", "Are you still looking?")  # Monday
    away = out_of_office("2026-11-23 09:01", JANE, "Monday 30 November", earlier)
    sent = msg("2026-11-24 10:00", SAM, JANE, text=SLOTS)
    state = one([earlier, away, sent], "2026-11-26 10:00")
    assert state.status is Status.OUT_OF_OFFICE and state.next_action is NextAction.WAIT
    assert state.silent_business_hours == 0


def test_a_month_first_out_of_office_date_pauses_days_not_months() -> None:
    sent = msg("2026-11-27 10:00", SAM, JANE, text=SLOTS)  # Friday 27 November
    away = out_of_office("2026-11-27 10:01", JANE, "12/7", sent)
    state = one([sent, away], "2026-12-01 10:00")
    assert state.status is Status.OUT_OF_OFFICE
    assert state.out_of_office_until == date(2026, 12, 7)  # 7 December, not 12 July next year


def test_an_old_out_of_office_left_on_does_not_pause_for_a_year() -> None:
    sent = msg("2026-11-23 10:00", SAM, JANE, text=SLOTS)  # Monday
    stale = out_of_office("2026-11-23 10:01", JANE, "Friday 20 November", sent)  # its date has passed
    state = one([sent, stale], "2026-12-01 10:00")
    assert state.status is Status.SILENT  # a short default pause at most, not until 20 November 2027
    assert state.out_of_office_until is None or state.out_of_office_until.year == 2026
