"""Sending through SMTP (smtplib): implicit TLS, STARTTLS or plaintext on loopback."""

from __future__ import annotations

import contextlib
import os
import smtplib
import ssl
from collections.abc import Callable
from typing import TYPE_CHECKING

from inbox_watch.errors import AuthError, ConnectionFailed, ProviderError

from .connect import TIMEOUT, _reason, check_security, ssl_context

if TYPE_CHECKING:
    from inbox_watch.config import AccountConfig
    from inbox_watch.models import OutgoingMessage

DEFAULT_PORTS = {"ssl": 465, "starttls": 587, "none": 25}


def smtp_password(account: AccountConfig, imap_password: Callable[[], str]) -> str:
    if account.smtp_password_env and os.environ.get(account.smtp_password_env):
        return os.environ[account.smtp_password_env]
    return imap_password()


def send_smtp(
    account: AccountConfig,
    message: OutgoingMessage,
    raw: bytes,
    *,
    imap_password: Callable[[], str],
) -> None:
    """Hand ``raw`` to the account's SMTP server for every To and Cc recipient.

    AUTH only when ``smtp_username`` is set. Raises AuthError, ConnectionFailed, ProviderError.
    """
    check_security(account)
    host = account.smtp_host or account.host
    security = account.smtp_security
    port = account.smtp_port or DEFAULT_PORTS.get(security, 465)
    where = f"{host}:{port}"
    recipients = list(dict.fromkeys((*message.to, *message.cc)))
    if not recipients:
        raise ProviderError("the message has no recipients")
    smtp: smtplib.SMTP | None = None
    try:
        context = ssl_context(account) if security != "none" else None
        if security == "ssl":
            smtp = smtplib.SMTP_SSL(host, port, timeout=TIMEOUT, context=context)
        else:
            smtp = smtplib.SMTP(host, port, timeout=TIMEOUT)
            if security == "starttls":
                smtp.starttls(context=context)
        smtp.ehlo_or_helo_if_needed()
        if account.smtp_username:
            smtp.login(account.smtp_username, smtp_password(account, imap_password))
        smtp.sendmail(message.from_addr, recipients, raw)
    except smtplib.SMTPAuthenticationError:
        raise AuthError(
            f"SMTP login to {where} as {account.smtp_username!r} was refused: wrong user name or password"
        ) from None
    except smtplib.SMTPNotSupportedError as exc:
        raise ConnectionFailed(f"SMTP server {where} does not offer what is needed: {exc}") from None
    except smtplib.SMTPServerDisconnected as exc:
        raise ConnectionFailed(f"connection to SMTP server {where} lost: {_reason(exc)}") from None
    except smtplib.SMTPRecipientsRefused as exc:
        refused = ", ".join(sorted(exc.recipients))
        raise ProviderError(f"SMTP server {where} refused the recipients: {refused}") from None
    except smtplib.SMTPResponseException as exc:
        text = exc.smtp_error.decode("utf-8", "replace") if isinstance(exc.smtp_error, bytes) else str(exc.smtp_error)
        raise ProviderError(
            f"SMTP server {where} refused the message: {exc.smtp_code} {' '.join(text.split())}"
        ) from None
    except ssl.SSLError as exc:
        raise ConnectionFailed(f"TLS with SMTP server {where} failed: {_reason(exc)}") from None
    except (OSError, smtplib.SMTPException) as exc:
        raise ConnectionFailed(f"cannot reach SMTP server {where}: {_reason(exc)}") from None
    finally:
        if smtp is not None:
            with contextlib.suppress(Exception):
                smtp.quit()
            with contextlib.suppress(Exception):
                smtp.close()
