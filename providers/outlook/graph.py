"""A small Microsoft Graph client on plain httpx: bearer token, paging, errors, back-off.

Every failure leaves as an :mod:`inbox_watch.errors` type:

- 401 -> one fresh token (``refresh``: msal redeems its refresh token) and the request once more,
  then AuthError (the token was refused); the message never contains the token;
- 403 access denied -> AuthError (consent missing for the mail scopes);
- 404 -> GraphNotFound (a ProviderError);
- 410, or 400 with ``error.code`` syncStateNotFound / resyncRequired / syncStateInvalid ->
  CursorExpired (a delta token Graph no longer knows; the code's case varies by resource);
- 429 / 503 (and 502 / 504) -> retried with jitter, honouring ``Retry-After``; RateLimited
  once the back-off budget is spent;
- a dropped or refused connection -> retried, then ConnectionFailed;
- any other 4xx / 5xx -> ProviderError naming Graph's ``error.code`` and ``error.message``;
- except for a request that must not be carried out twice (``request(..., once=...)``, the
  send, a draft made): the shared send-once policy (:mod:`inbox_watch.send_once`) retries it
  only after a 429 or a connection never made; a timeout, a connection dropped after the
  request went out, or any 5xx -> SendOutcomeUnknown; a 400 / 413 -> SendRefused.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import urlsplit

import httpx

from inbox_watch import send_once
from inbox_watch.errors import (
    AuthError,
    ConnectionFailed,
    CursorExpired,
    ProviderError,
    RateLimited,
)
from inbox_watch.retry import parse_retry_after
from inbox_watch.send_once import Answer, Fault, Wording
from providers.redact import redact

log = logging.getLogger(__name__)

RETRIED_STATUS = frozenset({429, 502, 503, 504})
ATTEMPTS = 5
NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
"""Transport errors raised before any byte of the request left: safe to retry any request."""
REFUSED_STATUS = frozenset({400, 413})
"""Graph refused the request as it is (an invalid recipient, a message too large): a send or a
draft made of it would be refused again."""
RESYNC_CODES = frozenset({"syncstatenotfound", "resyncrequired", "syncstateinvalid"})
"""Graph's error codes (lower-cased) for a delta token it no longer accepts: start a full sync."""


class GraphNotFound(ProviderError):
    """Raised for a 404: the folder or message is gone (deleted, or moved by the user)."""


class GraphInvalid(ProviderError):
    """Raised for a 400 or 413: Graph refused the request as it is (an invalid recipient, a
    message too large); the same request would be refused again."""


def graph_error(response: httpx.Response) -> tuple[str, str]:
    """Graph's ``{"error": {"code", "message"}}`` body as (code, first line of message)."""
    try:
        body = response.json()
        error = body.get("error", {}) if isinstance(body, dict) else {}
        code = str(error.get("code", "") or "")
        message = str(error.get("message", "") or "")
    except ValueError:
        code, message = "", ""
    message = (message.strip().splitlines() or [""])[0][:300]
    return code or response.reason_phrase or "error", message


def _where(url: str) -> str:
    """The path of a URL without its query (delta and skip tokens stay out of messages)."""
    return urlsplit(url).path


