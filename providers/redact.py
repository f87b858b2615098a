"""Secrets out of error text: what a server answers is shown and stored as is, and a server
that echoes the request puts the Authorization header (or the password) in its answer."""

from __future__ import annotations

import re

BLANK = "[redacted]"
_BEARER = re.compile(r"(?i)\b(bearer)\s+[^\s\"',;]+")
_KEYED = re.compile(
    r"(?i)\b(access_token|refresh_token|id_token|client_secret|password)([\"']?\s*[:=]\s*[\"']?)[^\s\"'&,;]+"
)
MIN_SECRET = 4  # a shorter "secret" would blank ordinary words; the patterns above still apply


def redact(text: str, *secrets: str | None) -> str:
    """``text`` with the given secrets (a password, an access token) and anything that looks
    like a credential (``Bearer ...``, ``access_token=...``) blanked."""
    for secret in sorted({s for s in secrets if s and len(s) >= MIN_SECRET}, key=len, reverse=True):
        text = text.replace(secret, BLANK)
    text = _BEARER.sub(rf"\1 {BLANK}", text)
    return _KEYED.sub(rf"\1\2{BLANK}", text)
