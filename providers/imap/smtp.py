"""Sending through SMTP (smtplib): implicit TLS, STARTTLS or plaintext on loopback."""

from __future__ import annotations

import contextlib
import os
import smtplib
import ssl
from collections.abc import Callable
from typing import TYPE_CHECKING

from inbox_watch import send_once
from inbox_watch.errors import AuthError, ConnectionFailed, ProviderError
from inbox_watch.send_once import Answer, Fault
from providers.redact import redact

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

    AUTH only when ``smtp_username`` is set. The envelope (MAIL FROM, RCPT TO) is sent step by
    step so that a failure is known to be before or after the message was handed over: before
    DATA, or a refusal the server answers, raises AuthError, ConnectionFailed or ProviderError
    (nothing went out); a connection lost or timed out once the message is on its way raises
    SendOutcomeUnknown (the shared send-once policy, :mod:`inbox_watch.send_once`, judges what
    the server answered). A recipient refused means the message goes to nobody.

    A 5xx answer to MAIL FROM, to a recipient or to the message (DATA) is final: SendRefused,
    naming the refused recipients and the server's answer. A 4xx is "not now" (greylisting, a
    full queue): ProviderError, and a later pass tries again.
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
    handed_over = False
    password = ""  # known once the login asks for it; blanked from the server's answers

    def hand_over() -> None:
        nonlocal smtp, handed_over, password
        context = ssl_context(account) if security != "none" else None
        if security == "ssl":
            smtp = smtplib.SMTP_SSL(host, port, timeout=TIMEOUT, context=context)
        else:
            smtp = smtplib.SMTP(host, port, timeout=TIMEOUT)
            if security == "starttls":
                smtp.starttls(context=context)
        smtp.ehlo_or_helo_if_needed()
        if account.smtp_username:
            try:
                password = smtp_password(account, imap_password)
                smtp.login(account.smtp_username, password)
            except UnicodeError:  # smtplib sends the credentials as ASCII
                raise AuthError(
                    f"SMTP login to {where} as {account.smtp_username!r} failed: the user name or password has "
                    "characters other than ASCII, which the SMTP login cannot carry"
                ) from None
        options = [f"size={len(raw)}"] if smtp.does_esmtp and smtp.has_extn("size") else []
        if not raw.isascii() and smtp.does_esmtp and smtp.has_extn("8bitmime"):
            options.append("BODY=8BITMIME")  # the body is 8-bit text (Content-Transfer-Encoding: 8bit)
        addresses = (message.from_addr, *recipients)
        if not all(address.isascii() for address in addresses):
            if not (smtp.does_esmtp and smtp.has_extn("smtputf8")):
                raise ProviderError(
                    f"SMTP server {where} cannot take the address {next(a for a in addresses if not a.isascii())!r}: "
                    "it does not offer SMTPUTF8"
                )
            options.append("SMTPUTF8")  # smtplib then sends the envelope as UTF-8
        code, reply = smtp.mail(message.from_addr, options)
        if code != 250:
            raise smtplib.SMTPSenderRefused(code, reply, message.from_addr)
        refused = {}
        for recipient in recipients:
            code, reply = smtp.rcpt(recipient)
            if code not in (250, 251):
                refused[recipient] = (code, reply)
        if refused:
            raise smtplib.SMTPRecipientsRefused(refused)
        handed_over = True  # from here on, a lost connection may come after the server took it
        code, reply = smtp.data(raw)
        if code != 250:
            raise smtplib.SMTPDataError(code, reply)

    def fault_of(exc: Exception) -> Fault | None:
        """What the server answered, for the send-once policy; its own errors raised here."""
        if isinstance(exc, smtplib.SMTPAuthenticationError):
            raise AuthError(
                f"SMTP login to {where} as {account.smtp_username!r} was refused: wrong user name or password"
            ) from None
        if isinstance(exc, smtplib.SMTPNotSupportedError):
            raise ConnectionFailed(
                f"SMTP server {where} does not offer what is needed: {redact(str(exc), password)}"
            ) from None
        if isinstance(exc, smtplib.SMTPRecipientsRefused):
            # 5xx: that address will never take it (550 no such user); 4xx: not now (greylisting).
            final = sorted(a for a, (code, _) in exc.recipients.items() if code >= 500)
            shown = final or sorted(exc.recipients)
            answers = "; ".join(f"{a}: {_answer(*exc.recipients[a], password)}" for a in shown)
            if final:
                return Fault(Answer.REFUSED, f"SMTP server {where} refused {answers}", refused=tuple(final))
            return Fault(Answer.DECLINED, f"SMTP server {where} turned the recipients away for now ({answers})")
        if isinstance(exc, smtplib.SMTPResponseException):
            answer = _answer(exc.smtp_code, exc.smtp_error, password)
            if exc.smtp_code >= 500 and isinstance(exc, (smtplib.SMTPSenderRefused, smtplib.SMTPDataError)):
                return Fault(Answer.REFUSED, f"SMTP server {where} refused the message: {answer}")
            return Fault(Answer.DECLINED, f"SMTP server {where} refused the message for now: {answer}")
        if isinstance(exc, (OSError, smtplib.SMTPException)):  # SMTPServerDisconnected, timeouts, TLS errors
            if isinstance(exc, smtplib.SMTPServerDisconnected):
                detail = f"connection to SMTP server {where} lost: {_reason(exc, password)}"
            elif isinstance(exc, ssl.SSLError):
                detail = f"TLS with SMTP server {where} failed: {_reason(exc, password)}"
            else:
                detail = f"cannot reach SMTP server {where}: {_reason(exc, password)}"
            unclear = (
                f"SMTP server {where} did not confirm the message: the connection was lost after it "
                f"was handed over ({_reason(exc, password)})"
            )
            return Fault(Answer.NONE, detail, reached=handed_over, unclear=unclear)
        return None

    try:
        # One attempt: what the server did not take, a later pass sends (the outbox keeps it).
        send_once.run(hand_over, once=True, attempts=1, fault_of=fault_of)
    finally:
        if smtp is not None:
            with contextlib.suppress(Exception):
                smtp.quit()
            with contextlib.suppress(Exception):
                smtp.close()


def _answer(code: int, text: bytes | str, password: str) -> str:
    """An SMTP answer as one line of text ("550 5.1.1 no such user"), never the password."""
    words = text.decode("utf-8", "replace") if isinstance(text, bytes) else str(text)
    return f"{code} {' '.join(redact(words, password).split())}".strip()
