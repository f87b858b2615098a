"""Chasers and employer updates: threading, tone, restated slots, and no injection."""

from __future__ import annotations

from dataclasses import replace
from email import message_from_bytes
from email.policy import default

from inbox_watch.config import Policy
from inbox_watch.engine import drafts
from inbox_watch.engine.clock import BusinessClock
from inbox_watch.engine.state import Inputs, evaluate
from inbox_watch.mime import build_email
from inbox_watch.models import Candidate
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
    assert "Monday 12:00" in draft.body  # one business day later, over the weekend


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
