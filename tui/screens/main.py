"""The main screen: the ranked table, the selected candidate's details, the status bar, and the
one-key actions. Every read of the store and every call to a provider runs in a thread worker;
results come back as the messages nested below, and one handler reports worker failures."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Container
from textual.message import Message
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Input, Static
from textual.worker import Worker, WorkerState, get_current_worker

from inbox_watch import notify, outbox
from inbox_watch.engine.drafts import Draft
from inbox_watch.engine.state import name_fold, tag_key
from inbox_watch.errors import ActionRefused, InboxWatchError
from inbox_watch.models import (
    Action,
    ActionMode,
    ActionState,
    Candidate,
    CandidateState,
    MailMessage,
    NextAction,
    Status,
    Thread,
)
from inbox_watch.sync import SyncResult, sync_all
from inbox_watch.vocabulary import status_word
from tui.countdown import PendingSend, SendCountdown
from tui.dates import day_first
from tui.layout import Layout, natural_widths, plan_layout
from tui.notices import NoticeFeed
from tui.overview import Overview, read_overview
from tui.reading import Classified, webmail_url
from tui.screens.dialogs import (
    ConfirmDialog,
    LogTouchDialog,
    PendingSendDialog,
    SnoozeDialog,
    SnoozeEntry,
    TouchEntry,
)
from tui.screens.draft import DraftOutcome, DraftScreen
from tui.screens.thread import ThreadScreen, thread_text
from tui.sync_schedule import SyncSchedule
from tui.widgets.candidate_table import CandidateTable, row_values
from tui.widgets.detail_pane import DetailPane
from tui.widgets.footer import ScreenFooter
from tui.widgets.status_bar import StatusBar, when

if TYPE_CHECKING:
    from tui.app import InboxWatchApp

NOTICE_CHECK_EVERY = 2.0  # seconds between looks (one stat) at the daemon's notices

Shown = Callable[[CandidateState], bool]


def _status_is(status: Status) -> Shown:
    return lambda state: state.status is status


def _needs_you(state: CandidateState) -> bool:
    return state.next_action not in (NextAction.WAIT, NextAction.NONE)


# (name, which candidates it shows); "f" cycles through them in this order.
FILTERS: tuple[tuple[str, Shown | None], ...] = (
    ("all", None),
    ("needs you", _needs_you),
    *((status_word(s), _status_is(s)) for s in Status),
)

# "S" cycles through these: (name, sort key over (rank order, state)); rank is the report's order.
SORTS: tuple[tuple[str, Callable[[tuple[int, CandidateState]], Any]], ...] = (
    ("rank", lambda item: item[0]),
    ("name", lambda item: (tag_key(item[1].candidate.name), item[0])),
    ("silent", lambda item: (-item[1].silent_business_hours if item[1].waiting_since else 1.0, item[0])),
    (
        "employer",
        lambda item: (not item[1].candidate.employer, item[1].candidate.employer.casefold(), item[0]),
    ),
)


def empty_note(filter_name: str, search: str) -> str:
    """What the table says instead of showing no rows."""
    if search:
        where = "" if filter_name == "all" else f" among {filter_name}"
        return f"No candidates match {search!r}{where}. Escape clears the search."
    if filter_name == "all":
        return (
            "No candidates yet: import a roster (inbox-watch candidates import FILE.csv) "
            "or file a thread under Candidates/<Name>."
        )
    if filter_name == "needs you":
        return "Nobody needs you right now: every candidate is waiting or needs nothing. f shows the next filter."
    return f"No {filter_name} candidates. f shows the next filter."


def digits(text: str) -> str:
    return "".join(ch for ch in text if ch.isdigit())


def search_key(candidate: Candidate) -> tuple[str, str]:
    """What search looks in: name, email addresses, role and employer (folded as ``name_fold``:
    case, spacing and accents do not count), and the phone number's digits."""
    words = " | ".join([candidate.name, *candidate.emails, candidate.role, candidate.employer, candidate.phone])
    return name_fold(words), digits(candidate.phone)


PHONE_CHARS = frozenset("0123456789+-(). ")


def matcher(needle: str) -> Callable[[tuple[str, str]], bool]:
    """Whether a candidate's ``search_key`` holds ``needle`` (folded once, not per candidate):
    in their words ("zoe" finds Zoë, as on the command line), or, for a needle that is a phone
    number (3 digits or more), in the number's digits whatever the spacing ("07700900134")."""
    folded = name_fold(needle)
    number = digits(needle).lstrip("0")
    by_phone = len(number) >= 3 and set(needle) <= PHONE_CHARS

    def matches(key: tuple[str, str]) -> bool:
        return folded in key[0] or (by_phone and number in key[1])

    return matches


def one_line(error: BaseException) -> str:
    if isinstance(error, InboxWatchError):
        return str(error).splitlines()[0] if str(error) else type(error).__name__
    return f"{type(error).__name__}: {error}".splitlines()[0]


