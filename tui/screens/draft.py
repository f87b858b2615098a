"""The draft screen: read and edit a chaser or employer update, then send it (with a countdown
on the main screen) or save it to the mailbox's Drafts folder."""

from __future__ import annotations

from dataclasses import dataclass

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Footer, Label, Static, TextArea

from inbox_watch.engine.drafts import Draft
from inbox_watch.errors import ActionRefused
from inbox_watch.models import ActionMode, CandidateState
from tui.screens.dialogs import ConfirmDialog
from tui.widgets.draft_editor import DraftEditor


@dataclass(frozen=True)
class DraftOutcome:
    """What the recruiter decided: send (after the countdown) or save as a draft."""

    mode: ActionMode
    draft: Draft
    state: CandidateState
    force: bool = False


class DraftScreen(ModalScreen[DraftOutcome | None]):
    """Opens in review mode so one-key commands work; ``i`` edits, Escape stops editing."""

    AUTO_FOCUS = ""  # review mode: one-key commands work until `i`
    BINDINGS = [
        Binding("ctrl+s", "send", "Send", id="draft_send", priority=True),
        Binding("d", "save_draft", "Save to Drafts", id="draft_save"),
        Binding("i", "edit", "Edit", id="draft_edit"),
        Binding("escape", "back", "Back", id="draft_back"),
    ]

    def __init__(self, state: CandidateState, draft: Draft, *, title: str, check_chase: bool, force: bool = False):
        super().__init__()
        self.state, self.draft, self.title_text = state, draft, title
        self.check_chase = check_chase
        self.force = force
        self.refusal = ""

    def compose(self) -> ComposeResult:
        with Vertical(id="draft-box"):
            yield Label(self.title_text, id="draft-title")
            yield DraftEditor(self.draft, id="draft-editor")
            yield Label("", id="draft-warning")
            yield Static(
                "i edit · Esc stop editing, then back · Ctrl+S send (u undoes during the countdown) · d save to Drafts",
                id="draft-hint",
            )
        yield Footer()

    def on_mount(self) -> None:
        if self.check_chase and not self.force:
            self.check_allowed()

    @work(thread=True, exclusive=True, group="draft-check", name="checking the last chaser", exit_on_error=False)
    def check_allowed(self) -> None:
        app = self.app
        try:
            app.workspace.check_chase_allowed(self.state, app.now())  # type: ignore[attr-defined]
        except ActionRefused as exc:
            app.call_from_thread(self._refused, str(exc))

    def _refused(self, reason: str) -> None:
        self.refusal = reason.replace("or use --force", "or send anyway")
        self.query_one("#draft-warning", Label).update(f"Careful: {self.refusal}")

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
        self.dismiss(DraftOutcome(ActionMode.DRAFT, self.editor().edited(), self.state))

    def action_send(self) -> None:
        draft = self.editor().edited()
        if self.refusal and not self.force:

            def answered(yes: bool | None) -> None:
                if yes:
                    self.dismiss(DraftOutcome(ActionMode.SEND, draft, self.state, force=True))

            self.app.push_screen(ConfirmDialog(f"{self.refusal}\n\nSend anyway?", yes="Send anyway"), answered)
            return
        self.dismiss(DraftOutcome(ActionMode.SEND, draft, self.state, force=self.force))
