"""Chasers and employer updates: threading, tone, restated slots, and no injection."""

from __future__ import annotations

import re
from dataclasses import replace
from email import message_from_bytes
from email.policy import default

import pytest

from inbox_watch.config import Policy
from inbox_watch.engine import drafts
from inbox_watch.engine.clock import BusinessClock
from inbox_watch.engine.state import Inputs, evaluate
from inbox_watch.mime import build_email
from inbox_watch.models import Candidate, Thread
from tests.builders import POLICY, RECRUITER, SAM, SLOTS, at, jane, msg

clock = BusinessClock(Policy())


def state_for(candidate: Candidate, chasers: int = 0):  # type: ignore[no-untyped-def]
    sent = msg("2026-11-23 10:00", SAM, candidate.emails[0], "Acme interview", SLOTS)
    messages = [sent]
    for i in range(chasers):
        messages.append(
            msg(f"2026-11-2{4 + i} 10:00", SAM, candidate.emails[0], "Re: Acme interview", "Checking in", reply_to=sent)
        )
    (state,) = evaluate(Inputs([candidate], messages, RECRUITER, POLICY), at("2026-11-27 12:00"))
    return state, sent


def test_chaser_is_threaded_and_restates_the_slots() -> None:
    state, sent = state_for(jane())
    draft = drafts.chaser(state, recruiter_name="Sam Carter", clock=clock)
    assert draft.subject == "Re: Acme interview"
    assert draft.in_reply_to == sent.message_id
    assert draft.references[-1] == sent.message_id
    assert draft.to == ("jane@example.com",)
    assert "Tuesday at 10:00" in draft.body
    assert draft.body.startswith("Hi Jane,")
    assert "Sam Carter" in draft.body


def test_tone_steps_up_with_each_chaser() -> None:
    bodies = [drafts.chaser(state_for(jane(), n)[0], recruiter_name="Sam", clock=clock).body for n in range(3)]
    assert len(set(bodies)) == 3
    assert "check you saw" in bodies[0]
    assert "please reply today" in bodies[2]


def test_employer_update_names_candidate_tried_and_next_update() -> None:
    state, _ = state_for(jane(), chasers=1)
    draft = drafts.employer_update(state, recruiter_name="Sam", clock=clock, now=at("2026-11-27 12:00"))
    assert draft.to == ("hr@acme.example",)
    assert "Jane Doe" in draft.body and "Jane Doe" in draft.subject
    assert "1 follow-up email" in draft.body
    # One business day later, over the weekend, promised by the day and never to the minute.
    assert "I'll update you again by end of day Monday." in draft.body
    assert not re.search(r"\d\d:\d\d", draft.body)
    from inbox_watch.vocabulary import end_of_day

    assert end_of_day(at("2026-11-27 16:00"), at("2026-11-27 07:00"), clock) == "end of day today"
    assert end_of_day(at("2027-01-05 12:00"), at("2026-12-24 12:00"), clock) == "end of day Tuesday 5 January"


def test_pulled_candidate_gets_the_withdrawal_note() -> None:
    from inbox_watch.models import Status, evolve

    state, _ = state_for(jane(), chasers=2)
    draft = drafts.employer_update(
        evolve(state, status=Status.PULLED), recruiter_name="Sam", clock=clock, now=at("2026-11-27 12:00")
    )
    assert "withdrawn" in draft.subject
    assert "taken Jane Doe out of the process" in draft.body
    assert "2 follow-up emails" in draft.body


def test_names_cannot_inject_headers_or_template_code() -> None:
    evil = jane(name="${recruiter_name}\r\nBcc: spy@evil.example", role="Analyst\nX-Evil: 1")
    state, _ = state_for(evil)
    draft = drafts.chaser(state, recruiter_name="Sam\r\nBcc: spy@evil.example", clock=clock)
    outgoing = draft.outgoing(from_addr=SAM, from_name="Sam\r\nBcc: spy@evil.example", message_id="<x@agency.example>")
    outgoing = replace(outgoing, subject="Re: hi\r\nBcc: spy@evil.example")
    parsed = message_from_bytes(build_email(outgoing), policy=default)
    assert parsed["Bcc"] is None
    assert parsed["X-Evil"] is None
    assert "\n" not in str(parsed["Subject"])
    # The name's "${recruiter_name}" and "$slots" stay literal text: substitution is single-pass.
    assert draft.body.startswith("Hi ${recruiter_name},")
    assert "Analyst X-Evil: 1 interview" in draft.body


