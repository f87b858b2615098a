"""Classification of single messages, and every real third-party message without an exception."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from inbox_watch.engine.classify import classify, invitation_start, own_text, read_return_date
from inbox_watch.mime import parse_bytes
from inbox_watch.models import Kind
from tests.builders import SAM, at, msg
from tests.conftest import corpus_dir, corpus_params, need_corpus


def test_the_real_corpus_is_there() -> None:
    # The corpus ships beside the checkout (../shared); CI lays it there too.
    assert len(need_corpus()) == 150, f"expected 150 real messages in {corpus_dir()}"


@pytest.mark.parametrize("path", corpus_params(), ids=lambda p: getattr(p, "name", "no-corpus"))
def test_every_real_message_parses_and_classifies(path: Path | None) -> None:
    if path is None:
        need_corpus()
        return
    message = parse_bytes(path.read_bytes(), id=path.name)
    result = classify(message)
    assert result.kind in set(Kind)
    assert result.reasons, "every verdict explains itself"
    json.dumps({"kind": result.kind.value, "reasons": list(result.reasons)})


def test_slots_from_the_recruiter_are_scheduling() -> None:
    m = msg(
        "2026-11-23 10:00",
        SAM,
        "jane@example.com",
        "Acme interview",
        "Hi Jane, Acme can do Tuesday at 10am or Thursday at 2pm. Which suits you best?",
    )
    result = classify(m)
    assert result.kind is Kind.SCHEDULING
    assert any("tuesday" in r.lower() for r in result.reasons)


def test_quoted_history_does_not_make_a_reply_scheduling() -> None:
    text = "Thanks Sam, that's kind of you.\n\nOn Mon, 23 Nov 2026 at 10:00, Sam wrote:\n> Are you free Tuesday at 10am for a call?"
    m = msg("2026-11-23 11:00", "jane@example.com", SAM, "Re: Acme interview", text)
    assert own_text(text).strip() == "Thanks Sam, that's kind of you."
    assert classify(m).kind is Kind.OTHER


def test_human_message_about_being_out_of_office_is_not_an_auto_reply() -> None:
    m = msg(
        "2026-11-23 11:00",
        "jane@example.com",
        SAM,
        "Re: out of office next week?",
        "I'm on holiday until Monday, will reply properly then!",
    )
    assert classify(m).kind is not Kind.AUTO_REPLY


@pytest.mark.parametrize(
    ("headers", "subject"),
    [
        ((("auto-submitted", "auto-replied"),), "Re: slots"),
        ((("x-autoreply", "yes"),), "Re: slots"),
        ((("precedence", "auto_reply"),), "Re: slots"),
        ((), "Automatic reply: Interview slots"),
        ((), "Abwesenheitsnotiz: Interview"),
    ],
)
def test_auto_replies(headers: tuple[tuple[str, str], ...], subject: str) -> None:
    m = msg(
        "2026-11-23 11:00",
        "jane@example.com",
        SAM,
        subject,
        "I am out of the office until 30/11/2026.",
        headers=headers,
    )
    result = classify(m)
    assert result.kind is Kind.AUTO_REPLY
    assert result.out_of_office
    assert result.return_date == date(2026, 11, 30)


def test_calendar_request_hidden_behind_vtimezone_reads_the_vevent_start() -> None:
    calendar = (
        "BEGIN:VCALENDAR\r\nMETHOD:REQUEST\r\nBEGIN:VTIMEZONE\r\nTZID:GMT Standard Time\r\n"
        "BEGIN:STANDARD\r\nDTSTART:16010101T020000\r\nTZOFFSETFROM:+0100\r\nTZOFFSETTO:+0000\r\n"
        "RRULE:FREQ=YEARLY;BYDAY=-1SU;BYMONTH=10\r\nEND:STANDARD\r\nEND:VTIMEZONE\r\n"
        "BEGIN:VEVENT\r\nUID:1\r\nDTSTART;TZID=GMT Standard Time:20261201T100000\r\nSUMMARY:Interview\r\n"
        "END:VEVENT\r\nEND:VCALENDAR\r\n"
    )
    m = msg(
        "2026-11-23 10:00",
        SAM,
        "jane@example.com",
        "Invitation: Interview",
        "",
        calendar=calendar,
        headers=(("auto-submitted", "auto-generated"),),
    )
    assert classify(m).kind is Kind.SCHEDULING
    start = invitation_start(calendar)
    assert start is not None and (start.year, start.month, start.day, start.hour) == (2026, 12, 1, 10)


def test_calendar_reply_with_auto_submitted_is_a_response() -> None:
    m = msg(
        "2026-11-23 10:00",
        "jane@example.com",
        SAM,
        "Accepted: Interview",
        "",
        calendar="BEGIN:VCALENDAR\nMETHOD:REPLY\nBEGIN:VEVENT\nATTENDEE;PARTSTAT=ACCEPTED:mailto:j@example.com\nEND:VEVENT\nEND:VCALENDAR",
        headers=(("auto-submitted", "auto-generated"),),
    )
    result = classify(m)
    assert result.kind is Kind.CALENDAR_RESPONSE
    assert "accepted" in result.reasons[0]


def test_delay_warning_is_a_bounce_that_says_it_is_only_delayed() -> None:
    m = msg(
        "2026-11-23 10:00",
        "mailer-daemon@mx.example",
        SAM,
        "Delivery Status Notification (Delay)",
        "This is a warning",
        delivery_status="Final-Recipient: rfc822; jane@example.com\nAction: delayed",
    )
    result = classify(m)
    assert result.kind is Kind.BOUNCE
    assert result.delayed and not result.human
    assert "delivery to jane@example.com delayed" in result.reasons[0]


def test_plain_text_bounce_from_mailer_daemon() -> None:
    m = msg(
        "2026-11-23 10:00",
        "MAILER-DAEMON@mx.example",
        SAM,
        "failure notice",
        "Sorry, I wasn't able to deliver your message to the following addresses.\n<jane@example.com>:\n550 5.1.1 user unknown",
    )
    assert classify(m).kind is Kind.BOUNCE


def test_a_lone_surrogate_never_raises() -> None:
    m = msg(
        "2026-11-23 10:00", "jane@example.com", SAM, "Slots \ud800", "Tuesday at 10am \ud800 works for me, see you then"
    )
    assert classify(m).kind is Kind.SCHEDULING


def test_broken_mime_never_raises() -> None:
    raw = b'Content-Type: multipart/mixed; boundary="x"\r\nSubject: =?utf-8?q?broken\r\n\r\n--x\r\nContent-Type: multipart/alternative\r\n\r\nno end'
    message = parse_bytes(raw)
    assert classify(message).kind is Kind.OTHER


# Sent on Friday 27 November 2026.
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # A numeric date that reads two ways is taken the way that lands soonest after the message.
        ("I am out of the office until 12/7.", date(2026, 12, 7)),
        ("Back on 7/12, with limited access to email until then.", date(2026, 12, 7)),
        ("I am on leave until 15/3.", None),  # 15 March: more than 30 business days away
        ("I'm on holiday and will be back next week.", date(2026, 11, 30)),
        ("I am away, returning on the 14th.", date(2026, 12, 14)),
        ("Je serai de retour le lundi 7 décembre.", date(2026, 12, 7)),
        ("Ich bin ab Montag, dem 7. Dezember wieder im Büro.", date(2026, 12, 7)),
        ("Estoy de vacaciones hasta el 4 de diciembre.", date(2026, 12, 4)),
        ("Ik ben afwezig tot en met 4 december. Vanaf maandag 7 december ben ik weer op kantoor.", date(2026, 12, 7)),
        ("Sarò fuori ufficio fino al 4 dicembre, rientro lunedì 7 dicembre.", date(2026, 12, 7)),
        ("Estarei de férias até 4 de dezembro, regresso a 7 de dezembro.", date(2026, 12, 7)),
        ("Jestem na urlopie do 4 grudnia. Wracam 7 grudnia.", date(2026, 12, 7)),
        ("I will be out of the office until Friday 20 November.", None),  # an old one left switched on
    ],
)
def test_return_dates_as_people_write_them(text: str, expected: date | None) -> None:
    assert read_return_date(text, at("2026-11-27 10:00")) == expected


def test_lotus_notes_auto_reply_with_a_numeric_return_date() -> None:
    m = msg(
        "2010-04-28 09:00",
        "kim@example.com",
        SAM,
        "AUTO: Kim Lee is out of the office (returning 05/01/2010)",
        "I am out of the office until 05/01/2010.\n\nI will respond to your message when I return.",
    )
    result = classify(m)
    assert result.kind is Kind.AUTO_REPLY and result.out_of_office
    assert result.return_date == date(2010, 5, 1)  # month first: 5 January had already passed


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("I will be back on Monday 30 November 2026.", date(2026, 11, 30)),
        ("I'm away until Monday.", date(2026, 11, 30)),
        ("returning 03/12/2026", date(2026, 12, 3)),
        ("Out of office until 14 December", date(2026, 12, 14)),
        ("Ich bin bis 10.12.2026 nicht im Büro", date(2026, 12, 10)),
        ("I am on leave with no access to email.", None),
    ],
)
def test_return_dates(text: str, expected: date | None) -> None:
    assert read_return_date(text, at("2026-11-25 10:00")) == expected


_INVITE_WITH_METHOD_IN_CONTENT_TYPE = (
    b"From: Kim Lee <kim@example.com>\r\nTo: sam@agency.example\r\nSubject: Invite\r\n"
    b"Date: Fri, 22 Oct 2021 14:15:20 +0300\r\nMessage-ID: <invite@example.com>\r\nMIME-Version: 1.0\r\n"
    b'Content-Type: multipart/alternative; boundary="b"\r\n\r\n'
    b"--b\r\nContent-Type: text/plain\r\n\r\nYou have been invited to a meeting\r\n"
    b"--b\r\nContent-Type: text/calendar; method=REQUEST\r\n\r\n"
    b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\nDTSTART:20211026T090000Z\r\n"
    b"DTEND:20211026T100000Z\r\nUID:1@example.com\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n--b--\r\n"
)


def test_an_invitation_that_names_its_method_only_in_the_content_type_is_scheduling() -> None:
    from providers.imap.fastmime import fast_parse

    header, _, body = _INVITE_WITH_METHOD_IN_CONTENT_TYPE.partition(b"\r\n\r\n")
    fast = fast_parse(
        header + b"\r\n\r\n", body, account="a", id="1", folder="INBOX", tags=(), fallback_date=lambda: None
    )
    assert fast is not None  # the IMAP sync's own parser reads it too
    for message in (parse_bytes(_INVITE_WITH_METHOD_IN_CONTENT_TYPE), fast):
        result = classify(message)
        assert result.kind is Kind.SCHEDULING, result.reasons
        assert result.reasons == ("calendar invitation (METHOD:REQUEST)",)
        assert invitation_start(message.calendar) is not None  # the calendar still parses


def test_a_task_assignment_is_not_a_meeting() -> None:
    raw = _INVITE_WITH_METHOD_IN_CONTENT_TYPE.replace(b"VEVENT", b"VTODO")
    result = classify(parse_bytes(raw))
    assert result.kind is Kind.OTHER
    assert result.reasons == ("a calendar task (a to-do), not a meeting",)


def _raw(headers: str, body: str) -> bytes:
    return (
        "From: Kim Lee <kim@example.com>\r\nTo: sam@agency.example\r\nSubject: Thank you for your e-mail\r\n"
        f"Date: Thu, 15 Jul 2010 14:33:27 +0200\r\nMessage-ID: <m@example.com>\r\n{headers}"
        f"Content-Type: text/plain; charset=utf-8\r\n\r\n{body}\r\n"
    ).encode()


@pytest.mark.parametrize(
    ("headers", "body", "mark"),
    [
        (
            "Precedence: bulk\r\n",
            "Thank you for your e-mail.\nI will endeavour to reply as soon as possible.",
            "Precedence: bulk",
        ),
        (
            "Return-Path: <>\r\n",
            "Vielen Dank für Ihre Nachricht. Wir melden uns so schnell wie möglich.",
            "empty return path",
        ),
        (
            "X-PHP-Originating-Script: 33:envoyer_mail.php\r\n",
            "Merci de votre message, nous vous répondrons dans les plus brefs délais.",
            "web form script",
        ),
    ],
)
def test_an_acknowledgement_sent_by_a_program_is_an_auto_reply(headers: str, body: str, mark: str) -> None:
    result = classify(parse_bytes(_raw(headers, body)))
    assert result.kind is Kind.AUTO_REPLY, result.reasons
    assert "acknowledgement" in result.reasons[0] and mark in result.reasons[0]


def test_a_person_thanking_and_promising_an_answer_stays_human() -> None:
    body = "Thank you for your e-mail. I will reply as soon as possible, probably tomorrow."
    result = classify(parse_bytes(_raw("", body)))
    assert result.kind is Kind.OTHER and result.human, result.reasons


def test_out_of_office_wording_with_an_empty_return_path_is_an_auto_reply() -> None:
    raw = _raw("Return-Path: <>\r\n", "I am out of the office until 20 July and will have limited access to email.")
    result = classify(parse_bytes(raw))
    assert result.kind is Kind.AUTO_REPLY and result.out_of_office, result.reasons
    assert "empty return path" in result.reasons[0]


def test_a_challenge_response_report_is_an_auto_reply_not_a_bounce() -> None:
    raw = (
        b"From: noreply@filter.example\r\nTo: sam@agency.example\r\nSubject: Re: Acme interview (Action Required)\r\n"
        b"Date: Mon, 15 Nov 2010 19:32:07 -0800\r\nMIME-Version: 1.0\r\n"
        b'Content-Type: multipart/report; report-type=delivery-status; boundary="r"\r\n\r\n'
        b'--r\r\nContent-Type: text/plain\r\n\r\nYour message about "Acme interview" has been waitlisted.\r\n'
        b"Please add yourself to my Guest List so your messages will go to my Inbox.\r\n"
        b"--r\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; filter.example\r\n\r\n"
        b"Final-Recipient: rfc822; jane@example.com\r\nAction: failed\r\nStatus: 4.7.0\r\n--r--\r\n"
    )
    result = classify(parse_bytes(raw))
    assert result.kind is Kind.AUTO_REPLY, result.reasons
    assert "challenge-response" in result.reasons[0]
