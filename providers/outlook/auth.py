"""Sign-in to Microsoft 365 / Outlook.com with msal, and the persistent token cache.

msal is imported only inside the functions that need it, so importing the Outlook adapter (or
using it with ``access_token_env``) never pays for msal and ``requests``.

The token cache is msal's ``SerializableTokenCache``, kept as a private (0600) file written
atomically next to the other user data (``<user data dir>/outlook-<account>.msal-cache.json``).
Tests and unusual setups pass ``cache_path`` explicitly.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from inbox_watch.errors import AuthError, ConfigError
from inbox_watch.secrets import write_private

if TYPE_CHECKING:
    from inbox_watch.config import AccountConfig

log = logging.getLogger(__name__)

# offline_access, openid and profile are added by msal itself (it refuses them if passed).
SCOPES = ("Mail.ReadWrite", "Mail.Send")
DEFAULT_LOGIN_HOST = "https://login.microsoftonline.com"


def token_cache_path(account: AccountConfig) -> Path:
    """Where the msal token cache of ``account`` lives by default."""
    from inbox_watch.config import default_data_dir

    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in account.name)
    return default_data_dir() / f"outlook-{safe}.msal-cache.json"


def authority_for(account: AccountConfig) -> str:
    """The msal authority URL: ``{login host}/{tenant}``; ``authority_url`` overrides the host."""
    host = (account.authority_url or DEFAULT_LOGIN_HOST).rstrip("/")
    tenant = (account.tenant or "common").strip("/")
    return f"{host}/{tenant}"


def _first_line(value: object, limit: int = 200) -> str:
    lines = str(value or "").strip().splitlines()
    return lines[0][:limit] if lines else ""


def _run_auth_hint(account: AccountConfig) -> str:
    return f"run `inbox-watch auth {account.name}` to sign in again"


class TokenCacheFile:
    """msal's SerializableTokenCache, loaded from and saved to one private file."""

    def __init__(self, path: Path, *, load: bool = True) -> None:
        import msal

        self.path = path
        self.cache = msal.SerializableTokenCache()
        if not load:  # a new sign-in replaces the cache: it then holds exactly one user
            return
        try:
            self.cache.deserialize(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            pass
        except (OSError, ValueError) as exc:
            log.warning("ignoring unreadable token cache %s: %s", path, exc)

    def save(self) -> None:
        """Write the cache if msal changed it (temp file, 0600, rename)."""
        if self.cache.has_state_changed:
            write_private(self.path, self.cache.serialize().encode("utf-8"))
            self.cache.has_state_changed = False


def _public_client(account: AccountConfig, cache: TokenCacheFile) -> Any:
    """Build msal's PublicClientApplication; translate its network and config errors."""
    import msal
    import requests

    if not account.client_id:
        raise ConfigError(
            f"account {account.name!r}: an outlook account needs client_id "
            "(the Application (client) ID of your Azure app registration)"
        )
    kwargs: dict[str, Any] = {
        "authority": authority_for(account),
        "token_cache": cache.cache,
    }
    if account.authority_url:
        # A host Microsoft does not know (a test authority, a proxy): skip instance discovery,
        # which would otherwise ask login.microsoftonline.com about it.
        kwargs["instance_discovery"] = False
    if account.ca_file:
        kwargs["verify"] = account.ca_file
    try:
        return msal.PublicClientApplication(account.client_id, **kwargs)
    except requests.exceptions.RequestException as exc:
        raise AuthError(
            f"account {account.name!r}: cannot reach the Microsoft sign-in service at "
            f"{authority_for(account)} ({type(exc).__name__}); check the network, then " + _run_auth_hint(account)
        ) from None
    except ValueError as exc:
        raise AuthError(
            f"account {account.name!r}: the sign-in authority {authority_for(account)} was "
            f"refused ({str(exc).splitlines()[0][:200]}); check tenant and authority_url"
        ) from None


class MsalTokens:
    """Access tokens for one account from the msal cache: ``acquire_token_silent`` each time.

    msal answers from the cache while the access token is valid (no request), and redeems the
    refresh token when it has expired. Any failure becomes an AuthError naming the fix.
    """

    def __init__(self, account: AccountConfig, cache_path: Path | None = None) -> None:
        self.account = account
        self.cache_path = cache_path or token_cache_path(account)
        self._app: Any = None
        self._cache: TokenCacheFile | None = None

    def __call__(self) -> str:
        return self._acquire(force_refresh=False)

    def refresh(self) -> str:
        """A new access token even if the cached one looks valid (Graph refused it: 401)."""
        return self._acquire(force_refresh=True)

    def _acquire(self, *, force_refresh: bool) -> str:
        import requests

        account = self.account
        if not self.cache_path.exists():
            raise AuthError(
                f"account {account.name!r} is not signed in to Microsoft: run `inbox-watch auth {account.name}`"
            )
        try:
            if self._app is None:
                self._cache = TokenCacheFile(self.cache_path)
                self._app = _public_client(account, self._cache)
            accounts = self._app.get_accounts()
            if not accounts:
                raise AuthError(
                    f"account {account.name!r}: the token cache holds no signed-in user; " + _run_auth_hint(account)
                )
            if len(accounts) > 1:
                # A cache written by an older `inbox-watch auth`, which added each sign-in to it:
                # which of the users is this account's mailbox cannot be told.
                raise AuthError(
                    f"account {account.name!r}: the token cache holds {len(accounts)} signed-in users; "
                    + _run_auth_hint(account)
                    + " (as the mailbox's user)"
                )
            result = self._app.acquire_token_silent_with_error(
                list(SCOPES), account=accounts[0], force_refresh=force_refresh
            )
        except requests.exceptions.RequestException as exc:
            raise AuthError(
                f"account {account.name!r}: cannot reach the Microsoft sign-in service to renew "
                f"the token ({type(exc).__name__}); check the network, or " + _run_auth_hint(account)
            ) from None
        finally:
            if self._cache is not None:
                self._cache.save()
        if not result or "access_token" not in result:
            reason = ""
            if result:
                reason = f" ({result.get('error', 'error')}: {_first_line(result.get('error_description'), 160)})"
            raise AuthError(
                f"account {account.name!r}: the Microsoft sign-in has expired or was revoked"
                f"{reason}; " + _run_auth_hint(account)
            )
        return str(result["access_token"])


def _has_display() -> bool:
    if sys.platform.startswith("linux"):
        return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))
    return True


