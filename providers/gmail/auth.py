"""Gmail sign-in: OAuth 2.0 for installed apps (google-auth-oauthlib), and loading credentials.

Scopes are the least the tool needs: ``gmail.readonly`` to read mail and history, and
``gmail.compose`` to create drafts and send (it covers both). The refresh token is kept by
:mod:`inbox_watch.secrets` under ``gmail:<account>`` (system keyring, or a 0600 file written
atomically); access tokens are never stored or logged.
"""

from __future__ import annotations

import json
import logging
import os
import urllib.parse
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from inbox_watch.config import AccountConfig
from inbox_watch.errors import AuthError, ConfigError
from inbox_watch.secrets import get_secret, set_secret
from providers.redact import redact

if TYPE_CHECKING:
    from google.oauth2.credentials import Credentials

log = logging.getLogger(__name__)

SCOPES = (
    "https://www.googleapis.com/auth/gmail.readonly",
    "https://www.googleapis.com/auth/gmail.compose",
)
GOOGLE_AUTH_URI = "https://accounts.google.com/o/oauth2/auth"
GOOGLE_TOKEN_URI = "https://oauth2.googleapis.com/token"
# Where Google sends the browser in the no-browser flow. Nothing needs to listen there: the
# page fails to load and the recruiter copies its address (which carries the code) back to us.
NO_BROWSER_REDIRECT = "http://localhost:53682/"


def secret_key(account_name: str) -> str:
    return f"gmail:{account_name}"


def reauth_hint(account_name: str) -> str:
    return f"run `inbox-watch auth {account_name}` again"


def client_config(account: AccountConfig) -> dict[str, Any]:
    """The OAuth client (id, secret, endpoints) from client_secrets_file or client_id/secret."""
    if account.client_secrets_file:
        path = os.path.expanduser(account.client_secrets_file)
        try:
            with open(path, encoding="utf-8") as handle:
                data = json.load(handle)
        except (OSError, ValueError) as exc:
            raise ConfigError(
                f"account {account.name!r}: client_secrets_file {path!r} cannot be read as "
                f"Google's client JSON ({type(exc).__name__})"
            ) from None
        section = data.get("installed") or data.get("web") if isinstance(data, dict) else None
        if not isinstance(section, dict) or not section.get("client_id"):
            raise ConfigError(
                f"account {account.name!r}: client_secrets_file {path!r} has no 'installed' "
                "client: download the JSON of a Desktop app OAuth client"
            )
        section.setdefault("auth_uri", GOOGLE_AUTH_URI)
        section.setdefault("token_uri", GOOGLE_TOKEN_URI)
        return {"installed": section}
    if account.client_id and account.client_secret:
        return {
            "installed": {
                "client_id": account.client_id,
                "client_secret": account.client_secret,
                "auth_uri": GOOGLE_AUTH_URI,
                "token_uri": GOOGLE_TOKEN_URI,
                "redirect_uris": ["http://localhost"],
            }
        }
    raise ConfigError(
        f"account {account.name!r}: set client_id and client_secret, or client_secrets_file, "
        "for Gmail sign-in (see docs/gmail.md)"
    )


def _code_from_answer(answer: str, state: str) -> str:
    """The authorization code from a pasted redirect address (state checked) or a bare code."""
    answer = answer.strip()
    if not answer:
        raise AuthError("no address or code was pasted; sign-in cancelled")
    if "://" not in answer and "code=" not in answer:
        return answer
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(answer).query or answer.split("?", 1)[-1])
    if "error" in query:
        raise AuthError(f"Google refused the sign-in: {query['error'][0]}")
    if query.get("state", [state])[0] != state:
        raise AuthError("the pasted address belongs to another sign-in attempt; start again")
    codes = query.get("code")
    if not codes:
        raise AuthError("the pasted address has no code=...; copy the whole address bar")
    return codes[0]


