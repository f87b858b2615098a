"""Provider error text never shows a token or a password, even from a server that echoes them."""

from __future__ import annotations

import httpx
import pytest

from inbox_watch.errors import ProviderError
from providers.redact import redact

TOKEN = "ya29.fake-token-0123456789"
PASSWORD = "hunter2-secret"


def test_known_secrets_and_bearer_tokens_are_blanked() -> None:
    text = f"400 bad request: Authorization: Bearer {TOKEN}; pass {PASSWORD}; access_token={TOKEN}x&x=1"
    shown = redact(text, PASSWORD, None, "")
    assert TOKEN not in shown and PASSWORD not in shown
    assert "Bearer [redacted]" in shown and "access_token=[redacted]" in shown and "x=1" in shown
    assert redact("no mailbox named Inbox/Drafts", "ab") == "no mailbox named Inbox/Drafts"  # short: not blanked


def test_a_graph_error_that_echoes_the_authorization_header_is_blanked() -> None:
    from providers.outlook.graph import GraphClient

    def echo(request: httpx.Request) -> httpx.Response:
        header = request.headers["Authorization"]
        return httpx.Response(400, json={"error": {"code": "BadRequest", "message": f"bad header {header} ({TOKEN})"}})

    client = GraphClient("https://graph.example/v1.0", lambda: TOKEN, account="work", auth_hint="sign in again")
    client._http = httpx.Client(transport=httpx.MockTransport(echo))  # noqa: SLF001 - the server under test
    with pytest.raises(ProviderError) as err:
        client.get_json("/me/messages")
    assert TOKEN not in str(err.value) and "Bearer [redacted]" in str(err.value)


def test_an_imap_or_smtp_reason_blanks_the_password() -> None:
    from providers.imap.connect import _reason

    assert PASSWORD not in _reason(OSError(f"LOGIN sam {PASSWORD} rejected"), PASSWORD)
    assert TOKEN not in _reason(OSError(f"AUTHENTICATE XOAUTH2 Bearer {TOKEN}"))


def test_a_password_with_spaces_is_blanked_before_the_text_is_tidied() -> None:
    from providers.imap.connect import _reason

    spaced = "ab  cd\tef-9"
    text = _reason(OSError(f"LOGIN failed for {spaced}"), spaced)
    assert "ab" not in text.replace("LOGIN", "") and "cd ef" not in text and "\n" not in text
