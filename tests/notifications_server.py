"""A private D-Bus session bus with a tiny org.freedesktop.Notifications server that records
every Notify call: what a desktop would have shown, without a desktop."""

from __future__ import annotations

import shutil
import subprocess
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest


class NotificationsServer:
    def __init__(self) -> None:
        daemon = shutil.which("dbus-daemon")
        if daemon is None:
            pytest.skip("dbus-daemon is not installed")
        self.bus = subprocess.Popen(
            [daemon, "--session", "--nofork", "--print-address=1"],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        assert self.bus.stdout is not None
        self.address = self.bus.stdout.readline().strip()
        self.calls: list[dict[str, Any]] = []
        self._ready = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError("the notifications server did not start")

    def _serve(self) -> None:
        from jeepney import HeaderFields, MessageType, new_method_return
        from jeepney.bus_messages import message_bus
        from jeepney.io.blocking import open_dbus_connection

        with open_dbus_connection(bus=self.address) as connection:
            connection.send_and_get_reply(message_bus.RequestName("org.freedesktop.Notifications"))
            self._ready.set()
            while not self._stop.is_set():
                try:
                    message = connection.receive(timeout=0.2)
                except TimeoutError:
                    continue
                header = message.header
                if header.message_type is not MessageType.method_call:
                    continue
                if header.fields.get(HeaderFields.member) == "Notify":
                    app, _replaces, _icon, summary, body, _actions, _hints, _timeout = message.body
                    self.calls.append({"app": app, "summary": summary, "body": body})
                    connection.send(new_method_return(message, "u", (len(self.calls),)))

    def wait_for(self, count: int, within: float = 10.0) -> list[dict[str, Any]]:
        deadline = time.monotonic() + within
        while len(self.calls) < count and time.monotonic() < deadline:
            time.sleep(0.05)
        return list(self.calls)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(2)
        self.bus.kill()
        self.bus.wait()


@pytest.fixture
def notifications(monkeypatch: pytest.MonkeyPatch) -> Iterator[NotificationsServer]:
    server = NotificationsServer()
    monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", server.address)
    try:
        yield server
    finally:
        server.stop()
