"""One error tree for inbox-watch.

Adapters translate SDK and network errors into these at the boundary; the CLI prints
``str(error)`` as one line and exits non-zero. Messages never contain passwords or tokens.
"""

from __future__ import annotations


class InboxWatchError(Exception):
    """Base of every error inbox-watch raises on purpose. ``exit_code`` is the CLI's exit status."""

    exit_code = 1


class ConfigError(InboxWatchError):
    """Raised when the config file is missing, unreadable or has an invalid key; names file and key."""

    exit_code = 2


class UsageError(InboxWatchError):
    """Raised when a command is called with arguments that make no sense (unknown candidate ...)."""

    exit_code = 2


class StoreError(InboxWatchError):
    """Raised when the store file cannot be read, locked or written. Stored state is left intact."""


class StoreUnavailable(StoreError):
    """Raised when the team database cannot be reached, or its schema is missing, older (run
    ``inbox-watch store init``) or newer than this version understands. Names the database,
    never the password."""

    exit_code = 2


class ProviderError(InboxWatchError):
    """Raised by a provider when the mail service fails in a way that is not one of the below."""


class AuthError(ProviderError):
    """Raised when sign-in fails: wrong password, revoked or expired grant, missing consent."""


class ConnectionFailed(ProviderError):
    """Raised when the server cannot be reached, TLS fails, or the connection drops mid-operation."""


class RateLimited(ProviderError):
    """Raised when the service keeps answering 429/503 after the back-off budget is spent."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class SendOutcomeUnknown(ProviderError):
    """Raised by ``send`` when the message may have gone out: the connection was lost, or the
    service failed or timed out, after the message had been handed over.

    Every other error from ``send`` means nothing went out. The outbox never sends a message
    again after this one: the next pass looks for it in Sent, and asks the recruiter to check
    when it is not there.
    """


class SendRefused(ProviderError):
    """Raised by ``send`` when the mail service refused the message for good: a recipient it
    says does not exist (SMTP 5xx to RCPT TO), or the message itself (5xx to MAIL FROM or
    DATA, an API's permanent 4xx). Nothing went out, and sending the same message again would
    be refused again: the outbox fails the action at once and never retries it.

    ``recipients`` are the addresses refused ("" for none: the message itself was refused).
    """

    def __init__(self, message: str, recipients: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.recipients = recipients


class CursorExpired(ProviderError):
    """Raised by ``incremental_sync`` when the stored sync position is no longer valid.

    The caller answers with a full sync; it is never a reason to stop syncing.
    """


class CapabilityMissing(ProviderError):
    """Raised when an operation needs a capability the account or server lacks."""


class ActionRefused(InboxWatchError):
    """Raised when the recruiter asks for an action that a safety rule forbids (a second chase ...)."""

    exit_code = 3


class SentByTeammate(ActionRefused):
    """Raised in team mode when a teammate sent the candidate a chaser (or their employer an
    update) within a business day: the database's guard refused the send. ``reason`` says who
    sent what when ("Sam Carter chased Sophie Turner at 10:02"); the message adds the way out
    on the command line (``override``), and the dashboard asks instead."""

    def __init__(self, reason: str, override: str) -> None:
        super().__init__(f"{reason}; wait a business day or send anyway with `{override}`")
        self.reason = reason
        self.override = override
