"""``inbox-watch auth ACCOUNT`` for IMAP: ask for the password, check it, store it."""

from __future__ import annotations

import contextlib
import getpass
from collections.abc import Callable
from typing import TYPE_CHECKING

from inbox_watch.errors import AuthError

from .connect import check_security, connect, secret_key, where

if TYPE_CHECKING:
    from inbox_watch.config import AccountConfig


def authenticate(
    account: AccountConfig,
    *,
    no_browser: bool = False,
    prompt: Callable[[str], str] = getpass.getpass,
    echo: Callable[[str], object] = print,
) -> str:
    """Ask for the IMAP password, verify it by logging in, store it; return one success line.

    ``no_browser`` is accepted for the same signature as the OAuth providers (IMAP needs no
    browser). Raises ConfigError, AuthError (wrong password), ConnectionFailed; no message
    contains the password.
    """
    del no_browser
    check_security(account)
    try:
        password = prompt(f"IMAP password for {account.username} at {where(account)}: ")
    except EOFError:  # stdin closed, or Ctrl+D at the prompt
        echo("")
        password = ""
    if not password:
        raise AuthError(f"no password entered for account {account.name!r}")
    echo(f"Checking the password with {where(account)} ...")
    client = connect(account, password)
    with contextlib.suppress(Exception):
        client.logout()
    from inbox_watch.secrets import set_secret

    stored = set_secret(secret_key(account), password)
    return f"signed in to {where(account)} as {account.username}; password stored in {stored}"
