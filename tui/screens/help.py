"""The help screen: every key (read from the bindings themselves) and what the columns mean."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from inbox_watch.engine.clock import BusinessClock

COLUMNS_HELP = (
    ("#", "rank: 1 is the most urgent (silent and bounced first, then awaiting, then the rest)"),
    ("Candidate", "the candidate's name"),
    ("Role @ employer", "shown when the terminal is wide enough"),
    ("Status", "silent, awaiting, bounced, out of office, snoozed, replied, pulled, idle"),
    ("Silent", "business time since the unanswered scheduling email ('-' when not waiting)"),
    ("Ch", "chasers sent since then"),
    ("Emp", "'yes' when the employer wrote about the candidate after you last wrote to them"),
    ("Next action", "the next step on the escalation ladder"),
)


def next_action_help(clock: BusinessClock) -> list[tuple[str, str]]:
    """One line per next action: when the ladder says it, and what to do (the policy's figures)."""
    silent = clock.format_hours(clock.policy.silent_after_business_hours)
    days = f"{clock.policy.pull_after_business_days:g}"
    return [
        (
            "wait",
            f"nothing yet: under {silent} of silence, a chaser or touch under a business day ago, away or snoozed",
        ),
        ("send chaser", f"{silent} of business time with no reply: send a short chaser in the same thread (c)"),
        (
            "call",
            "a chaser unanswered for a business day, or a bounced address: ring their mobile at the suggested time",
        ),
        ("text", "a call logged and still no reply: send a text, then log it (l)"),
        ("message on social", "a call and a text logged: try a DM (LinkedIn or the like), then log it (l)"),
        ("update employer", "the employer has asked, or day 3 with no update yet: send them a holding reply (e)"),
        ("consider pulling", f"{days} business days of silence; offer the employer another candidate (p, then e)"),
        ("none", "nothing owed: they replied, no scheduling email is open, or they are pulled"),
    ]


def key_table(bindings: list[tuple[str, str]]) -> Table:
    table = Table.grid(padding=(0, 2))
    table.add_column(style="bold")
    table.add_column()
    for key, description in bindings:
        table.add_row(Text(key), Text(description))  # Text: a key like "[" is not markup
    return table


class HelpScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape,question_mark", "close", "Close help", id="help_close")]

    def __init__(self, keys: list[tuple[str, str]], countdown: float, clock: BusinessClock) -> None:
        super().__init__()
        self.keys = keys
        self.countdown = countdown
        self.clock = clock

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help-box"):
            yield Static(Text("Keys", style="bold underline"))
            yield Static(key_table(self.keys))
            yield Static(Text("\nColumns", style="bold underline"))
            yield Static(key_table(list(COLUMNS_HELP)))
            yield Static(Text("\nNext action", style="bold underline"))
            yield Static(key_table(next_action_help(self.clock)))
            yield Static(
                Text(
                    f"\nSending: Ctrl+S in a draft starts a {self.countdown:g}-second countdown in "
                    "the status "
                    "bar; press u to undo. Nothing is queued or sent until it ends.\n"
                    "Daemon: when `inbox-watch daemon` is running the status bar says so; "
                    "otherwise the "
                    "dashboard syncs on its own every interval.\n\nEscape or ? closes this help."
                )
            )

    def action_close(self) -> None:
        self.dismiss(None)