class MainScreen(Screen[None]):
    BINDINGS = [
        Binding("c", "chaser", "Chase", id="chaser", tooltip="Draft a chaser in the candidate's thread"),
        Binding(
            "e",
            "employer_update",
            "Employer",
            id="employer_update",
            tooltip="Draft a holding reply to the employer",
        ),
        Binding("l", "log_touch", "Log", id="log_touch", tooltip="Log a call, text or DM"),
        Binding("s", "snooze", "Snooze", id="snooze", tooltip="Snooze until a date, with a reason"),
        Binding("p", "pull", "Pull", id="pull", tooltip="Pull the candidate from the campaign"),
        Binding(
            "P", "unpull", "Unpull", id="unpull", tooltip="Put a pulled candidate back in the campaign", show=False
        ),
        Binding(
            "W",
            "unsnooze",
            "Unsnooze",
            id="unsnooze",
            tooltip="Wake a snoozed candidate: end the snooze now",
            show=False,
        ),
        Binding("r", "sync", "Sync", id="sync", tooltip="Sync every account now"),
        Binding("u", "undo_send", "UNDO send", id="undo_send", tooltip="Cancel the send counting down"),
        Binding(
            "f", "cycle_filter", "Filter", id="cycle_filter", tooltip="Cycle the filter: all, needs you, each status"
        ),
        Binding("slash", "search", "Search", id="search", tooltip="Search by name, email, role, employer or phone"),
        Binding(
            "m",
            "toggle_mine",
            "Mine",
            id="toggle_mine",
            tooltip="Team mode: show only the candidates you own, or the whole team's again",
            show=False,
        ),  # with any filter; in help and the command palette
        Binding(
            "S",
            "cycle_sort",
            "Sort",
            id="cycle_sort",
            tooltip="Cycle the sort: rank, name, silent (longest first), employer",
            show=False,
        ),  # in help and the command palette, not the footer (80 columns)
        Binding(
            "t",
            "toggle_detail",
            "Details",
            id="toggle_detail",
            tooltip="Show or hide the detail pane",
            show=False,
        ),  # not in the footer, to keep it to 80 columns; in help and the command palette
        Binding(
            "right_square_bracket,shift+down",
            "scroll_detail(1)",
            "Details down",
            id="detail_down",
            key_display="] / shift+down",
            tooltip="Scroll the detail pane down (how to reach them, the thread, the touches)",
            show=False,
        ),  # in help and the command palette, not the footer (80 columns)
        Binding(
            "left_square_bracket,shift+up",
            "scroll_detail(-1)",
            "Details up",
            id="detail_up",
            key_display="[ / shift+up",
            tooltip="Scroll the detail pane up",
            show=False,
        ),
        Binding(
            "v",
            "read_thread",
            "Read",
            id="read_thread",
            key_display="enter / v",
            tooltip="Read the whole thread, message by message",
            show=False,
        ),
        Binding(
            "o",
            "open_webmail",
            "Webmail",
            id="open_webmail",
            tooltip="Open the thread in your webmail (Gmail, Outlook, or the IMAP account's webmail_url)",
            show=False,
        ),
        Binding(
            "y", "copy_phone", "Copy phone", id="copy_phone", tooltip="Copy the candidate's phone number", show=False
        ),
        Binding("escape", "clear_search", "Clear search", id="clear_search", show=False),
    ]

    # --- messages from the workers -----------------------------------------------------------

    @dataclass
    class Evaluated(Message):
        overview: Overview
        rows: list[tuple[str, ...]]  # every candidate's row_values, in rank order

    @dataclass
    class SyncProgress(Message):
        done: int
        total: int | None
        what: str

        def can_replace(self, message: Message) -> bool:
            return isinstance(message, MainScreen.SyncProgress)

    @dataclass
    class SyncFinished(Message):
        results: list[SyncResult]
        errors: list[tuple[str, InboxWatchError]]

    @dataclass
    class ActionFinished(Message):
        """An outbox action, touch, snooze or pull finished; ``text`` says what happened."""

        text: str
        error: bool = False
        pulled: CandidateState | None = None
        resync: bool = False

    # --- state -------------------------------------------------------------------------------

    def __init__(self) -> None:
        super().__init__()
        self.states: list[CandidateState] = []
        self.threads: dict[str, Thread] = {}
        self.actions: list[Action] = []  # the outbox as of the last refresh
        self.classified = Classified()  # each message's kind, as the sync kept it (Overview.classes)
        self.filter_index = 0
        self.sort_index = 0
        self.search_text = ""
        self.owners: dict[str, str] = {}  # team mode: candidate name -> the owner's name
        self.mine_only = False  # team mode: only the candidates the recruiter owns
        self._team_seen: frozenset[str] | None = None  # the teammates' actions already told about
        self._search_index: list[tuple[CandidateState, tuple[str, str]]] = []  # (state, search_key), rank order
        self._rows: dict[str, tuple[str, ...]] = {}  # tag_key(name) -> row_values, made by the worker
        self.countdown = SendCountdown()  # the sends waiting for their countdown (tui/countdown.py)
        self._quitting = 0  # sends still going out before the app quits ("send now" on quit)
        self._mailbox_lock = threading.Lock()  # one sync or outbox drain at a time
        self._natural: dict[str, int] = natural_widths(())  # widest value per column, all rows
        self.layout_plan: Layout | None = None
        self._draft_screen: DraftScreen | None = None
        self._thread_screen: ThreadScreen | None = None
        self._detail_hidden = False
        self.painted = False  # True once the table has shown the first evaluation
        self._saved_at: datetime | None = None  # when the saved ranking on show was made
        self._last_saved_rows: list[tuple[str, ...]] | None = None
        self._read_failed = ""  # why the store could not be read, while nothing fresh is shown

    sync_schedule: SyncSchedule  # when to sync (tui/sync_schedule.py), made in compose

    @property
    def iw(self) -> InboxWatchApp:
        return self.app  # type: ignore[return-value]

    @property
    def pending(self) -> tuple[PendingSend, ...]:
        """The sends counting down, oldest first."""
        return self.countdown.pending

    @property
    def syncing(self) -> bool:
        return self.sync_schedule.syncing

    @property
    def daemon_running(self) -> bool | None:
        return self.sync_schedule.daemon_running

    def compose(self) -> ComposeResult:
        yield Input(
            placeholder="search name, email, role, employer, phone; Enter keeps it, Escape clears it", id="search"
        )
        with Container(id="body"):
            yield CandidateTable(id="candidates")
            yield Static("", id="empty")
            yield DetailPane(id="detail")
        yield StatusBar(id="status")
        yield ScreenFooter(compact=True)
        config = self.iw.workspace.config
        self.sync_schedule = SyncSchedule(config.interval, [account.name for account in config.accounts])
        yield self.sync_schedule
        yield self.countdown

    def on_mount(self) -> None:
        self.query_one("#search", Input).display = False
        self.query_one("#empty", Static).display = False
        self.table.focus()
        self.watch(self.countdown, "line", self._show_countdown, init=False)
        self.watch(self.countdown, "waiting", self.refresh_bindings, init=False)
        self._update_title()
        self.refresh_states()
        self._show_saved_ranking()
        self._notices = NoticeFeed(self.iw.workspace.store.path)
        self._notices.new()
        self.set_interval(NOTICE_CHECK_EVERY, self._show_notices, name="daemon-notices")

    def _show_notices(self) -> None:
        """What the daemon told the recruiter (a reply, a candidate turning silent ...): a
        toast, the status bar's note, and a fresh read of the store it came from."""
        fresh = self._notices.new()
        for notice in fresh:
            if notice.kind == "teammate":
                continue  # the dashboard tells these itself, from its own read (on_main_screen_evaluated)
            self.notify(notice.line, title="inbox-watch", markup=False, timeout=10)
            self.status_bar.set_activity(note=notice.line)
        if fresh:
            self.refresh_states()

    def _show_saved_ranking(self) -> None:
        """Paint the table the last run showed, clearly labelled, until the fresh ranking
        arrives (a second or so with thousands of candidates); actions wait for the fresh one."""
        saved = self.iw.saved_ranking
        if saved is None or self.painted:
            return
        self._saved_at, rows = saved
        self._measure(rows)
        self.table.show_saved(rows)
        self._last_saved_rows = rows
        self._update_title()
        self.query_one(DetailPane).show_note("Reading the store...")
        self.status_bar.set_activity(progress=f"reading the store; meanwhile, the ranking as of {self._saved_label()}")
        self.call_after_refresh(self.iw.saved_ranking_painted)

    def _saved_label(self) -> str:
        if self._saved_at is None:
            return ""
        return when(self._saved_at.isoformat(), self.iw.workspace.clock, self.iw.now())

    @property
    def table(self) -> CandidateTable:
        return self.query_one(CandidateTable)

    @property
    def status_bar(self) -> StatusBar:
        return self.query_one(StatusBar)

    def on_resize(self) -> None:
        self._apply_layout()

    def _apply_layout(self) -> None:
        """Share the width between the table and the pane (tui/layout.py) for this terminal
        and the widest values of every candidate (not only those the filter shows, so the
        layout holds still while you search)."""
        if not self.size.width:
            return
        plan = plan_layout(self.size.width, self._natural, team=self.iw.workspace.config.team)
        if plan == self.layout_plan:
            return
        old, self.layout_plan = self.layout_plan, plan
        if old is None or old.narrow != plan.narrow:
            self.set_class(plan.narrow, "-narrow")
            self.query_one(Footer).show_command_palette = not plan.narrow
        self.query_one(DetailPane).styles.width = "100%" if plan.narrow else plan.pane_width
        self.table.set_layout(plan.columns)

    def _measure(self, rows: list[tuple[str, ...]]) -> None:
        self._natural = natural_widths(rows)
        self._apply_layout()

    # --- evaluation --------------------------------------------------------------------------

    @work(thread=True, exclusive=True, group="evaluate", name="reading the store", exit_on_error=False)
    def refresh_states(self) -> None:
        first = self.iw.take_prefetched()  # the first read, started with the app
        overview = first.result() if first is not None else read_overview(self.iw.workspace, self.iw.now())
        if get_current_worker().is_cancelled:  # a newer refresh has started: it will post
            return
        clock, owners = self.iw.workspace.clock, overview.owners
        rows = [row_values(state, clock, owners.get(state.candidate.name, "")) for state in overview.states]
        self.post_message(self.Evaluated(overview, rows))
        # Keep this table for the next start, when it changed (never the filtered view).
        if rows != self._last_saved_rows and self.iw.workspace.store.save_ranking(
            rows, at=overview.now, read_from=overview.read_from
        ):
            self._last_saved_rows = rows

    def on_main_screen_evaluated(self, message: Evaluated) -> None:
        overview = message.overview
        self.states, self.threads, self.actions, self.owners = (
            overview.states,
            overview.threads,
            overview.actions,
            overview.owners,
        )
        self.classified = Classified(overview.classes)
        self._tell_team_activity(overview)
        fresh = not self.painted
        self.painted = True
        self._read_failed = ""
        self._search_index = [(s, search_key(s.candidate)) for s in self.states]
        self._rows = {tag_key(s.candidate.name): row for s, row in zip(self.states, message.rows, strict=True)}
        self._measure(message.rows)
        self._show_states()
        if fresh and self._saved_at is not None and not self.syncing:
            self.status_bar.set_activity(progress="")
        schedule = self.sync_schedule
        schedule.planned(overview.accounts, overview.heartbeat[1] if overview.heartbeat else None, overview.now)
        self.status_bar.set_sync_status(
            overview.accounts, schedule.daemon_running, schedule.interval, self.iw.workspace.clock, overview.now
        )

    def _tell_team_activity(self, overview: Overview) -> None:
        """Team mode: a toast and the status bar's note for each teammate's action on one of
        the recruiter's candidates since the last read (none on the first: not news)."""
        if not self.iw.workspace.config.team:
            return
        config = self.iw.workspace.config
        found = notify.team_notices(
            self._team_seen,
            overview.team_activity,
            overview.owners,
            config.recruiter.name,
            config.policy.timezone,
            overview.now,
        )
        self._team_seen = frozenset(a.key for a in overview.team_activity)
        for notice in found:
            self.notify(notice.line, title="Your candidate", markup=False, timeout=10)
            self.status_bar.set_activity(note=notice.line)

    def on_sync_schedule_sync_now(self, message: SyncSchedule.SyncNow) -> None:
        self.action_sync(message.reason)

    def on_sync_schedule_reread(self) -> None:
        self.refresh_states()  # the daemon syncs: keep its indicator and the table fresh

    def visible_states(self) -> list[CandidateState]:
        shown = FILTERS[self.filter_index][1]
        if self.mine_only:
            shown = self._only_mine(shown)
        needle = self.search_text
        found = matcher(needle)
        items = [
            (rank, s)
            for rank, (s, key) in enumerate(self._search_index)
            if (shown is None or shown(s)) and (not needle or found(key))
        ]
        if self.sort_index:
            items.sort(key=SORTS[self.sort_index][1])
        return [s for _, s in items]

    def _only_mine(self, shown: Shown | None) -> Shown:
        """``shown`` narrowed to the candidates the recruiter owns (team mode's "mine")."""
        me, owners = self.iw.workspace.config.recruiter.name, self.owners

        def mine(state: CandidateState) -> bool:
            return owners.get(state.candidate.name) == me and (shown is None or shown(state))

        return mine

    def _show_states(self) -> None:
        if not self.painted:  # the saved ranking is on show: a filter or search waits for the fresh one
            self._update_title()
            return
        visible = self.visible_states()
        self.table.show(visible, self.iw.workspace.clock, self.owners, self._rows)
        self._show_empty(not visible)
        self._update_title()
        self._show_detail()

    def _show_empty(self, empty: bool) -> None:
        """An empty table says why ("No snoozed candidates") instead of showing nothing."""
        note = self.query_one("#empty", Static)
        if empty:
            text = empty_note(FILTERS[self.filter_index][0], self.search_text)
            if self.mine_only:
                text += " Showing only yours: m shows the whole team's."
            note.update(Text(text))
        if note.display == empty:
            return
        note.display, self.table.display = empty, not empty
        if not empty and self.focused is None:
            self.table.focus()

    def _update_title(self) -> None:
        shown, total = len(self.table.shown), len(self.states)
        mode = "demo mailbox" if self.iw.demo else "inbox-watch"
        if not self.painted:
            total = shown
        title = f"{mode}: {shown} of {total} candidates" if shown != total else f"{mode}: {total} candidates"
        if not self.painted and self._saved_at is not None:
            title += f" as ranked at {self._saved_label()}, refreshing"
        title += f"  filter: {FILTERS[self.filter_index][0]}{' (mine)' if self.mine_only else ''}"
        title += f"  sort: {SORTS[self.sort_index][0]}"
        if self.search_text:
            title += f"  search: {self.search_text!r}"
        self.table.border_title = Text(title)  # a Text: the search text is never read as markup
        self.query_one("#empty", Static).border_title = Text(title)

    def _messages(self, state: CandidateState | None) -> list[MailMessage]:
        if state is None:
            return []
        return [m for tid in state.threads if tid in self.threads for m in self.threads[tid].messages]

    def _show_detail(self) -> None:
        if not self.painted:
            return  # the saved ranking carries no details: the pane says it is reading
        state = self.table.selected
        workspace = self.iw.workspace
        self.query_one(DetailPane).show(
            state, self._messages(state), workspace.config.recruiter, workspace.clock, self.iw.now(), self.classified
        )

    # --- reading -----------------------------------------------------------------------------

    @on(DataTable.RowSelected, "#candidates")
    def _row_selected(self) -> None:
        self.action_read_thread()

    def action_read_thread(self) -> None:
        state = self._selected()
        if state is None:
            return
        workspace = self.iw.workspace
        parts = thread_text(
            self._messages(state), state, workspace.config.recruiter, workspace.clock, self.iw.now(), self.classified
        )
        if self._thread_screen is None:  # built once, reused
            self._thread_screen = ThreadScreen(open_webmail=self.action_open_webmail)
            self.app.install_screen(self._thread_screen, name="thread")
        self._thread_screen.prepare(f"Thread: {state.candidate.name}", parts)
        self.app.push_screen("thread")

    def action_open_webmail(self) -> None:
        state = self._selected()
        if state is None:
            return
        messages = sorted(self._messages(state), key=lambda m: m.date)
        accounts = {a.name: a for a in self.iw.workspace.config.accounts}
        url = next((u for m in reversed(messages) if (u := webmail_url(m, accounts.get(m.account))) is not None), None)
        if url is None:
            kinds = {accounts[m.account].provider for m in messages if m.account in accounts}
            why = (
                "set webmail_url for the IMAP account to open threads in your webmail"
                if "imap" in kinds
                else "no webmail address is known for this mailbox"
            )
            text = f"{state.candidate.name}: {why}." if messages else f"{state.candidate.name}: no thread to open."
            self.status_bar.set_activity(note=text)
            self.notify(text, severity="warning", markup=False)
            return
        self.app.open_url(url)
        self.status_bar.set_activity(note=f"Opened {url}")
        self.notify(f"Opening {url}", markup=False)

    def action_copy_phone(self) -> None:
        state = self._selected()
        if state is None:
            return
        phone = state.candidate.phone
        if not phone:
            self.notify(f"No phone number known for {state.candidate.name}.", severity="warning", markup=False)
            return
        self.app.copy_to_clipboard(phone)
        self.status_bar.set_activity(note=f"Copied {phone} ({state.candidate.name}) to the clipboard.")
        self.notify(f"Copied {phone} to the clipboard.", markup=False)

    @on(DataTable.RowHighlighted, "#candidates")
    def _row_highlighted(self) -> None:
        self._show_detail()

    # --- filter, search, layout --------------------------------------------------------------

    def action_cycle_filter(self) -> None:
        self.set_filter((self.filter_index + 1) % len(FILTERS))

    def set_filter(self, index: int) -> None:
        self.filter_index = index
        self._show_states()

    def action_toggle_mine(self) -> None:
        if not self.iw.workspace.config.team:
            self.notify("Every candidate is yours: mine is for team mode ([store] url).", markup=False)
            return
        self.mine_only = not self.mine_only
        self._show_states()

    def action_cycle_sort(self) -> None:
        self.sort_index = (self.sort_index + 1) % len(SORTS)
        self._show_states()

    def action_sort(self, name: str) -> None:
        for index, (label, _) in enumerate(SORTS):
            if label == name:
                self.sort_index = index
                self._show_states()

    def action_filter(self, name: str) -> None:
        for index, (label, _) in enumerate(FILTERS):
            if label == name:
                self.set_filter(index)

    def go_to(self, name: str) -> None:
        """Show ``name`` in the table (clearing a filter or search that hides them) and select them."""
        if not self.table.select_name(name):
            self.filter_index, self.search_text = 0, ""
            box = self.query_one("#search", Input)
            box.value, box.display = "", False
            self._show_states()
            self.table.select_name(name)
        self.table.focus()

    def action_search(self) -> None:
        box = self.query_one("#search", Input)
        box.display = True
        box.focus()

    @on(Input.Changed, "#search")
    def _search_changed(self, event: Input.Changed) -> None:
        self.search_text = event.value.strip()
        self._show_states()

    @on(Input.Submitted, "#search")
    def _search_submitted(self) -> None:
        self.table.focus()

    def action_clear_search(self) -> None:
        box = self.query_one("#search", Input)
        if box.value:
            box.value = ""
        self.search_text = ""
        box.display = False
        self.table.focus()
        self._show_states()

    def action_scroll_detail(self, direction: int) -> None:
        """Half a pane down (1) or up (-1): the pane never takes focus from the table."""
        detail = self.query_one(DetailPane)
        detail.scroll_relative(y=direction * max(1, detail.scrollable_content_region.height // 2), animate=False)

    def action_toggle_detail(self) -> None:
        self._detail_hidden = not self._detail_hidden
        self.set_class(self._detail_hidden, "-no-detail")

    # --- sync --------------------------------------------------------------------------------

    def action_sync(self, reason: str = "manual") -> None:
        """Sync now. Only a sync the recruiter asked for reports its counts in the status bar."""
        if not self.sync_schedule.request(reason):
            if reason == "manual":
                self.notify("A sync is already running.", markup=False)
            return
        self.status_bar.set_activity(progress="syncing...")
        self.run_sync()

    @work(thread=True, exclusive=True, group="sync", name="sync", exit_on_error=False)
    def run_sync(self) -> None:
        workspace = self.iw.workspace
        last = [0.0]

        def progress(done: int, total: int | None, what: str) -> None:
            moment = time.monotonic()
            if moment - last[0] >= 0.1 or (total is not None and done >= total):
                last[0] = moment
                self.post_message(self.SyncProgress(done, total, what))

        with self._mailbox_lock:
            results, errors = sync_all(workspace.store, workspace.config, factory=workspace.factory, progress=progress)
        self.post_message(self.SyncFinished(results, errors))

    def on_main_screen_sync_progress(self, message: SyncProgress) -> None:
        if self.syncing:
            of = f"/{message.total}" if message.total else ""
            self.status_bar.set_activity(progress=f"syncing {message.what}: {message.done}{of} messages")

    def on_main_screen_sync_finished(self, message: SyncFinished) -> None:
        self.sync_schedule.finished()
        error = "; ".join(f"{name}: {one_line(exc)}" for name, exc in message.errors)
        self.status_bar.set_activity(progress="", error=error)
        if self.sync_schedule.reason == "manual":
            self.status_bar.set_activity(note="; ".join(r.describe() for r in message.results))
        if error:
            self.notify(error, title="Sync failed", severity="error", markup=False)
        for note in (note for result in message.results for note in result.outbox_notes):
            self.notify(note, title="Outbox", severity="warning", markup=False)  # sent with a warning, or not sent
        self.refresh_states()

    # --- one handler for every worker failure ------------------------------------------------

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state is not WorkerState.ERROR:
            return
        worker = event.worker
        if worker.group == "sync":
            self.sync_schedule.finished()
        error = worker.error or Exception("unknown error")
        text = f"{worker.name or 'background task'} failed: {one_line(error)}"
        self.status_bar.set_activity(progress="", error=text)
        self.notify(text, title="Error", severity="error", markup=False)
        if worker.group != "evaluate":
            self.refresh_states()
        elif not self.painted:  # no fresh ranking: take the saved one down rather than leave it up
            self._read_failed = text
            self._saved_at = None
            self.table.show_saved([])
            self._update_title()
            self.query_one(DetailPane).show_note(text)

    # --- drafts, countdown, outbox -----------------------------------------------------------

    def _selected(self) -> CandidateState | None:
        if not self.painted:
            self.notify(
                self._read_failed or "Still reading the store: one moment, then try again.",
                severity="warning",
                markup=False,
            )
            return None
        state = self.table.selected
        if state is None:
            self.notify("No candidate selected.", severity="warning", markup=False)
        return state

    def action_chaser(self) -> None:
        state = self._selected()
        if state is None:
            return
        try:
            draft = self.iw.workspace.chaser_draft(state)
        except ActionRefused as refused:
            try:  # pulled or snoozed is a refusal the CLI's --force overrides: ask instead
                draft = self.iw.workspace.chaser_draft(state, force=True)
            except (InboxWatchError, OSError) as exc:  # nothing to chase at all
                self.notify(one_line(exc), title="No chaser", severity="warning", markup=False)
                return
            reason = one_line(refused).partition("; use --force")[0]

            def answered(yes: bool | None) -> None:
                if yes and self.table.selected_key == tag_key(state.candidate.name):
                    self.open_draft(state, draft, f"Chaser to {state.candidate.name}", check_chase=True)

            self.app.push_screen(ConfirmDialog(f"{reason}.\nWrite a chaser anyway?", yes="Chase"), answered)
            return
        except (InboxWatchError, OSError) as exc:  # OSError: an unreadable template file
            self.notify(one_line(exc), title="No chaser", severity="warning", markup=False)
            return
        self.open_draft(state, draft, f"Chaser to {state.candidate.name}", check_chase=True)

    def action_employer_update(self, state: CandidateState | None = None) -> None:
        state = state or self._selected()
        if state is None:
            return
        try:
            draft = self.iw.workspace.employer_draft(
                state, self.iw.now(), self.threads, [s.candidate for s in self.states]
            )
        except (InboxWatchError, OSError) as exc:  # OSError: an unreadable template file
            self.notify(one_line(exc), title="No employer update", severity="warning", markup=False)
            return
        self.open_draft(
            state,
            draft,
            f"Update to {state.candidate.employer or 'the employer'} about {state.candidate.name}",
            check_chase=False,
        )

    def open_draft(self, state: CandidateState, draft: Draft, title: str, *, check_chase: bool) -> None:
        if self._draft_screen is None:  # built once, reused: opening a draft stays fast
            self._draft_screen = DraftScreen(undo=self.action_undo_send)
            self.app.install_screen(self._draft_screen, name="draft")
        self._draft_screen.prepare(state, draft, title=title, check_chase=check_chase, actions=self.actions)
        self.app.push_screen("draft", self._draft_closed)

    def _draft_closed(self, outcome: DraftOutcome | None) -> None:
        if outcome is None:
            return
        if outcome.mode is ActionMode.DRAFT:
            self.deliver(outcome)
            return
        self.start_countdown(outcome)

    def start_countdown(self, outcome: DraftOutcome) -> None:
        what = "chaser" if outcome.draft.kind == "chaser" else "employer update"
        self.countdown.start(outcome, self.iw.countdown, label=f"{what} to {', '.join(outcome.draft.to)}")

    def _show_countdown(self, text: str) -> None:
        """In the status bar, and on the draft screen too (a draft opened during a countdown)."""
        self.status_bar.set_activity(countdown=text)
        if self._draft_screen is not None:
            self._draft_screen.show_countdown(text)

    def on_send_countdown_due(self, message: SendCountdown.Due) -> None:
        self.deliver(message.pending.outcome)

    def action_undo_send(self) -> None:
        pending = self.countdown.undo()
        if pending is None:
            self.notify("Nothing is waiting to be sent.", markup=False)
            return
        self.status_bar.set_activity(note=f"Undone: the {pending.label} was not sent.")
        self.notify(f"Undone: the {pending.label} was not sent.", markup=False)

    def ask_before_quitting(self) -> None:
        """``q`` while sends count down: hold them and ask: send now (then quit), cancel them
        (then quit), or keep waiting (the countdown goes on from where it was held)."""
        countdown = self.countdown
        if not countdown.hold():
            return  # nothing to ask, or the question is already open
        waiting = countdown.pending
        what = f"The {waiting[-1].label}" + (f" (and {len(waiting) - 1} more)" if len(waiting) > 1 else "")

        def answered(answer: str | None) -> None:
            if answer == "send":
                sends = countdown.take_all()
                self._quitting = len(sends)
                self.status_bar.set_activity(note="Sending now; inbox-watch quits once it is sent.")
                for pending in sends:
                    self.deliver(pending.outcome)
            elif answer == "cancel":
                sends = countdown.take_all()
                self.notify(f"Cancelled: the {', '.join(p.label for p in sends)} was not sent.", markup=False)
                self.app.exit()
            else:  # keep waiting: each send goes on from where it was held
                countdown.resume()

        self.app.push_screen(PendingSendDialog(what), answered)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "undo_send":
            return self.countdown.waiting > 0
        return True

    @work(thread=True, group="outbox", name="sending", exit_on_error=False)
    def deliver(self, outcome: DraftOutcome) -> None:
        """Queue the action (with its stable Message-ID) and carry it out at once."""
        workspace, now = self.iw.workspace, self.iw.now()
        state, draft = outcome.state, outcome.draft
        with self._mailbox_lock:
            try:  # the guard on repeated sends lives in queue
                action = workspace.queue(state, draft, outcome.mode, now, force=outcome.force)
            except ActionRefused as exc:
                self.post_message(self.ActionFinished(f"Not sent: {one_line(exc)}", error=True))
                return
            done = workspace.run_actions({action.id}, now)
        what = "chaser" if draft.kind == "chaser" else "employer update"
        verb = "sent to" if outcome.mode is ActionMode.SEND else "saved to Drafts for"
        result = done[0] if done else None
        if result is not None and result.state is ActionState.DONE:
            but = f", but {result.warning}" if result.warning else ""
            self.post_message(self.ActionFinished(f"The {what} was {verb} {', '.join(draft.to)}{but}.", resync=True))
        elif result is None or (result.state is ActionState.QUEUED and result.send_started_at is None):
            error = result.error if result is not None else "not carried out"
            self.post_message(
                self.ActionFinished(
                    f"The {what} is queued and will be retried at the next sync: {error}",
                    error=True,
                )
            )
        else:  # it may have gone out, or it will not be sent: say which, in the outbox's words
            self.post_message(self.ActionFinished(f"The {outbox.outcome(result)}.", error=True))

    def on_main_screen_action_finished(self, message: ActionFinished) -> None:
        if self._quitting:  # "send now, then quit": quit once the last one has gone (or failed)
            self._quitting -= 1
            if message.error:
                self.notify(message.text, severity="error", markup=False)
            if not self._quitting:
                self.app.exit()
            return
        if message.error:
            self.status_bar.set_activity(error=message.text)
            self.notify(message.text, severity="error", markup=False)
        else:
            self.status_bar.set_activity(note=message.text, error="")
            self.notify(message.text, markup=False)
        if message.pulled is not None:
            self._offer_employer_note(message.pulled)
        if message.resync and not self.syncing:
            self.action_sync("after-send")  # bring what was sent into the store
        else:
            self.refresh_states()

    # --- the recruiter's own records ---------------------------------------------------------

    @work(thread=True, group="records", name="saving", exit_on_error=False)
    def record(self, what: str, change: Callable[[], CandidateState]) -> None:
        state = change()
        pulled = state if state.status is Status.PULLED and what.startswith("Pulled") else None
        self.post_message(self.ActionFinished(what, pulled=pulled))

    def action_log_touch(self) -> None:
        state = self._selected()
        if state is None:
            return

        def logged(entry: TouchEntry | None) -> None:
            if entry is not None:
                name, now = state.candidate.name, self.iw.now()
                self.record(
                    f"Logged a {entry.channel} for {name}.",
                    lambda: self.iw.workspace.log_touch(name, entry.channel, entry.note, now),
                )

        self.app.push_screen(LogTouchDialog(state.candidate.name), logged)

    def action_snooze(self) -> None:
        state = self._selected()
        if state is None:
            return
        clock = self.iw.workspace.clock
        today = clock.local(self.iw.now()).date()
        suggested, business_days = today, 0
        while business_days < 2:  # two business days on, as a starting point
            suggested += timedelta(days=1)
            business_days += clock.is_business_day(suggested)

        def snoozed(entry: SnoozeEntry | None) -> None:
            if entry is not None:
                name, now = state.candidate.name, self.iw.now()
                self.record(
                    f"Snoozed {name} until {entry.until:%a %d %b}.",
                    lambda: self.iw.workspace.snooze(name, entry.until, entry.reason, now),
                )

        self.app.push_screen(
            SnoozeDialog(state.candidate.name, today, suggested, dayfirst=day_first(clock.policy)), snoozed
        )

    def action_pull(self) -> None:
        state = self._selected()
        if state is None:
            return
        name = state.candidate.name
        if state.status is Status.PULLED:

            def put_back(yes: bool | None) -> None:
                if yes:
                    self.action_unpull(state)

            self.app.push_screen(
                ConfirmDialog(f"{name} is already pulled from the campaign.\nPut them back in?", yes="Unpull"),
                put_back,
            )
            return

        def confirmed(yes: bool | None) -> None:
            if yes:
                now = self.iw.now()
                self.record(f"Pulled {name} from the campaign.", lambda: self.iw.workspace.pull(name, now)[0])

        self.app.push_screen(
            ConfirmDialog(
                f"Pull {name} from the campaign?\nThey will stop showing as needing action.",
                yes="Pull",
            ),
            confirmed,
        )

    def action_unpull(self, state: CandidateState | None = None) -> None:
        state = state or self._selected()
        if state is None:
            return
        name, now = state.candidate.name, self.iw.now()
        if state.status is not Status.PULLED:
            self.notify(f"{name} is not pulled.", markup=False)
            return
        self.record(f"{name} is back in the campaign.", lambda: self.iw.workspace.unpull(name, now)[0])

    def action_unsnooze(self) -> None:
        state = self._selected()
        if state is None:
            return
        name, now = state.candidate.name, self.iw.now()
        if state.status is not Status.SNOOZED:
            self.notify(f"{name} is not snoozed.", markup=False)
            return
        self.record(f"{name} is no longer snoozed.", lambda: self.iw.workspace.unsnooze(name, now)[0])

    def _offer_employer_note(self, state: CandidateState) -> None:
        if not state.candidate.employer_emails:
            return

        def answered(yes: bool | None) -> None:
            if yes:
                self.action_employer_update(state)

        self.app.push_screen(
            ConfirmDialog(
                f"Write to {state.candidate.employer or 'the employer'} about {state.candidate.name} now?",
                yes="Write",
            ),
            answered,
        )
