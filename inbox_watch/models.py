"""The project's own data types. Providers return these, never SDK objects.

Every type is a frozen, slotted dataclass of plain values, so the engine can take them as pure
input and the store can serialise them with ``to_dict`` / ``from_dict``.
"""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any


def normalise_message_id(value: str) -> str:
    """Return an RFC 5322 Message-ID in its canonical ``<local@domain>`` form ("" stays "")."""
    value = value.strip()
    if not value:
        return ""
    value = value.split()[0]
    if not value.startswith("<"):
        value = "<" + value
    if not value.endswith(">"):
        value = value + ">"
    return value


@dataclass(frozen=True, slots=True)
class MailMessage:
    """One email as the engine needs it: addressing, threading, and a short excerpt.

    ``id`` is the provider's own stable id for the message within the account (IMAP:
    ``folder/uidvalidity/uid``; Gmail: message id; Graph: message id). Addresses are lower-case.
    ``headers`` keeps only the header fields classification reads (lower-case names), e.g.
    ``auto-submitted``, ``x-autoreply``, ``precedence``, ``x-auto-response-suppress``,
    ``content-type``. ``text`` is the first human-readable part, HTML turned into text, capped
    at a few kilobytes; ``calendar`` the text/calendar part; ``delivery_status`` the
    message/delivery-status part of a delivery report (or ""); ``original_message_id`` the
    Message-ID of the message a delivery report is about, when it can be read.

    ``headers_only`` marks a message read in the first step of a two-step sync and kept that
    way: it concerned no one the recruiter tracks, so only its header fields were read (no
    text, calendar or delivery status). The sync reads its text once it comes to concern
    someone (a candidate imported later, a new employer contact).
    """

    account: str
    id: str
    message_id: str
    date: datetime
    from_addr: str
    subject: str = ""
    from_name: str = ""
    to: tuple[str, ...] = ()
    cc: tuple[str, ...] = ()
    in_reply_to: str = ""
    references: tuple[str, ...] = ()
    thread_id: str = ""
    folder: str = ""
    tags: tuple[str, ...] = ()
    headers: tuple[tuple[str, str], ...] = ()
    text: str = ""
    calendar: str = ""
    delivery_status: str = ""
    original_message_id: str = ""
    failed_recipients: tuple[str, ...] = ()
    is_draft: bool = False
    headers_only: bool = False

    def header(self, name: str) -> str:
        """Return the first kept header called ``name`` (case-insensitive), or ""."""
        name = name.lower()
        for key, value in self.headers:
            if key == name:
                return value
        return ""

    @property
    def recipients(self) -> tuple[str, ...]:
        return self.to + self.cc

    def to_dict(self) -> dict[str, Any]:
        data = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        data["date"] = self.date.isoformat()
        for key in ("to", "cc", "references", "tags", "failed_recipients"):
            data[key] = list(data[key])
        data["headers"] = [list(pair) for pair in self.headers]
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> MailMessage:
        if tuple(data)[:22] == _MAIL_FIELDS:  # as ``to_dict`` wrote it: positional, faster
            (account, id_, message_id, date, from_addr, subject, from_name, to, cc, in_reply_to, references,
             thread_id, folder, tags, headers, text, calendar, delivery_status, original_message_id,
             failed_recipients, is_draft, headers_only, *_) = data.values()  # fmt: skip
            return new_mail(
                account, id_, message_id, datetime.fromisoformat(date), from_addr, subject, from_name,
                tuple(to), tuple(cc), in_reply_to, tuple(references), thread_id, folder, tuple(tags),
                tuple(map(tuple, headers)), text, calendar, delivery_status, original_message_id,
                tuple(failed_recipients), is_draft, headers_only,
            )  # fmt: skip
        get = data.get
        return cls(
            account=data["account"],
            id=data["id"],
            message_id=data["message_id"],
            date=datetime.fromisoformat(data["date"]),
            from_addr=data["from_addr"],
            subject=get("subject", ""),
            from_name=get("from_name", ""),
            to=tuple(get("to", ())),
            cc=tuple(get("cc", ())),
            in_reply_to=get("in_reply_to", ""),
            references=tuple(get("references", ())),
            thread_id=get("thread_id", ""),
            folder=get("folder", ""),
            tags=tuple(get("tags", ())),
            headers=tuple((k, v) for k, v in get("headers", ())),
            text=get("text", ""),
            calendar=get("calendar", ""),
            delivery_status=get("delivery_status", ""),
            original_message_id=get("original_message_id", ""),
            failed_recipients=tuple(get("failed_recipients", ())),
            is_draft=get("is_draft", False),
            headers_only=get("headers_only", False),
        )


