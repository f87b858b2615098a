"""The models' bulk constructor must build exactly what the dataclass constructor builds."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

from inbox_watch.models import MailMessage, new_mail


def test_new_mail_equals_the_dataclass_constructor() -> None:
    values = {
        "account": "work",
        "id": "INBOX/7/42",
        "message_id": "<m1@agency.example>",
        "date": datetime(2026, 11, 23, 9, 30, tzinfo=UTC),
        "from_addr": "jane@example.com",
        "subject": "Re: Interview slots",
        "from_name": "Jane Doe",
        "to": ("sam@agency.example",),
        "cc": ("amy@client.example",),
        "in_reply_to": "<m0@agency.example>",
        "references": ("<m0@agency.example>",),
        "thread_id": "t1",
        "folder": "INBOX",
        "tags": ("Jane Doe",),
        "headers": (("content-type", "text/plain"),),
        "text": "Tuesday at 10 works.",
        "calendar": "BEGIN:VCALENDAR",
        "delivery_status": "",
        "original_message_id": "",
        "failed_recipients": (),
        "is_draft": True,
        "headers_only": True,
    }
    assert list(values) == [f.name for f in dataclasses.fields(MailMessage)]
    made = new_mail(*values.values())
    built = MailMessage(**values)
    assert type(made) is MailMessage
    assert made == built and hash(made) == hash(built)
    assert made.to_dict() == built.to_dict()
    assert MailMessage.from_dict(built.to_dict()) == built
    try:
        made.subject = "changed"  # type: ignore[misc]
    except dataclasses.FrozenInstanceError:
        pass
    else:  # pragma: no cover - the assertion below explains
        raise AssertionError("a MailMessage made by new_mail must stay frozen")
