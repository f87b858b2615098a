"""IMAP accounts: imapclient for reading and drafts, smtplib for sending.

``ImapProvider`` implements :class:`inbox_watch.provider.MailProvider`; ``authenticate`` asks for
the password once, checks it by logging in, and keeps it in the keyring (``inbox-watch auth``).
"""

from __future__ import annotations

from .auth import authenticate
from .provider import ImapProvider

__all__ = ["ImapProvider", "authenticate"]
