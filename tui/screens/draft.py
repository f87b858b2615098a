"""The draft screen: read and edit a chaser or employer update, then send it (with a countdown
on the main screen) or save it to the mailbox's Drafts folder."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import Screen
from textual.widgets import Label, Static, TextArea

from inbox_watch.engine.drafts import Draft
from inbox_watch.errors import ActionRefused
from inbox_watch.models import Action, ActionKind, ActionMode, CandidateState
from tui.screens.dialogs import ConfirmDialog
from tui.widgets.draft_editor import DraftEditor


@dataclass(frozen=True)
class DraftOutcome:
    """What the recruiter decided: send (after the countdown) or save as a draft."""

    mode: ActionMode
    draft: Draft
    state: CandidateState
    force: bool = False


class DraftScreen(Screen[DraftOutcome | None]):
    """Opens in review mode so one-key commands work; ``i`` edits, Escape stops editing.

    A full screen rather than a modal (a modal re-renders the 2,000-row table dimmed behind it:
    ~0.2 s per open in bench/tui.py), built once and reused: ``prepare`` loads the next draft.
    """

    AUTO_FOCUS = ""  # review mode: one-key commands work until `i`
    BINDINGS = [
        Binding("ctrl+s", "send", "Send", id="draft_send", priority=True),
        Binding("d", "save_draft", "Save to Drafts", id="draft_save"),
        Binding("i", "edit", "Edit", id="draft_edit"),
        Binding("escape", "back", "Back", id="draft_back"),
        Binding("u", "undo_send", "Undo send", id="draft_undo"),  # the send counting down from before
        Binding("y", "copy", "Copy", id="draft_copy", tooltip="Copy the draft's text to the clipboard"),
        Binding("q", "back", "Back", id="draft_q", show=False),  # never quit the app from a draft
    ]

    def __init__(self, undo: Callable[[], None] | None = None) -> None:
        super().__init__()
        self.undo = undo  # cancels the send counting down (the main screen's ``u``)
        self.state: CandidateState | None = None
        self.draft = Draft(kind="chaser", to=(), subject="", body="")
        self.title_text = ""
        self.check_chase = False
        self.actions: Sequence[Action] = ()
        self.force = False
        self.refusal = ""

    def prepare(
        self,
        state: CandidateState,
        draft: Draft,
        *,
        title: str,
        check_chase: bool,
        actions: Sequence[Action] = (),
        force: bool = False,
    ) -> None:
        """Load a draft to show; call before pushing the screen."""
        self.state, self.draft, self.title_text = state, draft, title
        self.check_chase, self.actions, self.force = check_chase, actions, force
        self.refusal = ""
        if self.is_mounted:
            self._show()

    def compose(self) -> ComposeResult:
        with Vertical(id="draft-box"):
            yield Label(Text(self.title_text), id="draft-title")
            yield DraftEditor(self.draft, id="draft-editor")
            yield Static("", id="draft-warning")
        countdown = Static(Text(self._countdown), id="draft-countdown")
        countdown.display = bool(self._countdown)
        yield countdown
        # The keys as a fixed line rather than a Footer: a Footer recomposes its keys each time
        # the screen is shown, half the cost of opening a draft in bench/tui.py. One row at 80
        # columns (77 characters and the padding).
        yield Static(
            "[b]^s[/b] Send (u undoes)  [b]d[/b] Save to Drafts  [b]i[/b] Edit  [b]y[/b] Copy  "
            "[b]esc[/b] Back / stop editing",
            id="draft-keys",
        )

    def on_mount(self) -> None:
        self._show()

    _countdown = ""

    def show_countdown(self, text: str) -> None:
        """The send counting down on the main screen (a chaser sent just before this draft
        opened), so ``u`` here has something to show it undoes; "" when nothing is."""
        self._countdown = text
        for line in self.query("#draft-countdown").results(Static):  # none until composed
            line.update(Text(text))
            line.display = bool(text)

    def action_undo_send(self) -> None:
        if self.undo is not None:
            self.undo()

    def action_copy(self) -> None:
        """The draft as it stands (edits included) to the clipboard: OSC 52, so it works over
        SSH in terminals that allow it."""
        self.app.copy_to_clipboard(self.editor().body.text)
        self.notify("The draft's text is on the clipboard.", markup=False)

    def _show(self) -> None:
        self.set_focus(None)
        self.query_one("#draft-title", Label).update(Text(self.title_text))
        self.editor().load(self.draft)
        if not self.force and self.state is not None:
            kind = ActionKind.CHASER if self.draft.kind == "chaser" else ActionKind.EMPLOYER_UPDATE
            try:
                # against the outbox as of the last refresh: no store read on the way in; the
                # send itself checks again against the store
                self.app.workspace.check_send_allowed(self.state, kind, self.app.now(), self.actions)  # type: ignore[attr-defined]
            except ActionRefused as exc:
                self.refusal = str(exc).replace("or use --force", "or send anyway")
        self.query_one("#draft-warning", Static).update(Text(f"Careful: {self.refusal}" if self.refusal else ""))

    def editor(self) -> DraftEditor:
        return self.query_one(DraftEditor)

    def action_edit(self) -> None:
        self.editor().body.focus()

    def action_back(self) -> None:
        if isinstance(self.focused, TextArea):
            self.set_focus(None)
            return
        self.dismiss(None)

    def action_save_draft(self) -> None:
        assert self.state is not None
        self.dismiss(DraftOutcome(ActionMode.DRAFT, self.editor().edited(), self.state))

    def action_send(self) -> None:
        assert self.state is not None
        state, draft = self.state, self.editor().edited()
        if self.refusal and not self.force:

            def answered(yes: bool | None) -> None:
                if yes:
                    self.dismiss(DraftOutcome(ActionMode.SEND, draft, state, force=True))

            self.app.push_screen(ConfirmDialog(f"{self.refusal}\n\nSend anyway?", yes="Send anyway"), answered)
            return
        self.dismiss(DraftOutcome(ActionMode.SEND, draft, state, force=self.force))
