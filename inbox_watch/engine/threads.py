"""Thread assembly: messages joined by Message-ID / In-Reply-To / References, by the provider's
own thread id, and a delivery report to the message it is about."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Sequence
from operator import attrgetter

from inbox_watch.models import MailMessage, Thread

_PREFIX = re.compile(r"^\s*(?:(?:re|fw|fwd|aw|wg|tr|sv|antw)\s*(?:\[\d+\])?\s*:\s*)+", re.I)


def base_subject(subject: str) -> str:
    """The subject without Re:/Fwd: prefixes."""
    return _PREFIX.sub("", subject).strip()


def assemble_threads(messages: Sequence[MailMessage]) -> list[Thread]:
    """Group ``messages`` into threads; each thread's messages are in date order.

    A thread's id is the provider thread id of its earliest message when it has one, else the
    Message-ID of its earliest message, else the provider message id.
    """
    parent = list(range(len(messages)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = i = parent[parent[i]]  # path halving
        return i

    def join(a: int, b: int) -> None:
        ra, rb = root(a), root(b)
        if ra != rb:
            if ra < rb:
                parent[rb] = ra
            else:
                parent[ra] = rb

    by_message_id: dict[str, int] = {}
    by_thread_id: dict[tuple[str, str], int] = {}
    for i, message in enumerate(messages):
        if message.message_id:
            seen = by_message_id.setdefault(message.message_id, i)
            if seen != i:
                join(seen, i)
        if message.thread_id:
            seen = by_thread_id.setdefault((message.account, message.thread_id), i)
            if seen != i:
                join(seen, i)
    get = by_message_id.get
    for i, message in enumerate(messages):
        if message.in_reply_to:
            j = get(message.in_reply_to)
            if j is not None:
                join(i, j)
        for ref in message.references:
            j = get(ref)
            if j is not None and parent[j] != parent[i]:
                join(i, j)
        if message.original_message_id:
            j = get(message.original_message_id)
            if j is not None:
                join(i, j)
    groups: dict[int, list[MailMessage]] = defaultdict(list)
    for i, message in enumerate(messages):
        groups[root(i)].append(message)
    threads = []
    by_date = attrgetter("date")
    for members in groups.values():
        if len(members) > 1:
            members.sort(key=by_date)
        first = members[0]
        thread_id = first.thread_id or first.message_id or f"{first.account}:{first.id}"
        threads.append(Thread(id=thread_id, messages=tuple(members), subject=base_subject(first.subject)))
    return threads


def dedupe(messages: Sequence[MailMessage]) -> list[MailMessage]:
    """One copy per Message-ID (a message filed in two folders), its tags merged."""
    seen: dict[str, int] = {}
    out: list[MailMessage] = []
    for message in messages:
        key = message.message_id
        if not key:
            out.append(message)
            continue
        index = seen.get(key)
        if index is None:
            seen[key] = len(out)
            out.append(message)
            continue
        kept = out[index]
        if message.tags and not set(message.tags) <= set(kept.tags):
            from dataclasses import replace

            out[index] = replace(kept, tags=tuple(dict.fromkeys(kept.tags + message.tags)))
    return out
