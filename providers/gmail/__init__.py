"""Gmail adapter: google-api-python-client for mail, google-auth-oauthlib for sign-in.

Importing this package is cheap: the Google libraries are imported when a provider first talks
to Gmail or when ``authenticate`` runs.
"""

from __future__ import annotations

from providers.gmail.auth import SCOPES, authenticate
from providers.gmail.provider import GmailProvider

__all__ = ["SCOPES", "GmailProvider", "authenticate"]
