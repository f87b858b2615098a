"""The command palette (Ctrl+P): every main-screen action, every filter and sort by name, a
jump to any candidate by name, and then Textual's own commands (theme, keys, quit...).

One provider yields them all, product first: Textual orders hits by score and, within a score,
by arrival, so a single provider is the public way to keep its own commands below ours."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from textual.binding import Binding
from textual.command import DiscoveryHit, Hit, Hits, Provider

from tui.screens.main import FILTERS, SORTS, MainScreen

SYSTEM_WEIGHT = 0.5  # a Textual command's match counts half a product command's


def dashboard_commands() -> list[tuple[str, str, str]]:
    """(title, help, action) for each command, taken from the bindings so they never drift."""
    commands = []
    for binding in MainScreen.BINDINGS:
        if isinstance(binding, Binding) and binding.id != "clear_search":
            key = binding.key_display or ("/" if binding.key == "slash" else binding.key)
            commands.append((f"{binding.description} ({key})", binding.tooltip, binding.action))
    for name, _ in FILTERS:
        commands.append((f"Show {name}", f"Filter the table: {name}", f"filter('{name}')"))
    for name, _ in SORTS:
        commands.append((f"Sort by {name}", f"Sort the table by {name}", f"sort('{name}')"))
    return commands


class DashboardCommands(Provider):
    """Runs the chosen action on the main screen, or moves its cursor to a candidate."""

    def _main(self) -> MainScreen | None:
        for screen in reversed(self.app.screen_stack):
            if isinstance(screen, MainScreen):
                return screen
        return None

    def _all(self, screen: MainScreen) -> list[tuple[str, str, Callable[[], object], bool]]:
        """(title, help, callback, ours) in the order they are offered."""
        found: list[tuple[str, str, Callable[[], object], bool]] = [
            (title, help_text, partial(screen.run_action, action), True)
            for title, help_text, action in dashboard_commands()
        ]
        for state in screen.states:
            name = state.candidate.name
            found.append((f"Go to {name}", f"#{state.rank}, {state.status.value}", partial(screen.go_to, name), True))
        for command in self.app.get_system_commands(self.screen):
            found.append((command.title, command.help, command.callback, False))
        return found

    async def discover(self) -> Hits:
        screen = self._main()
        if screen is None:
            return
        for title, help_text, callback, ours in self._all(screen):
            if ours and title.startswith("Go to "):
                continue  # 2,000 names would bury the commands: they come up as you type
            yield DiscoveryHit(title, callback, help=help_text)

    async def search(self, query: str) -> Hits:
        screen = self._main()
        if screen is None:
            return
        matcher = self.matcher(query)
        for title, help_text, callback, ours in self._all(screen):
            score = matcher.match(title)
            if score > 0:
                yield Hit(score if ours else score * SYSTEM_WEIGHT, matcher.highlight(title), callback, help=help_text)
