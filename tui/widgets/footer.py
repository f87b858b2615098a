"""Textual's Footer, kept from rebuilding its keys while its screen is hidden or when the keys
it would show are the ones it shows.

Textual rebuilds a Footer (a widget per key, each styled afresh) whenever its screen's bindings
may have changed, including when the screen is covered by another: opening a draft or a thread
rebuilt the main screen's hidden footer, about a third of the time to open either in
bench/tui.py. ``bindings_changed`` is the Footer's public hook for that signal; the screen
coming back refreshes its bindings again, so nothing is missed. tests/tui/test_layout.py pins
the Textual version this was checked against."""

from __future__ import annotations

from textual.screen import Screen
from textual.widgets import Footer


class ScreenFooter(Footer):
    _drawn: tuple[object, ...] | None = None

    def bindings_changed(self, screen: Screen[object]) -> None:
        if not screen.is_current:
            return  # hidden behind a draft, the thread or a dialog: its return refreshes them
        keys = tuple(
            (binding.key, binding.action, binding.description, enabled, tooltip)
            for _, binding, enabled, tooltip in screen.active_bindings.values()
            if binding.show
        )
        drawn = (keys, self.show_command_palette)
        if drawn == self._drawn:
            return  # the same keys as on show
        if screen.app.app_focus and self.is_attached:  # when Footer rebuilds
            self._drawn = drawn
        super().bindings_changed(screen)