def authenticate(
    account: AccountConfig,
    *,
    no_browser: bool = False,
    echo: Callable[[str], object] = print,
    read: Callable[[str], str] = input,
) -> str:
    """Sign in to Google for ``account`` and store the refresh token; return where it went.

    The default flow opens a browser and receives the answer on a loopback port
    (``run_local_server``). ``no_browser`` is for a terminal over SSH: it prints the sign-in
    address, and the recruiter pastes back the address Google redirected to (or its code).
    Raises ConfigError when no OAuth client is configured, AuthError when sign-in fails.
    """
    from google_auth_oauthlib.flow import InstalledAppFlow
    from oauthlib.oauth2.rfc6749.errors import OAuth2Error
    from requests import RequestException

    flow = InstalledAppFlow.from_client_config(client_config(account), scopes=list(SCOPES))
    try:
        if no_browser:
            flow.redirect_uri = NO_BROWSER_REDIRECT
            url, state = flow.authorization_url(access_type="offline", prompt="consent")
            echo("Open this address in a browser on any computer, sign in and allow access:")
            echo(url)
            echo(
                "The browser then goes to a localhost page that does not load. Copy that page's "
                "whole address from the address bar and paste it here."
            )
            flow.fetch_token(code=_code_from_answer(read("Address (or code): "), state))
            credentials = flow.credentials
        else:
            credentials = flow.run_local_server(
                host="localhost",
                port=0,
                authorization_prompt_message=(
                    "Sign in to Google in the browser window that opens. If none opens, visit: {url}"
                ),
                success_message="inbox-watch is signed in. You can close this tab.",
                open_browser=True,
                access_type="offline",
                prompt="consent",
            )
    except Warning:  # oauthlib's way of saying Google granted fewer scopes than asked for
        raise AuthError(
            f"Gmail sign-in for account {account.name!r}: both permissions (read mail; "
            f"manage drafts and send) are needed; {reauth_hint(account.name)} and tick both"
        ) from None
    except (OAuth2Error, RequestException, ValueError) as exc:
        raise AuthError(
            f"Gmail sign-in for account {account.name!r} failed ({type(exc).__name__}: "
            f"{_short(exc)}); {reauth_hint(account.name)}"
        ) from None
    if not credentials.refresh_token:
        raise AuthError(
            "Google returned no refresh token: remove inbox-watch's access at "
            f"https://myaccount.google.com/permissions and {reauth_hint(account.name)}"
        )
    grant = {
        "refresh_token": credentials.refresh_token,
        "client_id": credentials.client_id,
        "client_secret": credentials.client_secret,
        "token_uri": credentials.token_uri,
        "scopes": list(credentials.scopes or SCOPES),
    }
    where = set_secret(secret_key(account.name), json.dumps(grant))
    echo(f"Signed in to Gmail for account {account.name!r}; the grant is stored in {where}.")
    return where


def _short(exc: BaseException) -> str:
    text = redact(" ".join(str(exc).split()))
    return text[:160]


def load_credentials(account: AccountConfig) -> Credentials:
    """Credentials for API calls: the bearer token from access_token_env, or the stored grant."""
    from google.oauth2.credentials import Credentials

    if account.access_token_env:
        token = os.environ.get(account.access_token_env, "").strip()
        if not token:
            raise AuthError(
                f"account {account.name!r}: access_token_env names ${account.access_token_env}, which is not set"
            )
        return Credentials(token=token)  # type: ignore[no-untyped-call]  # google-auth is untyped
    stored = get_secret(secret_key(account.name))
    if not stored:
        raise AuthError(f"account {account.name!r} is not signed in to Gmail: run `inbox-watch auth {account.name}`")
    try:
        info = json.loads(stored)
        return Credentials(  # type: ignore[no-untyped-call]  # google-auth is untyped
            token=None,
            refresh_token=info["refresh_token"],
            client_id=info["client_id"],
            client_secret=info["client_secret"],
            token_uri=info.get("token_uri") or GOOGLE_TOKEN_URI,
            scopes=info.get("scopes") or list(SCOPES),
        )
    except (ValueError, KeyError, TypeError):
        raise AuthError(
            f"the stored Gmail grant of account {account.name!r} is unreadable: {reauth_hint(account.name)}"
        ) from None