_MAIL_FIELDS = tuple(f.name for f in dataclasses.fields(MailMessage))


def metadata_doc(message: MailMessage) -> dict[str, Any]:
    """A message kept as threading metadata (``headers_only``, see ``engine.relevance.metadata``)
    as the store keeps it: its ids, threading, date (seconds) and keyed addresses, no more."""
    doc: dict[str, Any] = {"a": message.account, "i": message.id, "d": int(message.date.timestamp())}
    for key, value in (
        ("m", message.message_id),
        ("r", message.in_reply_to),
        ("t", message.thread_id),
        ("o", message.folder),
        ("x", message.original_message_id),
    ):
        if value:
            doc[key] = value
    if message.references:
        doc["f"] = list(message.references)
    doc["p"] = [message.from_addr, *message.to, *message.cc, *message.failed_recipients]
    return doc


def from_metadata_docs(docs: Iterable[Any]) -> list[MailMessage]:
    """``from_metadata_doc`` of each; one damaged on disk (not a record of this shape) is left
    out: it only helps judge relevance, and losing it loses no text."""
    out = []
    for doc in docs:
        try:
            out.append(from_metadata_doc(doc))
        except (KeyError, TypeError, ValueError, AttributeError, OverflowError, OSError):
            continue
    return out


def from_metadata_doc(doc: Mapping[str, Any]) -> MailMessage:
    """The message ``metadata_doc`` kept (its addresses all as recipients after the sender:
    relevance reads them alike)."""
    people = list(doc.get("p") or ("",))
    return MailMessage(
        account=str(doc["a"]),
        id=str(doc["i"]),
        message_id=str(doc.get("m", "")),
        date=datetime.fromtimestamp(int(doc.get("d", 0)), UTC),
        from_addr=str(people[0]),
        to=tuple(str(a) for a in people[1:]),
        in_reply_to=str(doc.get("r", "")),
        references=tuple(str(r) for r in doc.get("f", ())),
        thread_id=str(doc.get("t", "")),
        folder=str(doc.get("o", "")),
        original_message_id=str(doc.get("x", "")),
        headers_only=True,
    )


def _positional_maker(cls: type[Any]) -> Callable[..., Any]:
    """A constructor taking every field positionally, for the bulk paths (a full sync, the
    store read): it sets the slots directly, as ``__init__`` would, in about half the time a
    frozen dataclass's ``__init__`` takes (which goes through ``object.__setattr__`` per field).
    The values must be of the right types already: nothing is checked or defaulted."""
    names = [f.name for f in dataclasses.fields(cls)]
    setters = {f"_set_{name}": getattr(cls, name).__set__ for name in names}
    body = "".join(f"    _set_{name}(obj, {name})\n" for name in names)
    source = f"def make({', '.join(names)}):\n    obj = _new(_cls)\n{body}    return obj\n"
    namespace: dict[str, Any] = {"_new": object.__new__, "_cls": cls, **setters}
    exec(source, namespace)  # noqa: S102 - generated from the field names, as dataclasses does
    make: Callable[..., Any] = namespace["make"]
    make.__doc__ = f"{cls.__name__}(*every field, in order), built without ``__init__``."
    return make


new_mail: Callable[..., MailMessage] = _positional_maker(MailMessage)


@dataclass(frozen=True, slots=True)
class Thread:
    """Messages joined by Message-ID / In-Reply-To / References and the provider's thread id."""

    id: str
    messages: tuple[MailMessage, ...]
    subject: str = ""


@dataclass(frozen=True, slots=True)
class Candidate:
    """A person the recruiter is placing. ``name`` is the key the CLI uses."""

    name: str
    emails: tuple[str, ...] = ()
    phone: str = ""
    role: str = ""
    employer: str = ""
    employer_emails: tuple[str, ...] = ()
    stage: str = ""
    source: str = "roster"  # "roster" or "tag"
    timezone: str = ""  # IANA zone the candidate lives in, from the roster; "" = their number's

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "emails": list(self.emails),
            "phone": self.phone,
            "role": self.role,
            "employer": self.employer,
            "employer_emails": list(self.employer_emails),
            "stage": self.stage,
            "source": self.source,
            **({"timezone": self.timezone} if self.timezone else {}),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Candidate:
        return cls(
            name=data["name"],
            emails=tuple(data.get("emails", ())),
            phone=data.get("phone", ""),
            role=data.get("role", ""),
            employer=data.get("employer", ""),
            employer_emails=tuple(data.get("employer_emails", ())),
            stage=data.get("stage", ""),
            source=data.get("source", "roster"),
            timezone=data.get("timezone", ""),
        )


