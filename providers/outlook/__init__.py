"""Microsoft 365 / Outlook.com adapter: msal for sign-in, plain httpx to Microsoft Graph.

Importing this package is cheap: msal is imported only when a sign-in or a token refresh needs it.
"""

from __future__ import annotations

from providers.outlook.auth import authenticate, token_cache_path
from providers.outlook.provider import OutlookProvider

__all__ = ["OutlookProvider", "authenticate", "token_cache_path"]
