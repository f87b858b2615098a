"""The whole thread of one candidate, message by message, scrollable (enter or v on the table).

Built once and reused, like the draft screen: ``prepare`` loads the next candidate's messages
into one Static (one renderable for the lot: 40 messages open in a few milliseconds)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

from rich.console import Group
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Static

from inbox_watch.config import RecruiterConfig
from inbox_watch.engine.classify import classify
from inbox_watch.engine.clock import BusinessClock
from inbox_watch.models import CandidateState, Kind, MailMessage
from tui.reading import Classify, bounce_reason
from tui.widgets.detail_pane import message_marker, who_wrote
from tui.widgets.kept import Kept


def thread_text(
    messages: Sequence[MailMessage],
    state: CandidateState,
    recruiter: RecruiterConfig,
    clock: BusinessClock,
    now: datetime,
    classified: Classify = classify,
) -> list[Text]:
    """Every message, oldest first: when, who, what kind, the subject, then the text as kept."""
    parts: list[Text] = []
    shown = sorted((m for m in messages if m.date <= now), key=lambda m: m.date)
    for number, message in enumerate(shown, 1):
        cls = classified(message)
        head = Text(f"{number}/{len(shown)}  {clock.local(message.date):%a %d %b %Y %H:%M}  ", style="bold")
        head.append(who_wrote(message, state, recruiter), style="bold")
        marker = message_marker(cls)
        if marker.plain:
            head.append(" ")
            head.append_text(marker)
        parts.append(head)
        parts.append(Text(f"Subject: {message.subject or '(no subject)'}", style="dim"))
        body = bounce_reason(message) if cls.kind is Kind.BOUNCE else message.text.strip()
        parts.append(Text(body or "(no text kept)"))
        parts.append(Text(""))
    return parts or [Text("No messages.")]


class ThreadScreen(Screen[None]):
    BINDINGS = [
        Binding("escape,q", "back", "Back", id="thread_back"),
        Binding("j", "scroll(1)", "Down", id="thread_down", show=False),
        Binding("k", "scroll(-1)", "Up", id="thread_up", show=False),
        Binding("o", "open_webmail", "Open in webmail", id="thread_open"),
    ]

    def __init__(self, open_webmail: Callable[[], None] | None = None) -> None:
        super().__init__()
        self.open_webmail = open_webmail
        self.title_text = ""
        self.plain = ""  # what the screen shows, without styles
        self._parts: list[Text] = []

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="thread-box"):
            yield Static("", id="thread-body")
        yield Static("[b]esc[/b] Back  [b]up/down j/k pgup/pgdn[/b] Scroll  [b]o[/b] Open in webmail", id="thread-keys")

    def prepare(self, title: str, parts: list[Text]) -> None:
        self.title_text, self._parts = title, parts
        self.plain = "\n".join(p.plain for p in parts)
        if self.is_mounted:
            self._show()

    def on_mount(self) -> None:
        self._show()

    def _show(self) -> None:
        box = self.query_one("#thread-box", VerticalScroll)
        box.border_title = Text(self.title_text)
        self.query_one("#thread-body", Static).update(Kept(Group(*self._parts)))
        box.scroll_home(animate=False)
        box.focus()

    def action_scroll(self, direction: int) -> None:
        self.query_one("#thread-box", VerticalScroll).scroll_relative(y=direction * 3, animate=False)

    def action_open_webmail(self) -> None:
        if self.open_webmail is not None:
            self.open_webmail()

    def action_back(self) -> None:
        self.dismiss(None)