def authenticate(
    account: AccountConfig,
    *,
    no_browser: bool = False,
    echo: Callable[[str], None] = print,
    cache_path: Path | None = None,
) -> str:
    """Sign ``account`` in and save the token cache; return a one-line summary.

    With ``no_browser`` (or no display) the device-code flow is used: ``echo`` shows the URL and
    code to enter on any device. Otherwise a browser opens for ``acquire_token_interactive``.
    Raises AuthError (consent refused, code expired, sign-in service unreachable).
    """
    import requests

    if account.access_token_env:
        return f"account {account.name!r} uses the bearer token in ${account.access_token_env}; nothing to sign in"
    path = cache_path or token_cache_path(account)
    # Start from an empty cache, so the sign-in replaces the previous user instead of joining it
    # (sync would otherwise go on using whichever user msal lists first). The file is replaced
    # only once the new sign-in has succeeded.
    cache = TokenCacheFile(path, load=False)
    app = _public_client(account, cache)
    try:
        if no_browser or not _has_display():
            flow = app.initiate_device_flow(scopes=list(SCOPES))
            if "user_code" not in flow:
                raise AuthError(
                    f"account {account.name!r}: Microsoft refused to start the device sign-in "
                    f"({flow.get('error', 'error')}: {_first_line(flow.get('error_description'))})"
                )
            echo(str(flow["message"]))
            result = app.acquire_token_by_device_flow(flow)
        else:
            result = app.acquire_token_interactive(list(SCOPES), prompt="select_account")
    except requests.exceptions.RequestException as exc:
        raise AuthError(
            f"account {account.name!r}: cannot reach the Microsoft sign-in service "
            f"({type(exc).__name__}); check the network and try again"
        ) from None
    if "access_token" not in result:
        raise AuthError(
            f"account {account.name!r}: sign-in failed ({result.get('error', 'error')}: "
            f"{_first_line(result.get('error_description'))})"
        )
    cache.cache.has_state_changed = True
    cache.save()
    claims = result.get("id_token_claims") or {}
    who = claims.get("preferred_username") or claims.get("name") or "the user"
    return f"signed in to Microsoft as {who}; token cache saved to {path}"