@dataclass(frozen=True, slots=True)
class Cursor:
    """An account's sync position. ``value`` is opaque to everyone but the provider that made it."""

    account: str
    value: str


@dataclass(frozen=True, slots=True)
class Folder:
    """A folder (IMAP), label (Gmail) or mail folder (Graph) the provider watches."""

    id: str
    name: str
    role: str = ""  # "inbox", "sent", "drafts", "candidate" or ""
    candidate: str = ""  # the candidate name for a Candidates/<Name> folder or tag


@dataclass(frozen=True, slots=True)
class SyncBatch:
    """What one sync pass brought: new or changed messages, removed ids, and the new cursor.

    ``full`` is True when this batch replaces everything stored for the account (a full sync):
    stored messages of the account absent from it are dropped. ``unreadable`` names the
    messages the provider could not read (skipped, or kept as far as they were read); the
    cursor moves past them, so the next pass does not stumble on them again.
    """

    account: str
    messages: tuple[MailMessage, ...]
    cursor: Cursor
    removed: tuple[str, ...] = ()
    full: bool = False
    unreadable: tuple[str, ...] = ()  # one line per message that could not be read (skipped)


@dataclass(frozen=True, slots=True)
class OutgoingMessage:
    """A chaser or employer update ready to be saved as a draft or sent, threaded into a thread.

    ``message_id`` is fixed when the action is queued, so a retry can look it up and never send
    twice. ``reply_to_id`` is the provider id of the message being answered (Graph's createReply
    needs it); ``thread_id`` the provider thread id (Gmail's threadId).
    """

    from_addr: str
    to: tuple[str, ...]
    subject: str
    body: str
    message_id: str
    from_name: str = ""
    cc: tuple[str, ...] = ()
    in_reply_to: str = ""
    references: tuple[str, ...] = ()
    thread_id: str = ""
    reply_to_id: str = ""

    def __post_init__(self) -> None:
        # Every field that becomes a header is made safe text here, once, however the message
        # was made (a draft, a stored action, a test): see inbox_watch.headers.
        from inbox_watch.headers import outgoing_fields

        clean = outgoing_fields(
            from_addr=self.from_addr,
            to=self.to,
            cc=self.cc,
            subject=self.subject,
            from_name=self.from_name,
            in_reply_to=self.in_reply_to,
            references=self.references,
        )
        for name, value in clean.items():
            if value != getattr(self, name):
                object.__setattr__(self, name, value)

    def to_dict(self) -> dict[str, Any]:
        data = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        for key in ("to", "cc", "references"):
            data[key] = list(data[key])
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> OutgoingMessage:
        values = dict(data)
        for key in ("to", "cc", "references"):
            values[key] = tuple(values.get(key, ()))
        return cls(**values)


class ActionKind(enum.StrEnum):
    CHASER = "chaser"
    EMPLOYER_UPDATE = "employer_update"


class ActionMode(enum.StrEnum):
    DRAFT = "draft"
    SEND = "send"


class ActionState(enum.StrEnum):
    QUEUED = "queued"
    SENDING = "sending"  # claimed by one process; others leave it alone
    DONE = "done"
    FAILED = "failed"
    CANCELLED = "cancelled"


@dataclass(frozen=True, slots=True)
class SendReceipt:
    """What ``MailProvider.send`` returns once the mail service has accepted a message.

    ``provider_id`` is the provider's id for the sent copy ("" when there is none to point at);
    ``warning`` one line when the message went out but something after it failed (IMAP: no copy
    could be kept in Sent).
    """

    provider_id: str
    warning: str = ""


@dataclass(frozen=True, slots=True)
class Action:
    """A queued write to a mailbox. Recorded before the provider is called; see outbox.py.

    ``send_started_at`` is written to the store just before a send is handed to the provider
    and cleared when that send failed before anything could go out: while it is set, the
    message may have gone out, and the outbox never sends it again on its own. ``warning`` is
    a note on a done action (sent, but no copy could be kept in Sent).
    """

    id: str
    kind: ActionKind
    mode: ActionMode
    candidate: str
    account: str
    message: OutgoingMessage
    created_at: datetime
    state: ActionState = ActionState.QUEUED
    not_before: datetime | None = None
    done_at: datetime | None = None
    provider_id: str = ""
    error: str = ""
    claimed_at: datetime | None = None
    send_started_at: datetime | None = None
    warning: str = ""
    refused: tuple[str, ...] = ()
    """The recipients the mail service refused for good (SMTP 550 no such user): the
    candidate shows these addresses as failing, as after a bounce."""


