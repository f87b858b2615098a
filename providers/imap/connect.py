"""Connecting to IMAP and SMTP servers: security policy, passwords, and error translation.

Every failure becomes one line from :mod:`inbox_watch.errors` that names the server and never
contains the password.
"""

from __future__ import annotations

import contextlib
import imaplib
import ipaddress
import os
import socket
import ssl
from collections.abc import Iterator
from typing import TYPE_CHECKING

import imapclient
from imapclient.exceptions import IMAPClientAbortError, IMAPClientError, LoginError

from inbox_watch.errors import AuthError, ConfigError, ConnectionFailed, ProviderError
from providers.redact import redact

if TYPE_CHECKING:
    from inbox_watch.config import AccountConfig

TIMEOUT = 30.0


def secret_key(account: AccountConfig) -> str:
    """The key the account's IMAP password is stored under (keyring or private file)."""
    return f"imap:{account.name}"


def is_loopback(host: str) -> bool:
    """True for localhost and loopback addresses. No DNS lookup: decided on the text alone."""
    host = host.strip().strip("[]").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_security(account: AccountConfig) -> None:
    """Refuse plaintext connections to anything but loopback, unless allow_insecure is set.

    Raises ConfigError before any network I/O.
    """
    checks = [
        ("security", account.security, account.host),
        ("smtp_security", account.smtp_security, account.smtp_host or account.host),
    ]
    for key, security, host in checks:
        if security not in ("ssl", "starttls", "none"):
            raise ConfigError(f"account {account.name!r}: {key} = {security!r}: expected ssl, starttls or none")
        if security == "none" and not account.allow_insecure and not is_loopback(host):
            raise ConfigError(
                f"account {account.name!r}: {key} = 'none' would send the password unencrypted to "
                f"{host}; use ssl or starttls (or set allow_insecure = true)"
            )


def ssl_context(account: AccountConfig) -> ssl.SSLContext:
    """Certificates checked against the system trust store, or only ``ca_file`` when set."""
    try:
        return ssl.create_default_context(cafile=account.ca_file or None)
    except (OSError, ssl.SSLError) as exc:
        raise ConfigError(f"account {account.name!r}: ca_file = {account.ca_file!r} cannot be read: {exc}") from None


def password_for(account: AccountConfig, env_name: str = "") -> str:
    """The password from the env var ``env_name`` / ``password_env``, else the stored secret."""
    for name in (env_name, account.password_env):
        if name and os.environ.get(name):
            return os.environ[name]
    from inbox_watch.secrets import get_secret

    stored = get_secret(secret_key(account))
    if stored:
        return stored
    hint = f"set ${account.password_env} or " if account.password_env else ""
    raise AuthError(f"no password for account {account.name!r}: {hint}run `inbox-watch auth {account.name}`")


def _reason(exc: BaseException, *secrets: str) -> str:
    if isinstance(exc, ssl.SSLCertVerificationError):
        return exc.verify_message or "certificate verify failed"
    if isinstance(exc, socket.timeout):
        return "timed out"
    if isinstance(exc, socket.gaierror):
        return "unknown host"
    text = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
    return " ".join(redact(str(text), *secrets).split())  # blanked first: a secret may hold spaces


def where(account: AccountConfig) -> str:
    return f"{account.host}:{account.port or default_port(account)}"


def default_port(account: AccountConfig) -> int:
    return 993 if account.security == "ssl" else 143


def connect(account: AccountConfig, password: str) -> imapclient.IMAPClient:
    """Open, secure and log in. Raises ConnectionFailed, AuthError (never a raw socket error)."""
    check_security(account)
    port = account.port or default_port(account)
    context = ssl_context(account) if account.security != "none" else None
    try:
        client = imapclient.IMAPClient(
            account.host,
            port=port,
            ssl=account.security == "ssl",
            ssl_context=context,
            timeout=TIMEOUT,
        )
    except ssl.SSLError as exc:
        raise ConnectionFailed(f"TLS with {where(account)} failed: {_reason(exc)}") from None
    except (OSError, imaplib.IMAP4.error) as exc:
        raise ConnectionFailed(f"cannot reach IMAP server {where(account)}: {_reason(exc)}") from None
    try:
        if account.security == "starttls":
            try:
                client.starttls(context)
            except ssl.SSLError as exc:
                raise ConnectionFailed(f"TLS with {where(account)} failed: {_reason(exc)}") from None
            except IMAPClientError as exc:
                raise ConnectionFailed(f"{where(account)} refused STARTTLS: {_reason(exc, password)}") from None
        try:
            if (account.username + password).isascii():
                client.login(account.username, password)
            else:  # LOGIN is ASCII only; AUTHENTICATE PLAIN carries UTF-8 (RFC 4616)
                client.plain_login(account.username, password)
        except LoginError as exc:
            # imapclient turns every imaplib error during LOGIN into LoginError, a dropped
            # connection (imaplib's abort, kept as the context) included: only the server's
            # answer (a tagged NO) means the password is wrong. tests/faults/test_cut_connections.py
            # fails if imapclient stops keeping the context.
            if isinstance(exc.__context__, imaplib.IMAP4.abort | OSError):
                raise ConnectionFailed(
                    f"connection to {where(account)} lost during login: {_reason(exc.__context__, password)}; "
                    "the password was not checked"
                ) from None
            raise AuthError(
                f"IMAP login to {where(account)} as {account.username!r} was refused: wrong user name or password"
            ) from None
        except UnicodeError:
            raise AuthError(
                f"IMAP login to {where(account)} as {account.username!r} was refused: wrong user name or password"
            ) from None
        except (imaplib.IMAP4.abort, OSError) as exc:  # a timeout or reset imaplib let through
            raise ConnectionFailed(
                f"connection to {where(account)} lost during login: {_reason(exc, password)}; "
                "the password was not checked"
            ) from None
    except BaseException:
        with contextlib.suppress(Exception):
            client.shutdown()
        raise
    return client


@contextlib.contextmanager
def translated(account: AccountConfig, what: str) -> Iterator[None]:
    """Turn imapclient / socket errors raised inside the block into the project's errors."""
    try:
        yield
    except (AuthError, ConnectionFailed, ConfigError):
        raise
    except ssl.SSLError as exc:
        raise ConnectionFailed(f"TLS with {where(account)} failed while {what}: {_reason(exc)}") from None
    except (IMAPClientAbortError, imaplib.IMAP4.abort, OSError, EOFError) as exc:
        raise ConnectionFailed(f"connection to {where(account)} lost while {what}: {_reason(exc)}") from None
    except (IMAPClientError, imaplib.IMAP4.error) as exc:
        raise ProviderError(f"IMAP server {where(account)} refused {what}: {_reason(exc)}") from None
    except (ValueError, KeyError, IndexError) as exc:  # an answer imapclient could not read
        raise ProviderError(
            f"unexpected answer from IMAP server {where(account)} while {what}: {_reason(exc)}"
        ) from exc