def test_user_template_overrides_the_built_in(tmp_path) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "chaser_1.txt").write_text("Hello $first_name! $unknown_field stays. {{ 7*7 }}\n")
    state, _ = state_for(jane())
    draft = drafts.chaser(state, recruiter_name="Sam", clock=clock, templates_dir=tmp_path)
    assert draft.body == "Hello Jane! $unknown_field stays. {{ 7*7 }}\n"


def test_a_later_chaser_restates_the_slots_of_the_first_email_and_answers_the_last() -> None:
    state, sent = state_for(jane(), chasers=1)
    draft = drafts.chaser(state, recruiter_name="Sam", clock=clock)
    assert "Tuesday at 10:00" in draft.body  # from the first email, not the "Checking in" chaser
    assert state.scheduling_message is not None and draft.in_reply_to == state.scheduling_message.message_id
    assert draft.in_reply_to != sent.message_id and draft.references[0] == sent.message_id


def test_a_template_cannot_add_headers(tmp_path) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "chaser_1.txt").write_text("Bcc: spy@evil.example\r\nSubject: owned\r\n\r\nHi $first_name\n")
    state, _ = state_for(jane())
    draft = drafts.chaser(state, recruiter_name="Sam", clock=clock, templates_dir=tmp_path)
    raw = build_email(draft.outgoing(from_addr=SAM, from_name="Sam", message_id="<t@agency.example>"))
    parsed = message_from_bytes(raw, policy=default)
    assert parsed["Bcc"] is None
    assert parsed["Subject"] == "Re: Acme interview"
    assert "Bcc: spy@evil.example" in parsed.get_content()  # it stays in the body, as text


def test_chaser_goes_to_the_address_the_scheduling_email_went_to() -> None:
    # Two addresses on the roster; the recruiter wrote to the second one.
    candidate = jane(emails=("jane@oldjob.example", "jd.home@example.net"))
    sent = msg("2026-11-23 10:00", SAM, "jd.home@example.net", "Acme interview", SLOTS)
    (state,) = evaluate(Inputs([candidate], [sent], RECRUITER, POLICY), at("2026-11-24 12:00"))
    draft = drafts.chaser(state, recruiter_name="Sam", clock=clock)
    assert draft.to == ("jd.home@example.net",)
    assert draft.in_reply_to == sent.message_id


def test_chaser_follows_the_address_of_the_latest_email_in_the_wait() -> None:
    candidate = jane(emails=("jane@oldjob.example", "jd.home@example.net"))
    sent = msg("2026-11-23 10:00", SAM, "jane@oldjob.example", "Acme interview", SLOTS)
    chased = msg(
        "2026-11-24 10:00",
        SAM,
        ("jd.home@example.net", "jane@oldjob.example"),
        "Re: Acme interview",
        "Checking in",
        reply_to=sent,
    )
    (state,) = evaluate(Inputs([candidate], [sent, chased], RECRUITER, POLICY), at("2026-11-25 12:00"))
    draft = drafts.chaser(state, recruiter_name="Sam", clock=clock)
    assert draft.to == ("jd.home@example.net", "jane@oldjob.example")
    assert draft.in_reply_to == chased.message_id


def test_chaser_to_the_first_address_when_the_email_named_none() -> None:
    # A tagged thread whose scheduling email went to an address the roster does not list.
    candidate = jane(emails=("jane@example.com",))
    sent = msg("2026-11-23 10:00", SAM, "someone@else.example", "Acme interview", SLOTS, tags=("Jane Doe",))
    (state,) = evaluate(Inputs([candidate], [sent], RECRUITER, POLICY), at("2026-11-24 12:00"))
    assert state.waiting_since is not None
    draft = drafts.chaser(state, recruiter_name="Sam", clock=clock)
    assert draft.to == ("jane@example.com",)


def _reads_naturally(text: str) -> None:
    lowered = text.lower()
    for bad in ("the the", " ,", " .", " :", "sent 0", "on recently"):
        assert bad not in lowered, (bad, text)
    assert not re.search(r"\S  ", text), text


