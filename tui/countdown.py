"""The send countdown: a send waits before anything is queued, ``u`` undoes the latest one,
and quitting holds them all while it asks (send now, cancel them, or keep waiting).

A widget with no looks of its own, so that it has Textual's timers and reactives: the main
screen mounts it, shows ``line`` (in the status bar and on the draft screen), lets ``u`` work
while ``waiting`` is not 0, and queues a send when its ``Due`` message comes."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial

from textual.message import Message
from textual.reactive import reactive
from textual.timer import Timer
from textual.widget import Widget

from tui.screens.draft import DraftOutcome

TICK = 0.25  # seconds between updates of the line while something counts down

@dataclass(eq=False)
class PendingSend:
    """One send counting down; ``outcome`` is what the draft screen decided to send."""

    outcome: DraftOutcome
    label: str  # "chaser to ana@example.com", as the line and the notices say it
    deadline: float  # time.monotonic() when it is due
    timer: Timer | None = None
    held: float | None = None  # seconds left when it was held (a question is open)


def countdown_line(pending: Sequence[PendingSend], now: float) -> str:
    """What the recruiter reads about the sends counting down ("" when none does): the latest
    send, the seconds left (or that it is held) and how many more wait behind it."""
    if not pending:
        return ""
    latest = pending[-1]
    more = f" (+{len(pending) - 1} more)" if len(pending) > 1 else ""
    if latest.held is not None:
        return f"Sending {latest.label}{more}: held, {int(latest.held + 0.999)}s left"
    left = max(0, int(latest.deadline - now + 0.999))
    return f"Sending {latest.label} in {left}s{more}  -  press u to undo"


class SendCountdown(Widget):
    DEFAULT_CSS = "SendCountdown { display: none; }"

    line: reactive[str] = reactive("", repaint=False)
    """``countdown_line`` of the sends waiting, kept up to date every ``TICK`` seconds."""
    waiting: reactive[int] = reactive(0, repaint=False)
    """How many sends count down (or are held)."""

    @dataclass
    class Due(Message):
        """A countdown ended: send ``pending.outcome`` now."""

        pending: PendingSend

    def __init__(self) -> None:
        super().__init__()
        self._pending: list[PendingSend] = []
        self._ticker: Timer | None = None

    @property
    def pending(self) -> tuple[PendingSend, ...]:
        """The sends waiting, oldest first."""
        return tuple(self._pending)

    @property
    def held(self) -> bool:
        return any(p.held is not None for p in self._pending)

    def start(self, outcome: DraftOutcome, seconds: float, label: str) -> PendingSend:
        """Count ``seconds`` down, then post ``Due`` for ``outcome``."""
        pending = PendingSend(outcome, label, time.monotonic() + seconds)
        pending.timer = self.set_timer(seconds, partial(self._over, pending), name="send-countdown")
        self._pending.append(pending)
        self._changed()
        return pending

    def undo(self) -> PendingSend | None:
        """Cancel the latest send; None when nothing counts down."""
        if not self._pending:
            return None
        pending = self._pending.pop()
        if pending.timer is not None:
            pending.timer.stop()
        self._changed()
        return pending

    def hold(self) -> bool:
        """Stop every countdown where it is (a question is open); False when nothing counts
        down or they are held already."""
        if not self._pending or self.held:
            return False
        moment = time.monotonic()
        for pending in self._pending:
            if pending.timer is not None:
                pending.timer.stop()
            pending.held = max(0.0, pending.deadline - moment)
        self._changed()
        return True

    def resume(self) -> None:
        """Go on counting down from where each send was held."""
        moment = time.monotonic()
        for pending in self._pending:
            if pending.held is None:
                continue
            left, pending.held = pending.held, None
            pending.deadline = moment + left
            pending.timer = self.set_timer(left, partial(self._over, pending), name="send-countdown")
        self._changed()

    def take_all(self) -> list[PendingSend]:
        """Every send waiting, taken out of the countdown (to send now, or to drop)."""
        sends, self._pending = self._pending, []
        for pending in sends:
            if pending.timer is not None:
                pending.timer.stop()
        self._changed()
        return sends

    def _over(self, pending: PendingSend) -> None:
        if pending not in self._pending:
            return  # undone, or taken
        self._pending.remove(pending)
        self._changed()
        self.post_message(self.Due(pending))

    def _changed(self) -> None:
        if self._pending and self._ticker is None:
            self._ticker = self.set_interval(TICK, self._show, name="countdown-ticker")
        elif not self._pending and self._ticker is not None:
            self._ticker.stop()
            self._ticker = None
        self._show()
        self.waiting = len(self._pending)

    def _show(self) -> None:
        self.line = countdown_line(self._pending, time.monotonic())
