"""A real SMTP server on loopback (aiosmtpd) that records every message it accepts."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest

from tests.providers.dovecot import free_port


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    data: bytes


@dataclass
class RecordingHandler:
    messages: list[Received] = field(default_factory=list)

    async def handle_DATA(self, server: object, session: object, envelope: object) -> str:
        self.messages.append(
            Received(
                envelope.mail_from,  # type: ignore[attr-defined]
                list(envelope.rcpt_tos),  # type: ignore[attr-defined]
                bytes(envelope.original_content or envelope.content),  # type: ignore[attr-defined]
            )
        )
        return "250 OK"


class SmtpServer:
    def __init__(self) -> None:
        from aiosmtpd.controller import Controller

        self.handler = RecordingHandler()
        self.host = "127.0.0.1"
        for _attempt in range(5):  # port=0 is not supported: pick a free one, retry on a race
            self.port = free_port()
            self.controller = Controller(self.handler, hostname=self.host, port=self.port)
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
