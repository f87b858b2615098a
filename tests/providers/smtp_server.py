"""A real SMTP server on loopback (aiosmtpd) that records every message it accepts."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from tests.providers.dovecot import free_port


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    data: bytes
    mail_options: list[str] = field(default_factory=list)  # MAIL FROM parameters (BODY=8BITMIME ...)


@dataclass
class RecordingHandler:
    """Records every message; ``after_taking`` (when set) runs once a message is recorded and
    before the server answers, given the connection's aiosmtpd ``SMTP`` protocol object: a
    test makes the answer go missing there (close the connection, kill the client)."""

    messages: list[Received] = field(default_factory=list)
    after_taking: Callable[[Any], None] | None = None
    refuse_rcpt: dict[str, str] = field(default_factory=dict)  # address -> the server's answer ("550 ...")
    refuse_data: str = ""  # the answer to the message itself ("554 ..."), instead of taking it
    rcpt_attempts: list[str] = field(default_factory=list)  # every RCPT TO, refused or not

    async def handle_RCPT(
        self, server: Any, session: object, envelope: Any, address: str, rcpt_options: list[str]
    ) -> str:
        self.rcpt_attempts.append(address)
        if address in self.refuse_rcpt:
            return self.refuse_rcpt[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: object, envelope: object) -> str:
        if self.refuse_data:
            return self.refuse_data
        self.messages.append(
            Received(
                envelope.mail_from,  # type: ignore[attr-defined]
                list(envelope.rcpt_tos),  # type: ignore[attr-defined]
                bytes(envelope.original_content or envelope.content),  # type: ignore[attr-defined]
                list(envelope.mail_options),  # type: ignore[attr-defined]
            )
        )
        if self.after_taking is not None:
            self.after_taking(server)
        return "250 OK"


class SmtpServer:
    def __init__(self, *, smtputf8: bool = True) -> None:
        from aiosmtpd.controller import Controller

        self.handler = RecordingHandler()
        self.host = "127.0.0.1"
        for _attempt in range(5):  # port=0 is not supported: pick a free one, retry on a race
            self.port = free_port()
            self.controller = Controller(self.handler, hostname=self.host, port=self.port, enable_SMTPUTF8=smtputf8)
            try:
                self.controller.start()
                break
            except Exception:  # noqa: BLE001 - port taken between the probe and the bind
                time.sleep(0.05)
        else:
            raise RuntimeError("could not start the SMTP server")

    @property
    def messages(self) -> list[Received]:
        return self.handler.messages

    def copies(self, message_id: str) -> int:
        """How many times a message with this Message-ID was handed over for delivery."""
        return sum(1 for m in self.messages if f"Message-ID: {message_id}".encode() in m.data)

    def stop(self) -> None:
        self.controller.stop()


@pytest.fixture(scope="module")
def smtp_server() -> Iterator[SmtpServer]:
    pytest.importorskip("aiosmtpd", reason="aiosmtpd is needed for the SMTP tests (pip install aiosmtpd)")
    server = SmtpServer()
    try:
        yield server
    finally:
        server.stop()