class GraphClient:
    """Requests to ``{base_url}/...`` with a bearer token from ``token()``.

    ``token`` is called by ``authorize()`` (once per provider operation), not on each request.
    Links Graph returns (``@odata.nextLink`` / ``@odata.deltaLink``) are followed only when
    they point at the same origin as ``base_url``, so the token never goes to another host.
    """

    def __init__(
        self,
        base_url: str,
        token: Callable[[], str],
        *,
        refresh: Callable[[], str] | None = None,
        account: str,
        auth_hint: str,
        verify: str | bool = True,
        timeout: float = 60.0,
        attempts: int = ATTEMPTS,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._token_source = token
        self._refresh = refresh or token
        self._token = ""
        self.account = account
        self.auth_hint = auth_hint
        self.attempts = attempts
        self._http = httpx.Client(
            timeout=timeout,
            verify=verify,
            headers={"Accept": "application/json", "User-Agent": "inbox-watch"},
        )

    def close(self) -> None:
        self._http.close()

    def authorize(self) -> None:
        """Get a fresh access token (msal: silent, from the cache or by refresh)."""
        self._token = self._token_source()

    def same_origin(self, url: str) -> bool:
        base, other = urlsplit(self.base_url), urlsplit(url)
        return (base.scheme, base.netloc) == (other.scheme, other.netloc)

    def url(self, path_or_url: str) -> str:
        if path_or_url.startswith(("http://", "https://")):
            if not self.same_origin(path_or_url):
                raise ProviderError(
                    f"account {self.account!r}: Microsoft Graph returned a link to another host "
                    f"({urlsplit(path_or_url).netloc}); refusing to send the token there"
                )
            return path_or_url
        return self.base_url + "/" + path_or_url.lstrip("/")

    def request(
        self,
        method: str,
        path_or_url: str,
        *,
        params: dict[str, str] | None = None,
        json: Any = None,
        content: bytes | None = None,
        headers: dict[str, str] | None = None,
        once: str = "",
    ) -> httpx.Response:
        """One request, retried on 429/5xx-unavailable and dropped connections.

        ``once`` (what the request does, e.g. "sending the message") marks a request that must
        not be carried out twice: it is retried only when Graph surely did not act on it (a
        429, or no connection made), and a failure without a clear answer (a timeout or a
        dropped connection after the request went out, any 5xx) raises SendOutcomeUnknown.
        """
        if not self._token:
            self.authorize()
        url = self.url(path_or_url)

        def attempt() -> httpx.Response:
            try:
                all_headers = {"Authorization": f"Bearer {self._token}", **(headers or {})}
                response = self._http.request(
                    method, url, params=params, json=json, content=content, headers=all_headers
                )
            except httpx.TransportError as exc:
                detail = f"{type(exc).__name__} talking to {urlsplit(url).netloc}"
                raise Fault(Answer.NONE, detail, reached=not isinstance(exc, NOT_SENT)) from None
            status = response.status_code
            if status in RETRIED_STATUS or (once and status >= 500):
                answer = (
                    Answer.THROTTLED
                    if status == 429
                    else Answer.UNAVAILABLE
                    if status in RETRIED_STATUS
                    else Answer.FAILED
                )
                retry_after = parse_retry_after(response.headers.get("Retry-After"))
                raise Fault(answer, f"HTTP {status} {graph_error(response)[0]}", retry_after=retry_after)
            if once and status in REFUSED_STATUS:
                raise Fault(Answer.REFUSED, self._failure(method, url, response)[1])
            return response

        def given_up(last: Fault) -> ProviderError:
            if last.answer is Answer.NONE:
                return ConnectionFailed(
                    f"account {self.account!r}: cannot reach Microsoft Graph at "
                    f"{urlsplit(self.base_url).netloc}: {last}"
                )
            return RateLimited(
                f"account {self.account!r}: Microsoft Graph is throttling or unavailable "
                f"({last}) after {self.attempts} attempts; try again later",
                retry_after=last.retry_after,
            )

        wording = Wording(
            unknown=lambda fault: (
                f"account {self.account!r}: Microsoft Graph gave no clear answer when {once} ({fault})"
            ),
            refused=lambda fault: f"{fault}; Microsoft Graph refused the message",
            given_up=given_up,
        )

        def run() -> httpx.Response:
            return send_once.run(attempt, once=bool(once), attempts=self.attempts, wording=wording)

        response = run()
        if response.status_code == 401:
            # The token expired or was revoked during a long pass: one fresh token (a 401 means
            # Graph did not act on the request, so even a once-only request may go again).
            log.info("%s: Microsoft Graph refused the access token; getting a fresh one", self.account)
            self._token = self._refresh()
            response = run()
        self._raise_for_status(method, url, response)
        return response

    def _raise_for_status(self, method: str, url: str, response: httpx.Response) -> None:
        if response.status_code >= 400:
            error, line = self._failure(method, url, response)
            raise error(line)

    def _failure(self, method: str, url: str, response: httpx.Response) -> tuple[type[ProviderError], str]:
        """The error a failed answer stands for, and its one line (the token never in it)."""
        status = response.status_code
        code, message = graph_error(response)
        code, message = redact(code, self._token), redact(message, self._token)
        if status == 401:
            return AuthError, (
                f"account {self.account!r}: Microsoft Graph refused the access token ({code}); {self.auth_hint}"
            )
        if status == 403 and code in (
            "ErrorAccessDenied",
            "Authorization_RequestDenied",
            "AccessDenied",
        ):
            return AuthError, (
                f"account {self.account!r}: Microsoft Graph denied access ({code}): the sign-in "
                f"lacks consent for Mail.ReadWrite / Mail.Send; {self.auth_hint}"
            )
        if status == 410 or (status == 400 and code.lower() in RESYNC_CODES):
            return CursorExpired, (
                f"account {self.account!r}: Microsoft Graph no longer knows this sync position ({code})"
            )
        detail = f"{code}: {message}" if message else code
        error = GraphNotFound if status == 404 else GraphInvalid if status in REFUSED_STATUS else ProviderError
        return error, f"account {self.account!r}: Microsoft Graph {method} {_where(url)} failed: HTTP {status} {detail}"

    def get_json(self, path_or_url: str, **kwargs: Any) -> dict[str, Any]:
        response = self.request("GET", path_or_url, **kwargs)
        return _json(response)

    def post_json(self, path_or_url: str, payload: Any) -> dict[str, Any]:
        """POST ``payload`` as JSON, retried like any read (only for requests that change
        nothing, such as a JSON ``$batch`` of GETs); the answer's JSON."""
        return _json(self.request("POST", path_or_url, json=payload))

    def pages(
        self,
        path_or_url: str,
        *,
        params: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
    ) -> Iterator[dict[str, Any]]:
        """Every page of a collection, following ``@odata.nextLink``."""
        page = self.get_json(path_or_url, params=params, headers=headers)
        yield page
        while page.get("@odata.nextLink"):
            page = self.get_json(str(page["@odata.nextLink"]), headers=headers)
            yield page


def _json(response: httpx.Response) -> dict[str, Any]:
    if not response.content:
        return {}
    try:
        data = response.json()
    except ValueError:
        raise ProviderError(
            f"Microsoft Graph answered {_where(str(response.request.url))} with something that is not JSON"
        ) from None
    if not isinstance(data, dict):
        raise ProviderError(f"Microsoft Graph answered {_where(str(response.request.url))} with unexpected JSON")
    return data
