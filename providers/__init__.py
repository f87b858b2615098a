"""Mail adapters. Each sub-package implements :class:`inbox_watch.provider.MailProvider`.

``open_provider`` imports only the adapter an account needs, so a sync of an IMAP account never
pays for importing the Google or Microsoft libraries.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from inbox_watch.errors import ConfigError

if TYPE_CHECKING:
    from inbox_watch.config import AccountConfig, RecruiterConfig
    from inbox_watch.provider import MailProvider


def open_provider(account: AccountConfig, recruiter: RecruiterConfig) -> MailProvider:
    """Build the provider for ``account``. No network I/O happens until a method is called."""
    if account.provider == "imap":
        from providers.imap import ImapProvider

        return ImapProvider(account, recruiter)
    if account.provider == "gmail":
        from providers.gmail import GmailProvider

        return GmailProvider(account, recruiter)
    if account.provider == "outlook":
        from providers.outlook import OutlookProvider

        return OutlookProvider(account, recruiter)
    if account.provider == "demo":
        from providers.demo import DemoProvider

        return DemoProvider(account, recruiter)
    raise ConfigError(f"account {account.name!r}: unknown provider {account.provider!r}")
