"""The main screen's footer, which stays put while another screen is on top."""

from __future__ import annotations

from textual.screen import Screen
from textual.widgets import Footer


class DashboardFooter(Footer):
    """A Footer that skips rebuilding its keys while its screen is not the one shown.

    Textual's Footer rebuilds every key widget whenever its screen's bindings change, including
    when the screen loses focus because a draft opened on top: that rebuild was about 40% of
    the time to open a draft in bench/tui.py. The keys are rebuilt on return, when they show.
    """

    def bindings_changed(self, screen: Screen[object]) -> None:
        self._bindings_ready = True
        if screen.app.app_focus and self.is_attached and screen is self.screen:
            self.call_after_refresh(self._recompose_if_shown)

    async def _recompose_if_shown(self) -> None:
        if self.is_attached and self.app.screen is self.screen:
            await self.recompose()
