"""The selected candidate in full: why they rank where they do, how to reach them, the thread as
a timeline (auto-replies, bounces and calendar replies marked) and the touches logged."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime

from rich.cells import cell_len
from rich.console import Console, ConsoleOptions, RenderResult
from rich.measure import Measurement
from rich.segment import Segment
from rich.style import Style
from rich.text import Span, Text
from textual.containers import VerticalScroll
from textual.widgets import Static

from inbox_watch.config import RecruiterConfig
from inbox_watch.engine.classify import classify
from inbox_watch.engine.clock import BusinessClock
from inbox_watch.engine.contact import reach_by_phone
from inbox_watch.models import CandidateState, Classification, Kind, MailMessage
from inbox_watch.vocabulary import action_word
from tui.reading import Classify, event_line, last_said, timeline_events
from tui.widgets.candidate_table import silent_for, status_text
from tui.widgets.palette import style

SECTION = "bold underline"


def message_marker(cls: Classification) -> Text:
    """What a message is, in words (colour is only a help)."""
    if cls.kind is Kind.AUTO_REPLY:
        return Text("[out of office]" if cls.out_of_office else "[auto-reply]", style=style("cyan"))
    if cls.kind is Kind.BOUNCE:
        return Text("[bounce]", style=style("bold magenta"))
    if cls.kind is Kind.CALENDAR_RESPONSE:
        return Text("[calendar reply]", style=style("green"))
    if cls.kind is Kind.SCHEDULING:
        return Text("[scheduling]", style=style("yellow"))
    if not cls.human:
        return Text("[automated]", style="dim")
    return Text("")


def who_wrote(message: MailMessage, state: CandidateState, recruiter: RecruiterConfig) -> str:
    sender = message.from_addr
    if sender in recruiter.addresses:
        return "you"
    if sender in state.candidate.employer_emails:
        return f"{state.candidate.employer or 'employer'} ({sender})"
    if sender in state.candidate.emails:
        return state.candidate.name
    return message.from_name or sender or "(unknown sender)"


def thread_headers(
    messages: Iterable[MailMessage],
    state: CandidateState,
    recruiter: RecruiterConfig,
    clock: BusinessClock,
    now: datetime,
) -> list[Text]:
    lines = []
    for message in sorted(messages, key=lambda m: m.date):
        if message.date > now:
            continue
        line = Text()
        line.append(f"{clock.local(message.date):%a %d %b %H:%M}  ", style="dim")
        line.append(who_wrote(message, state, recruiter), style="bold")
        marker = message_marker(classify(message))
        if marker.plain:
            line.append(" ")
            line.append_text(marker)
        line.append(f"\n    {message.subject or '(no subject)'}")
        lines.append(line)
    return lines


def describe(
    state: CandidateState,
    messages: Sequence[MailMessage],
    recruiter: RecruiterConfig,
    clock: BusinessClock,
    now: datetime,
    classified: Classify = classify,
) -> list[Text]:
    """The candidate's details as lines of text (the pane shows them; tests read ``.plain``)."""
    candidate = state.candidate
    title = Text(candidate.name, style="bold")
    role = " @ ".join(p for p in (candidate.role, candidate.employer) if p)
    if role:
        title.append(f"  {role}")
    summary = Text("#" + str(state.rank) + "  ")
    summary.append_text(status_text(state.status))
    summary.append(f"  silent: {silent_for(state, clock)}")
    summary.append(f"  chasers: {state.chasers_sent}")
    if state.employer_waiting:
        summary.append("  employer waiting", style="bold")
    summary.append(f"\nnext: {action_word(state.next_action)}")
    if state.out_of_office_until:
        summary.append(f"  (away until {state.out_of_office_until:%a %d %b})")

    parts: list[Text] = [title, summary]
    theirs, boss = last_said(messages, state, recruiter, now, classified)
    if theirs is not None or boss is not None:
        parts.append(Text("\nWhat they wrote", style=SECTION))
        for said in (theirs, boss):
            if said is not None:
                line = Text(f"  {said.who}, {clock.local(said.at):%a %d %b %H:%M}", style="bold")
                if said.what != "wrote":
                    line.append(f" [{said.what}]", style=style("cyan"))
                parts.append(line)
                parts.append(Text(f"    {said.text or '(no text)'}"))
    parts.append(Text(f"\nTimeline ({len(messages)} messages; enter: all)", style=SECTION))
    events = timeline_events(messages, state, recruiter, clock, now, classified)
    parts += [Text(f"  {event_line(event, clock)}") for event in events] or [Text("  no messages")]
    parts.append(Text("\nWhy this rank", style=SECTION))
    parts += [Text(f"  - {reason}") for reason in state.reasons] or [Text("  -")]

    parts.append(Text("\nReach them", style=SECTION))
    for address in candidate.emails:
        parts.append(Text(f"  email  {address}"))
    reach = reach_by_phone(candidate, now, clock)  # the judgment the ranking's reasons use
    lines = reach.lines(clock)
    for index, text in enumerate(lines):
        suggested = reach.suggestion is not None and index == len(lines) - 1
        link = Style(link=reach.phone.tel) if reach.phone.tel and text.strip() == reach.phone.tel else Style()
        parts.append(Text(f"  {text}", style=Style(bold=True) if suggested else link))

    parts.append(Text("\nTouches logged", style=SECTION))
    if state.touches:
        for touch in state.touches:
            line = Text(f"  {clock.local(touch.at):%a %d %b %H:%M}  {touch.channel}")
            if touch.note:
                line.append(f": {touch.note}")
            parts.append(line)
    else:
        parts.append(Text("  none"))
    return parts


