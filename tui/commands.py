"""The command palette (Ctrl+P): every main-screen action and every status filter, by name."""

from __future__ import annotations

from functools import partial

from textual.binding import Binding
from textual.command import DiscoveryHit, Hit, Hits, Provider

from tui.screens.main import FILTERS, MainScreen


def dashboard_commands() -> list[tuple[str, str, str]]:
    """(title, help, action) for each command, taken from the bindings so they never drift."""
    commands = []
    for binding in MainScreen.BINDINGS:
        if isinstance(binding, Binding) and binding.id != "clear_search":
            key = binding.key_display or ("/" if binding.key == "slash" else binding.key)
            commands.append((f"{binding.description} ({key})", binding.tooltip, binding.action))
    for name, _ in FILTERS:
        commands.append((f"Show {name}", f"Filter the table: {name}", f"filter('{name}')"))
    return commands


class DashboardCommands(Provider):
    """Runs the chosen action on the main screen."""

    def _main(self) -> MainScreen | None:
        for screen in reversed(self.app.screen_stack):
            if isinstance(screen, MainScreen):
                return screen
        return None

    async def discover(self) -> Hits:
        screen = self._main()
        if screen is None:
            return
        for title, help_text, action in dashboard_commands():
            yield DiscoveryHit(title, partial(screen.run_action, action), help=help_text)

    async def search(self, query: str) -> Hits:
        screen = self._main()
        if screen is None:
            return
        matcher = self.matcher(query)
        for title, help_text, action in dashboard_commands():
            score = matcher.match(title)
            if score > 0:
                yield Hit(
                    score,
                    matcher.highlight(title),
                    partial(screen.run_action, action),
                    help=help_text,
                )
