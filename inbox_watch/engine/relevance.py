"""Which messages concern someone the recruiter tracks: the mail whose text a sync reads and keeps.

A message concerns someone when it is from, to or copied to a candidate's address (the
roster's, or one inferred for a tag-only candidate, as ``state`` infers it) or an employer
contact's, when it is tagged ``Candidates/<Name>``, or when it is in a thread that holds such a
message (the recruiter's own messages there included). Threads are assembled as for the report.
Everything else is the recruiter's other mail: a sync keeps only its threading metadata.

Pure: messages in, sets of (account, provider id) out. Addresses are compared as given, so the
same rules hold for mail whose addresses are kept as keyed hashes, given hashed candidates.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace

from inbox_watch.engine.classify import may_be_delivery_report
from inbox_watch.engine.state import _Owners, tag_key
from inbox_watch.engine.threads import assemble_threads
from inbox_watch.models import Candidate, MailMessage

Key = tuple[str, str]  # (account, provider id)


@dataclass(frozen=True, slots=True)
class Relevance:
    related: frozenset[Key]
    """Messages that concern someone: their text is read and kept."""
    reports: frozenset[Key]
    """Messages outside those that may be delivery reports (``classify.may_be_delivery_report``):
    their text is read to learn whom they are about, and kept only if that is someone."""

    def to_read(self) -> frozenset[Key]:
        return self.related | self.reports


def relevance(
    messages: Sequence[MailMessage],
    candidates: Sequence[Candidate],
    recruiter: Iterable[str],
    keyed: Callable[[str], str] | None = None,
) -> Relevance:
    """Which of ``messages`` concern a candidate or an employer contact (see the module).
    ``keyed``: the hash that mail kept as metadata carries its addresses as (``metadata``);
    such mail is matched by the keyed form of every address."""
    people = list(candidates)
    if keyed is not None:
        people = [
            replace(
                c,
                emails=(*c.emails, *(keyed(a.lower()) for a in c.emails)),
                employer_emails=(*c.employer_emails, *(keyed(a.lower()) for a in c.employer_emails)),
            )
            for c in people
        ]
        recruiter = [*recruiter, *(keyed(a.lower()) for a in recruiter)]
    known = {tag_key(c.name) for c in people}
    for tag in sorted({t for m in messages for t in m.tags}):
        if tag_key(tag) not in known:  # a Candidates/<Name> tag the roster lacks is a candidate
            known.add(tag_key(tag))
            people.append(Candidate(name=tag, source="tag"))
    threads = assemble_threads(messages)
    owners = _Owners(people, threads, frozenset(recruiter), "")
    contacts = frozenset(a.lower() for c in people for a in c.employer_emails)
    related: set[Key] = set()
    reports: set[Key] = set()
    for thread, thread_owners in zip(threads, owners.of_threads, strict=True):
        if thread_owners or (contacts and any(_involves(m, contacts) for m in thread.messages)):
            related.update((m.account, m.id) for m in thread.messages)
        else:
            reports.update((m.account, m.id) for m in thread.messages if may_be_delivery_report(m))
    return Relevance(frozenset(related), frozenset(reports))


def _involves(message: MailMessage, addresses: frozenset[str]) -> bool:
    return message.from_addr in addresses or any(a in addresses for a in message.to + message.cc)


def metadata(message: MailMessage, keyed: Callable[[str], str]) -> MailMessage:
    """What is kept of a message that concerns no one: threading metadata only. Its
    Message-ID, In-Reply-To, References, thread id, date, folder and provider id stay (threads
    are joined by them); its addresses become ``keyed`` hashes (enough to know a future
    candidate's or employer contact's address, nothing to read one from); its subject, sender
    name, header fields, text, calendar and delivery status are dropped. A delivery report keeps
    the Message-ID it returns and its failed addresses, keyed."""
    return replace(
        message,
        from_addr=keyed(message.from_addr) if message.from_addr else "#",  # "#": kept as metadata
        subject="",
        from_name="",
        to=tuple(keyed(a) for a in message.to),
        cc=tuple(keyed(a) for a in message.cc),
        headers=(),
        text="",
        calendar="",
        delivery_status="",
        failed_recipients=tuple(keyed(a) for a in message.failed_recipients),
        headers_only=True,
    )


def address_hasher(key: bytes) -> Callable[[str], str]:
    """The keyed hash of an address as mail kept as metadata carries it: ``#`` and 20 hex
    digits of BLAKE2b keyed with ``key`` (lower case, as addresses are compared; no ``@``:
    never a real address). An address already in that form is left as it is."""
    import hashlib
    from functools import lru_cache

    @lru_cache(maxsize=65536)
    def keyed(address: str) -> str:
        if address.startswith("#") and "@" not in address:
            return address
        value = address.lower().encode("utf-8", "surrogatepass")
        return "#" + hashlib.blake2b(value, key=key, digest_size=10).hexdigest()

    return keyed
