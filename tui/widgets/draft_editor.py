"""A draft to read and edit: who it goes to, the subject, and the body in a TextArea."""

from __future__ import annotations

from dataclasses import replace

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Label, TextArea

from inbox_watch.engine.drafts import Draft


class DraftEditor(Vertical):
    """Shows ``draft``; ``edited()`` returns it with the body as the recruiter left it."""

    def __init__(self, draft: Draft, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.draft = draft

    def compose(self) -> ComposeResult:
        yield Label(Text(f"To: {', '.join(self.draft.to) or '(nobody)'}"), id="draft-to")
        yield Label(Text(f"Subject: {self.draft.subject}"), id="draft-subject")
        yield TextArea(self.draft.body, id="draft-body", soft_wrap=True, show_line_numbers=False)

    def load(self, draft: Draft) -> None:
        """Show another draft in the same widgets."""
        self.draft = draft
        self.query_one("#draft-to", Label).update(Text(f"To: {', '.join(draft.to) or '(nobody)'}"))
        self.query_one("#draft-subject", Label).update(Text(f"Subject: {draft.subject}"))
        if self.body.text != draft.body:
            self.body.load_text(draft.body)

    @property
    def body(self) -> TextArea:
        return self.query_one("#draft-body", TextArea)

    def edited(self) -> Draft:
        """Draft is frozen: a copy with the edited body."""
        return replace(self.draft, body=self.body.text)