@pytest.mark.parametrize("role", ["", "Analyst"])
@pytest.mark.parametrize("employer", ["", "Acme"])
def test_every_template_reads_naturally_with_and_without_role_and_employer(role: str, employer: str) -> None:
    from inbox_watch.models import Status, evolve

    candidate = jane(role=role, employer=employer)
    now = at("2026-11-27 12:00")
    for chasers in range(3):
        state, _ = state_for(candidate, chasers)
        body = drafts.chaser(state, recruiter_name="Sam", clock=clock).body
        _reads_naturally(body)
        assert (f"the {role} interview" if role else "the interview") in body
        update = drafts.employer_update(state, recruiter_name="Sam", clock=clock, now=now)
        withdrawn = drafts.employer_update(
            evolve(state, status=Status.PULLED), recruiter_name="Sam", clock=clock, now=now
        )
        for draft in (update, withdrawn):
            _reads_naturally(draft.body)
            _reads_naturally(draft.subject)
            assert (f"for the {role} role" if role else "for the role") in draft.body
    state, _ = state_for(candidate)
    assert ("with Acme" if employer else "with the employer") in drafts.chaser(
        state, recruiter_name="S", clock=clock
    ).body


def test_employer_update_before_any_follow_up_does_not_count_zero() -> None:
    state, _ = state_for(jane(), chasers=0)
    assert state.chasers_sent == 0 and not state.touches
    draft = drafts.employer_update(state, recruiter_name="Sam", clock=clock, now=at("2026-11-27 12:00"))
    assert "0 follow-up" not in draft.body and "since" not in draft.body
    assert "haven't had a confirmation yet.\n\nI'll update you again by" in draft.body
    assert "I'll update you again by" in draft.body


def test_employer_update_lists_what_was_tried() -> None:
    from inbox_watch.models import Touch

    state, _ = state_for(jane(), chasers=0)
    state = replace(state, touches=(Touch("Jane Doe", "call", at("2026-11-26 12:45")),))
    draft = drafts.employer_update(state, recruiter_name="Sam", clock=clock, now=at("2026-11-27 12:00"))
    assert "haven't had a confirmation yet. I've since called." in draft.body
    state, _ = state_for(jane(), chasers=2)
    state = replace(state, touches=(Touch("Jane Doe", "text", at("2026-11-26 12:45")),))
    draft = drafts.employer_update(state, recruiter_name="Sam", clock=clock, now=at("2026-11-27 12:00"))
    assert "I've since sent 2 follow-up emails and texted." in draft.body


def test_an_empty_value_takes_its_space_with_it() -> None:
    assert drafts.render("about the $role interview", {"role": ""}) == "about the interview"
    assert drafts.render("$role interview", {"role": ""}) == "interview"
    assert drafts.render("for the ${role} role.", {"role": ""}) == "for the role."
    assert drafts.render("costs $$5 $role", {"role": ""}) == "costs $5"
    assert drafts.render("the $role role", {"role": "Data\x00 Analyst"}) == "the Data Analyst role"


def test_withdrawal_note_for_a_pulled_candidate_as_the_engine_reports_them() -> None:
    # Pulled, the engine still reports the wait (since when, chasers sent), which the note quotes.
    sent = msg("2026-11-23 10:00", SAM, "jane@example.com", "Acme interview", SLOTS)
    inputs = Inputs([jane(role="")], [sent], RECRUITER, POLICY, pulled=["Jane Doe"])
    (state,) = evaluate(inputs, at("2026-11-27 12:00"))
    draft = drafts.employer_update(state, recruiter_name="Sam", clock=clock, now=at("2026-11-27 12:00"))
    _reads_naturally(draft.body)
    assert (
        "I sent the interview times on Monday 23 November and haven't had a reply. I've taken Jane Doe out"
        in draft.body
    )


