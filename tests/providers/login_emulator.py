"""A small Microsoft identity platform (v2.0) authority over HTTPS, for msal's offline paths.

It serves what msal's PublicClientApplication calls (see msal ``authority.py`` and
``oauth2cli/oauth2.py``):

- ``GET /{tenant}/v2.0/.well-known/openid-configuration`` (tenant discovery, at construction);
- ``POST /{tenant}/oauth2/v2.0/devicecode`` (device authorization: user_code, message ...);
- ``POST /{tenant}/oauth2/v2.0/token`` for the device-code grant (answering
  ``authorization_pending`` ``pending_polls`` times first) and the refresh-token grant
  (``invalid_grant`` once ``revoke_refresh_tokens()`` was called).

Tokens are opaque random strings; the id_token is an unsigned JWT with the claims msal checks
(iss, aud, exp, iat) plus client_info (uid / utid), so msal files an account in its cache.
``on_token`` is told of each access token issued (the Graph emulator accepts it).
``user_oid`` / ``username`` name the user who signs in next (USER_OID / USERNAME by default).
The certificate is self-signed for ``localhost`` / ``127.0.0.1`` (made with ``openssl``);
msal's requests honours ``REQUESTS_CA_BUNDLE`` over its own ``verify=``, so tests set it.
"""

from __future__ import annotations

import base64
import json
import secrets
import ssl
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

TENANT_ID = "9188040d-6c67-4c5b-b112-36a304b66dad"
USER_OID = "00000000-0000-0000-66f3-3332eca7ea81"
USERNAME = "sam@agency.example"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class LoginEmulator:
    def __init__(self, cert: Path, key: Path, *, client_id: str) -> None:
        self.cert, self.key, self.client_id = cert, key, client_id
        self.expires_in = 3600
        self.pending_polls = 1
        self.refresh_tokens: dict[str, tuple[str, str]] = {}  # refresh token -> (oid, username)
        self.issued: dict[str, str] = {}  # access token -> username
        self.device_codes: set[str] = set()
        self.requests: list[tuple[str, str, dict[str, str]]] = []
        self.on_token: Callable[[str], None] = lambda token: None
        self.user_oid = ""  # "" = USER_OID
        self.username = ""  # "" = USERNAME
        self._server: ThreadingHTTPServer | None = None
        self.lock = threading.Lock()

    @property
    def base_url(self) -> str:
        assert self._server is not None
        return f"https://localhost:{self._server.server_address[1]}"

    def token_requests(self, grant: str = "") -> int:
        return sum(
            1 for _m, path, form in self.requests if path.endswith("/token") and grant in form.get("grant_type", "")
        )

    def revoke_refresh_tokens(self) -> None:
        with self.lock:
            self.refresh_tokens.clear()

    def start(self) -> LoginEmulator:
        emulator = self

        class Handler(_Handler):
            pass

        Handler.emulator = emulator
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(self.cert, self.key)
        self._server.socket = context.wrap_socket(self._server.socket, server_side=True)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    # -- endpoints ------------------------------------------------------------------------

    def handle(self, method: str, path: str, form: dict[str, str]) -> tuple[int, dict[str, Any]]:
        with self.lock:
            self.requests.append((method, path, form))
            parts = path.strip("/").split("/")
            tenant = parts[0]
            base = f"{self.base_url}/{tenant}"
            if method == "GET" and parts[1:] == ["v2.0", ".well-known", "openid-configuration"]:
                return 200, {
                    "issuer": f"{self.base_url}/{TENANT_ID}/v2.0",
                    "authorization_endpoint": f"{base}/oauth2/v2.0/authorize",
                    "token_endpoint": f"{base}/oauth2/v2.0/token",
                    "device_authorization_endpoint": f"{base}/oauth2/v2.0/devicecode",
                    "end_session_endpoint": f"{base}/oauth2/v2.0/logout",
                    "response_types_supported": ["code", "id_token", "code id_token"],
                }
            if method == "POST" and parts[1:] == ["oauth2", "v2.0", "devicecode"]:
                if form.get("client_id") != self.client_id:
                    return 400, {
                        "error": "unauthorized_client",
                        "error_description": "AADSTS700016: Application not found.",
                    }
                code = secrets.token_urlsafe(16)
                self.device_codes.add(code)
                return 200, {
                    "user_code": "ABCD-EFGH",
                    "device_code": code,
                    "verification_uri": "https://microsoft.com/devicelogin",
                    "expires_in": 900,
                    "interval": 0,
                    "message": "To sign in, use a web browser to open the page "
                    "https://microsoft.com/devicelogin and enter the code ABCD-EFGH to "
                    "authenticate.",
                }
            if method == "POST" and parts[1:] == ["oauth2", "v2.0", "token"]:
                return self._token(form)
        return 404, {"error": "not_found"}

    def _token(self, form: dict[str, str]) -> tuple[int, dict[str, Any]]:
        grant = form.get("grant_type", "")
        if grant.endswith("device_code"):
            if form.get("device_code") not in self.device_codes:
                return 400, {"error": "expired_token", "error_description": "AADSTS70020"}
            if self.pending_polls > 0:
                self.pending_polls -= 1
                return 400, {
                    "error": "authorization_pending",
                    "error_description": "AADSTS70016: OAuth 2.0 device flow error.",
                }
            self.device_codes.discard(form["device_code"])
            user = (self.user_oid or USER_OID, self.username or USERNAME)
        elif grant == "refresh_token":
            if form.get("refresh_token") not in self.refresh_tokens:
                return 400, {
                    "error": "invalid_grant",
                    "error_description": "AADSTS700082: The refresh token has expired due to "
                    "inactivity.\r\nTrace ID: 1",
                }
            user = self.refresh_tokens.pop(form["refresh_token"])
        else:
            return 400, {"error": "unsupported_grant_type"}
        now = int(time.time())
        claims = {
            "iss": f"{self.base_url}/{TENANT_ID}/v2.0",
            "aud": self.client_id,
            "iat": now,
            "nbf": now,
            "exp": now + 3600,
            "sub": "subject",
            "oid": user[0],
            "tid": TENANT_ID,
            "preferred_username": user[1],
            "name": "Sam Carter",
            "ver": "2.0",
        }
        id_token = ".".join([_b64(b'{"alg":"none","typ":"JWT"}'), _b64(json.dumps(claims).encode()), ""])
        access, refresh = secrets.token_urlsafe(24), secrets.token_urlsafe(24)
        self.refresh_tokens[refresh] = user
        self.issued[access] = user[1]
        self.on_token(access)
        return 200, {
            "token_type": "Bearer",
            "scope": "Mail.ReadWrite Mail.Send openid profile email",
            "expires_in": self.expires_in,
            "ext_expires_in": self.expires_in,
            "access_token": access,
            "refresh_token": refresh,
            "id_token": id_token,
            "client_info": _b64(json.dumps({"uid": user[0], "utid": TENANT_ID}).encode()),
        }


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    emulator: LoginEmulator

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        pass

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode() if length else ""
        form = {k: v[0] for k, v in parse_qs(body).items()}
        status, data = self.emulator.handle(self.command, urlsplit(self.path).path, form)
        payload = json.dumps(data).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    do_GET = do_POST = _answer
