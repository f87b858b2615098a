"""Thread assembly: messages joined by Message-ID / In-Reply-To / References, by the provider's
own thread id, and a delivery report to the message it is about."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Sequence

from inbox_watch.models import MailMessage, Thread

_PREFIX = re.compile(r"^\s*(?:(?:re|fw|fwd|aw|wg|tr|sv|antw)\s*(?:\[\d+\])?\s*:\s*)+", re.I)


def base_subject(subject: str) -> str:
    """The subject without Re:/Fwd: prefixes."""
    return _PREFIX.sub("", subject).strip()


class _UnionFind:
    __slots__ = ("parent",)

    def __init__(self, size: int) -> None:
        self.parent = list(range(size))

    def find(self, i: int) -> int:
        parent = self.parent
        root = i
        while parent[root] != root:
            root = parent[root]
        while parent[i] != root:
            parent[i], i = root, parent[i]
        return root

    def union(self, a: int, b: int) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            if ra < rb:
                self.parent[rb] = ra
            else:
                self.parent[ra] = rb


def assemble_threads(messages: Sequence[MailMessage]) -> list[Thread]:
    """Group ``messages`` into threads; each thread's messages are in date order.

    A thread's id is the provider thread id of its earliest message when it has one, else the
    Message-ID of its earliest message, else the provider message id.
    """
    n = len(messages)
    uf = _UnionFind(n)
    by_message_id: dict[str, int] = {}
    by_thread_id: dict[tuple[str, str], int] = {}
    for i, message in enumerate(messages):
        if message.message_id:
            seen = by_message_id.setdefault(message.message_id, i)
            if seen != i:
                uf.union(seen, i)
        if message.thread_id:
            key = (message.account, message.thread_id)
            seen = by_thread_id.setdefault(key, i)
            if seen != i:
                uf.union(seen, i)
    for i, message in enumerate(messages):
        for ref in (message.in_reply_to, *message.references, message.original_message_id):
            if ref:
                j = by_message_id.get(ref)
                if j is not None:
                    uf.union(i, j)
    groups: dict[int, list[MailMessage]] = defaultdict(list)
    for i, message in enumerate(messages):
        groups[uf.find(i)].append(message)
    threads = []
    for members in groups.values():
        members.sort(key=lambda m: m.date)
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