def _employer_case(from_name: str = "Priya Shah"):  # type: ignore[no-untyped-def]
    from inbox_watch.engine.state import evaluate_with_threads

    sent = msg("2026-11-23 10:00", SAM, "jane@example.com", "Acme interview", SLOTS)
    asked = replace(
        msg("2026-11-25 09:00", "hr@acme.example", SAM, "Analyst shortlist", "Any news on Jane Doe? We need to plan."),
        from_name=from_name,
        thread_id="t-employer",
    )
    other = msg("2026-11-25 10:00", "hr@acme.example", SAM, "Parking", "Visitors park at the back.")
    now = at("2026-11-26 12:00")
    states, threads = evaluate_with_threads(Inputs([jane()], [sent, asked, other], RECRUITER, POLICY), now)
    return states[0], threads, asked, now


def test_employer_update_answers_the_contacts_message_in_its_thread() -> None:
    state, threads, asked, now = _employer_case()
    assert state.employer_waiting
    contact = drafts.employer_contact(state, threads.values(), now=now, candidates=[state.candidate])
    assert contact is not None and contact.message == asked
    draft = drafts.employer_update(state, recruiter_name="Sam", clock=clock, now=now, contact=contact)
    assert draft.to == ("hr@acme.example",)
    assert draft.subject == "Re: Analyst shortlist"
    assert draft.in_reply_to == asked.message_id and draft.references[-1] == asked.message_id
    assert draft.thread_id == "t-employer" and draft.reply_to_id == asked.id and draft.account == asked.account
    assert draft.body.startswith("Hi Priya,\n")


def test_employer_update_without_a_name_greets_neutrally() -> None:
    state, threads, asked, now = _employer_case(from_name="")
    contact = drafts.employer_contact(state, threads.values(), now=now)
    draft = drafts.employer_update(state, recruiter_name="Sam", clock=clock, now=now, contact=contact)
    assert draft.body.startswith("Hello,\n") and "Hr" not in draft.body
    assert draft.in_reply_to == asked.message_id
    # With no contact found at all: a new thread to the first address, the same greeting.
    plain = drafts.employer_update(state, recruiter_name="Sam", clock=clock, now=now)
    assert plain.body.startswith("Hello,\n") and plain.to == ("hr@acme.example",) and not plain.in_reply_to


def test_employer_contact_ignores_later_mail_and_other_candidates() -> None:
    state, threads, asked, now = _employer_case()
    assert drafts.employer_contact(state, threads.values(), now=at("2026-11-25 08:00")).message is None  # type: ignore[union-attr]
    # "Jane" alone is ambiguous when the contact has two Janes.
    first_only = replace(asked, text="Any news on Jane?", subject="Shortlist")
    elsewhere = [Thread(id="t-elsewhere", messages=(first_only,))]
    janes = [state.candidate, jane(name="Jane Roe", emails=("roe@example.com",))]
    found = drafts.employer_contact(state, elsewhere, now=now, candidates=janes)
    assert found is not None and found.message is None
    found = drafts.employer_contact(state, elsewhere, now=now, candidates=[state.candidate])
    assert found is not None and found.message == first_only


@pytest.mark.parametrize(
    ("display", "greeted"),
    [
        ("Priya Shah", "Priya"),
        ("Shah, Priya", "Priya"),
        ('"Dr. Priya Shah"', "Priya"),
        ("PRIYA SHAH", "Priya"),
        ("Priya Shah (Acme)", "Priya"),
        ("J. Smith", "J. Smith"),
        ("Acme HR", ""),
        ("Talent Acquisition Team", ""),
        ("hr@acme.example", ""),
        ("", ""),
    ],
)
def test_greeting_name(display: str, greeted: str) -> None:
    assert drafts.greeting_name(display) == greeted


def test_an_employer_auto_reply_is_not_the_message_answered() -> None:
    from inbox_watch.engine.state import evaluate_with_threads

    hr = "hr@acme.example"
    sent = msg("2026-11-23 10:00", SAM, ("jane@example.com", hr), "Acme interview", SLOTS)
    away = msg(
        "2026-11-23 10:01",
        hr,
        SAM,
        "Automatic reply: Acme interview",
        "I am out of the office until Monday.",
        reply_to=sent,
        headers=(("auto-submitted", "auto-replied"),),
    )
    now = at("2026-11-26 12:00")
    states, threads = evaluate_with_threads(Inputs([jane()], [sent, away], RECRUITER, POLICY), now)
    contact = drafts.employer_contact(states[0], threads.values(), now=now)
    assert contact is not None and contact.message is None and contact.address == hr
