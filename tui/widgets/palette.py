"""Styles for statuses and message kinds. Under NO_COLOR (https://no-color.org) colours are
dropped and only bold/dim remain: Textual's own NO_COLOR filter turns red into a dark grey that
is hard to read on a dark background, and the words carry the meaning anyway."""

from __future__ import annotations

import os

from rich.style import Style

from inbox_watch.models import Status

STATUS_STYLE: dict[Status, str] = {
    Status.SILENT: "bold red",
    Status.BOUNCED: "bold magenta",
    Status.AWAITING: "yellow",
    Status.OUT_OF_OFFICE: "cyan",
    Status.SNOOZED: "blue",
    Status.REPLIED: "green",
    Status.PULLED: "dim",
    Status.IDLE: "dim",
}


def no_color() -> bool:
    return bool(os.environ.get("NO_COLOR"))


def style(spec: str) -> Style:
    """``spec`` as a Rich style, without its colours under NO_COLOR."""
    parsed = Style.parse(spec) if spec else Style()
    return parsed.without_color if no_color() else parsed


def status_style(status: Status) -> Style:
    return style(STATUS_STYLE.get(status, ""))