class Status(enum.StrEnum):
    SILENT = "silent"
    AWAITING = "awaiting"
    REPLIED = "replied"
    OUT_OF_OFFICE = "out_of_office"
    BOUNCED = "bounced"
    SNOOZED = "snoozed"
    PULLED = "pulled"
    IDLE = "idle"


class NextAction(enum.StrEnum):
    WAIT = "wait"
    SEND_CHASER = "send_chaser"
    CALL = "call"
    TEXT = "text"
    MESSAGE_ON_SOCIAL = "message_on_social"
    UPDATE_EMPLOYER = "update_employer"
    CONSIDER_PULLING = "consider_pulling"
    NONE = "none"


class Kind(enum.StrEnum):
    """What ``classify`` makes of one message."""

    SCHEDULING = "scheduling"
    CALENDAR_RESPONSE = "calendar_response"
    AUTO_REPLY = "auto_reply"
    BOUNCE = "bounce"
    OTHER = "other"


@dataclass(frozen=True, slots=True)
class Classification:
    kind: Kind
    reasons: tuple[str, ...] = ()
    return_date: date | None = None  # out-of-office return date, when stated
    out_of_office: bool = False  # an auto-reply saying the person is away
    human: bool = True  # False for bulk mail and mail-system notices that are not bounces
    delayed: bool = False  # a bounce that only reports a delay: delivery is still being retried


@dataclass(frozen=True, slots=True)
class Touch:
    """A call, text or DM the recruiter logged for a candidate."""

    candidate: str
    channel: str  # "call" | "text" | "dm"
    at: datetime
    note: str = ""


@dataclass(frozen=True, slots=True)
class Snooze:
    """The recruiter's pause on a candidate: the clock stands still from ``since`` (when it was
    set; None when not recorded, read as the start of the wait) to the end of ``until``."""

    candidate: str
    until: date
    reason: str = ""
    since: datetime | None = None


@dataclass(frozen=True, slots=True)
class TeamActivity:
    """Something a teammate did to a candidate (team mode): sent a chaser or an employer
    update, logged a call, text or DM, snoozed or pulled them. ``key`` is stable across reads
    (what tells a new one from one already seen)."""

    key: str
    recruiter: str  # the teammate's name
    kind: str  # "chaser" | "employer_update" | "call" | "text" | "dm" | "snooze" | "pull"
    candidate: str
    at: datetime | None = None
    until: date | None = None  # a snooze's last day


@dataclass(frozen=True, slots=True)
class CandidateState:
    """The engine's verdict on one candidate at ``now``; one row of ``report``."""

    candidate: Candidate
    status: Status
    next_action: NextAction
    waiting_since: datetime | None = None
    silent_business_hours: float = 0.0
    chasers_sent: int = 0
    employer_waiting: bool = False
    out_of_office_until: date | None = None
    score: float = 0.0
    reasons: tuple[str, ...] = ()
    threads: tuple[str, ...] = ()
    last_chaser_at: datetime | None = None
    scheduling_message: MailMessage | None = None  # the latest email of the wait: a reply goes under it
    waiting_message: MailMessage | None = None  # the scheduling email that opened the wait (its slots)
    slot_expires: datetime | None = None
    touches: tuple[Touch, ...] = ()
    rank: int = 0


ProgressCallback = Callable[[int, int | None, str], None]
"""Called as ``progress(done, total_or_None, what)`` during long provider operations."""


def no_progress(done: int, total: int | None, what: str) -> None:
    """A progress callback that shows nothing."""


def evolve(state: CandidateState, **changes: object) -> CandidateState:
    """A copy of ``state`` with ``changes``: ``dataclasses.replace`` without its per-call cost
    (the engine makes tens of thousands of these per evaluation)."""
    new = object.__new__(CandidateState)
    for name in CandidateState.__slots__:
        object.__setattr__(new, name, changes[name] if name in changes else getattr(state, name))
    return new


@dataclass(frozen=True, slots=True)
class Erasure:
    """What ``forget`` erases of one candidate (the engine decides it, the store carries it out)."""

    name: str
    addresses: tuple[str, ...]
    """Every address of theirs (the roster's, and any inferred from their tagged threads)."""
    tags: tuple[str, ...]
    """Their tag (``Candidates/<Name>``), as a name key."""
    messages: frozenset[tuple[str, str]]
    """(account, provider id) of every stored message to erase."""
    message_ids: frozenset[str]
    """The Message-IDs of those messages: a later sync that brings one back drops it."""
