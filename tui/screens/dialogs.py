"""Small modal dialogs: confirm, quit during a send, log a touch, snooze. Each returns its answer by ``dismiss``.

Every label that carries a name or an error is a ``Text``: never read as markup."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, RadioButton, RadioSet

from inbox_watch.errors import UsageError
from inbox_watch.service import TOUCH_CHANNELS, parse_day

CHANNEL_LABELS = {"call": "Call", "text": "Text", "dm": "DM / social message"}


class ConfirmDialog(ModalScreen[bool]):
    """A yes/no question: ``y`` or Enter says yes, ``n`` or Escape says no."""

    BINDINGS = [
        Binding("y", "answer(True)", "Yes", id="confirm_yes"),
        Binding("n,escape", "answer(False)", "No", id="confirm_no"),
    ]

    def __init__(self, question: str, *, yes: str = "Yes", no: str = "No") -> None:
        super().__init__(classes="dialog")
        self.question, self.yes, self.no = question, yes, no

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog-box"):
            yield Label(Text(self.question), classes="dialog-question")
            with Horizontal(classes="dialog-buttons"):
                yield Button(f"{self.yes} (y)", variant="primary", id="yes")
                yield Button(f"{self.no} (n)", id="no")

    def on_mount(self) -> None:
        self.query_one("#yes", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "yes")

    def action_answer(self, answer: bool) -> None:
        self.dismiss(answer)


class PendingSendDialog(ModalScreen[str]):
    """Asked on quit while a send counts down: ``send`` now, ``cancel`` it, or ``wait`` (keep
    waiting: Escape too). Nothing is sent unless the recruiter picks "send"."""

    BINDINGS = [
        Binding("s", "answer('send')", "Send now", id="pending_send"),
        Binding("c", "answer('cancel')", "Cancel the send", id="pending_cancel"),
        Binding("w,escape", "answer('wait')", "Keep waiting", id="pending_wait"),
    ]

    def __init__(self, what: str) -> None:
        super().__init__(classes="dialog")
        self.what = what

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog-box"):
            yield Label(Text(f"{self.what} is still counting down.\nQuit how?"), classes="dialog-question")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Send now, then quit (s)", variant="primary", id="send")
                yield Button("Cancel the send and quit (c)", variant="error", id="cancel")
                yield Button("Keep waiting (w)", id="wait")

    def on_mount(self) -> None:
        self.query_one("#wait", Button).focus()  # Enter on the default changes nothing

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id or "wait")

    def action_answer(self, answer: str) -> None:
        self.dismiss(answer)


@dataclass(frozen=True)
class TouchEntry:
    channel: str
    note: str


class LogTouchDialog(ModalScreen[TouchEntry | None]):
    """Log a call, text or DM: pick the channel, add a note, Enter to save."""

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="log_cancel")]

    def __init__(self, name: str) -> None:
        super().__init__(classes="dialog")
        self.candidate_name = name

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog-box"):
            yield Label(Text(f"Log a touch for {self.candidate_name}"), classes="dialog-question")
            with RadioSet(id="channel"):
                for index, channel in enumerate(TOUCH_CHANNELS):
                    yield RadioButton(CHANNEL_LABELS[channel], value=index == 0, name=channel)
            yield Input(placeholder="note (optional), Enter to save", id="note")
            yield Label("Resets the ladder step; the silence clock keeps running.", classes="dialog-hint")

    def on_mount(self) -> None:
        self.query_one("#note", Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        pressed = self.query_one("#channel", RadioSet).pressed_button
        channel = (pressed.name if pressed is not None else None) or TOUCH_CHANNELS[0]
        self.dismiss(TouchEntry(channel, event.value.strip()))

    def action_cancel(self) -> None:
        self.dismiss(None)


@dataclass(frozen=True)
class SnoozeEntry:
    until: date
    reason: str


class SnoozeDialog(ModalScreen[SnoozeEntry | None]):
    """Snooze until a date, with a reason. The date is checked before the dialog closes."""

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="snooze_cancel")]

    def __init__(self, name: str, today: date, suggested: date | None = None) -> None:
        super().__init__(classes="dialog")
        self.candidate_name = name
        self.today = today
        self.suggested = suggested or today + timedelta(days=2)

    def compose(self) -> ComposeResult:
        default = self.suggested
        with Vertical(classes="dialog-box"):
            yield Label(Text(f"Snooze {self.candidate_name} until (YYYY-MM-DD)"), classes="dialog-question")
            yield Input(default.isoformat(), id="until")
            yield Input(placeholder="reason (e.g. on holiday), Enter to save", id="reason")
            yield Label("", id="snooze-error", classes="dialog-error")

    def on_mount(self) -> None:
        self.query_one("#reason", Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id == "until":
            self.query_one("#reason", Input).focus()
            return
        error = self.query_one("#snooze-error", Label)
        try:
            until = parse_day(self.query_one("#until", Input).value.strip(), "the date")
        except UsageError as exc:
            error.update(Text(str(exc)))
            return
        if until < self.today:
            error.update(Text(f"{until.isoformat()} is in the past"))
            return
        self.dismiss(SnoozeEntry(until, self.query_one("#reason", Input).value.strip()))

    def action_cancel(self) -> None:
        self.dismiss(None)
