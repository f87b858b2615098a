"""The CLI's logging set-up: the HTTP and mail SDKs say only what went wrong unless --debug."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from inbox_watch import cli
from inbox_watch.config import AccountConfig
from inbox_watch.errors import AuthError


@pytest.fixture
def sdk_levels() -> Iterator[None]:
    before = {name: logging.getLogger(name).level for name in cli.SDK_LOGGERS}
    yield
    for name, level in before.items():
        logging.getLogger(name).setLevel(level)


@pytest.mark.usefixtures("sdk_levels")
def test_sdk_loggers_are_warning_unless_debug_and_never_debug(tmp_path: Path) -> None:
    missing = str(tmp_path / "absent.toml")
    assert cli.main(["--config", missing, "report"]) == 2
    assert {logging.getLogger(n).level for n in cli.SDK_LOGGERS} == {logging.WARNING}
    assert not logging.getLogger("httpx").isEnabledFor(logging.INFO)
    assert cli.main(["--config", missing, "report", "--debug"]) == 2
    assert {logging.getLogger(n).level for n in cli.SDK_LOGGERS} == {logging.INFO}
    assert not logging.getLogger("httpx").isEnabledFor(logging.DEBUG)


def test_imap_auth_at_end_of_input_is_no_password() -> None:
    from providers.imap.auth import authenticate

    def closed(_: str) -> str:
        raise EOFError

    account = AccountConfig(name="work", provider="imap", host="imap.example.com", username="sam")
    with pytest.raises(AuthError, match="no password entered for account 'work'"):
        authenticate(account, prompt=closed, echo=lambda _: None)
