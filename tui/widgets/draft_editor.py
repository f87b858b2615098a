"""A draft to read and edit: who it goes to, the subject, and the body in a TextArea."""

from __future__ import annotations

from dataclasses import replace

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
        yield Label(f"To: {', '.join(self.draft.to) or '(nobody)'}", id="draft-to")
        yield Label(f"Subject: {self.draft.subject}", id="draft-subject")
        yield TextArea(self.draft.body, id="draft-body", soft_wrap=True, show_line_numbers=False)

    @property
    def body(self) -> TextArea:
        return self.query_one("#draft-body", TextArea)

    def edited(self) -> Draft:
        """Draft is frozen: a copy with the edited body."""
        return replace(self.draft, body=self.body.text)