def indent_of(line: Text) -> int:
    """The columns a wrapped line of ``line`` starts at: its leading spaces, and a "- " after them."""
    plain = line.plain
    indent = len(plain) - len(plain.lstrip(" "))
    if plain[indent : indent + 2] == "- ":
        indent += 2
    return indent


_JOIN = Text("")  # joining turns each Text's own style into a span, which ``Text.render`` keeps
_PLAIN = Style()  # the style of the space under a wrapped line's indent, as a grid's empty cell has


class HangingLines:
    """The pane's lines, each wrapped to the width with its indent kept on every wrapped line:
    "  - past 5 business days: consider pulling" wraps under "past", not at the pane's edge.

    One renderable for the lot, wrapping each line once per width (Textual asks twice: for
    the height, then for the lines). A rich ``Table.grid`` per line did the same job at about
    ten times the cost: most of a cursor move's time in bench/tui.py."""

    def __init__(self, lines: Sequence[Text]) -> None:
        self.lines = [part for line in lines for part in line.split("\n")]
        self._rendered: tuple[int, list[Segment]] | None = None

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        width = max(1, options.max_width)
        if self._rendered is None or self._rendered[0] != width:
            self._rendered = (width, list(self._render(console, width)))
        yield from self._rendered[1]

    def _render(self, console: Console, width: int) -> Iterator[Segment]:
        for line in self.lines:
            indent = indent_of(line)
            if not indent or indent >= width:
                wrapped = line.wrap(console, width, justify=line.justify or "default", overflow=line.overflow or "fold")
                for part in wrapped:
                    yield from _JOIN.join([part]).render(console, end="")
                    yield Segment.line()
                continue
            # As a two-column grid would: the indent, then the rest wrapped in a column as wide
            # as it needs (at most the rest of the width), each wrapped line padded to it.
            head, body = line[:indent], line[indent:]
            column = max(1, min(cell_len(body.plain), width - indent))
            wrapped = body.wrap(console, column, justify=body.justify or "left", overflow=body.overflow or "ellipsis")
            for number, part in enumerate(wrapped or [body]):
                if number == 0:
                    yield from _JOIN.join([head]).render(console, end="")
                else:
                    yield Segment(" " * indent, _PLAIN)
                yield from _JOIN.join([part]).render(console, end="")
                yield Segment.line()

    def __rich_measure__(self, console: Console, options: ConsoleOptions) -> Measurement:
        widest = max((cell_len(line.plain) for line in self.lines), default=1)
        return Measurement(min(widest, max((indent_of(line) + 1 for line in self.lines), default=1)), widest)


class DetailPane(VerticalScroll):
    """A scrollable description of one candidate."""

    can_focus = False
    plain = ""  # what the pane shows, without styles

    def compose(self):  # type: ignore[no-untyped-def]
        yield Static("No candidate selected.", id="detail-body")

    _drawn: list[tuple[str, str, list[Span]]] | None = None  # what ``show`` last drew

    def show_note(self, text: str) -> None:
        """A line in place of a candidate's details."""
        self._drawn = None
        self.plain = text
        self.query_one("#detail-body", Static).update(Text(text))  # an error's text: never markup
        self.border_title = "Details"

    def show(
        self,
        state: CandidateState | None,
        messages: Sequence[MailMessage],
        recruiter: RecruiterConfig,
        clock: BusinessClock,
        now: datetime,
        classified: Classify = classify,
    ) -> None:
        if state is None:
            self.show_note("No candidate selected.")
            return
        self.border_title = Text(state.candidate.name)  # a Text: a name is never read as markup
        lines = describe(state, messages, recruiter, clock, now, classified)
        drawn = [(line.plain, str(line.style), line.spans) for line in lines]  # Text's == skips .style
        if drawn == self._drawn:
            return  # the same text and styles (a refilter, a refresh): nothing to lay out again
        self._drawn = drawn
        self.plain = "\n".join(line.plain for line in lines)
        self.query_one("#detail-body", Static).update(HangingLines(lines))
