"""Servers that misbehave on the wire, for the connection faults of the campaign.

- :class:`FakeImap`: a loopback IMAP server that greets, answers CAPABILITY, and then does to
  LOGIN what it is told: close the connection, answer a tagged NO, or say nothing.
- :class:`FaultyProxy`: a TCP proxy in front of a real server (Dovecot) that, on its first
  ``faulty`` connections, cuts the connection after ``cut_after`` bytes from the server, or
  from ``trickle_after`` bytes on passes one byte every ``trickle_every`` seconds. Later
  connections pass through untouched.
"""

from __future__ import annotations

import contextlib
import select
import socket
import threading
import time

from tests.providers.dovecot import free_port


class FakeImap:
    def __init__(self, on_login: str) -> None:
        assert on_login in ("close", "no", "stall")
        self.on_login = on_login
        self.logins = 0
        self.port = free_port()
        self._listener = socket.create_server(("127.0.0.1", self.port))
        self._listener.settimeout(0.2)
        self._stop = threading.Event()
        self._open: list[socket.socket] = []
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self._open.append(conn)
            threading.Thread(target=self._talk, args=(conn,), daemon=True).start()

    def _talk(self, conn: socket.socket) -> None:
        with contextlib.suppress(OSError):
            conn.sendall(b"* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN] fake server ready\r\n")
            file = conn.makefile("rb")
            while line := file.readline():
                tag, _, rest = line.decode("ascii", "replace").partition(" ")
                command = rest.split(" ", 1)[0].strip().upper()
                if command == "CAPABILITY":
                    conn.sendall(b"* CAPABILITY IMAP4rev1 AUTH=PLAIN\r\n" + f"{tag} OK done\r\n".encode())
                elif command in ("LOGIN", "AUTHENTICATE"):
                    self.logins += 1
                    if self.on_login == "close":
                        conn.shutdown(socket.SHUT_RDWR)
                        conn.close()
                        return
                    if self.on_login == "no":
                        conn.sendall(f"{tag} NO [AUTHENTICATIONFAILED] Authentication failed.\r\n".encode())
                    else:
                        self._stop.wait(30)
                        return
                elif command == "LOGOUT":
                    conn.sendall(b"* BYE\r\n" + f"{tag} OK bye\r\n".encode())
                    return
                else:
                    conn.sendall(f"{tag} BAD unknown\r\n".encode())

    def stop(self) -> None:
        self._stop.set()
        self._listener.close()
        for conn in self._open:
            with contextlib.suppress(OSError):
                conn.close()


class FaultyProxy:
    def __init__(
        self,
        upstream_port: int,
        *,
        faulty: int = 1,
        cut_after: int | None = None,
        trickle_after: int | None = None,
        trickle_every: float = 1.0,
        trickle_on: bytes | None = None,
    ) -> None:
        self.upstream_port = upstream_port
        self.faulty = faulty
        self.cut_after = cut_after
        self.trickle_after = trickle_after
        self.trickle_every = trickle_every
        self.trickle_on = trickle_on  # start trickling where the server first sends this
        self.bytes_passed = 0  # from the server, over every connection
        self.connections = 0
        self.cuts = 0
        self.trickled = 0  # bytes passed one at a time
        self.port = free_port()
        self._listener = socket.create_server(("127.0.0.1", self.port))
        self._listener.settimeout(0.2)
        self._stop = threading.Event()
        self._sockets: list[socket.socket] = []
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                client, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self.connections += 1
            upstream = socket.create_connection(("127.0.0.1", self.upstream_port))
            self._sockets += [client, upstream]
            faulty = self.connections <= self.faulty
            threading.Thread(target=self._relay, args=(client, upstream, faulty), daemon=True).start()

    def _relay(self, client: socket.socket, upstream: socket.socket, faulty: bool) -> None:
        passed = 0
        try:
            while not self._stop.is_set():
                ready, _, _ = select.select([client, upstream], [], [], 0.2)
                for sock in ready:
                    data = sock.recv(65536)
                    if not data:
                        return
                    if sock is client:
                        upstream.sendall(data)
                        continue
                    self.bytes_passed += len(data)
                    if faulty and self.trickle_on is not None and self.trickle_after is None:
                        at = data.find(self.trickle_on)
                        if at >= 0:
                            self.trickle_after = passed + at
                    if faulty and self.cut_after is not None and passed + len(data) > self.cut_after:
                        client.sendall(data[: self.cut_after - passed])
                        self.cuts += 1
                        return
                    if faulty and self.trickle_after is not None and passed + len(data) > self.trickle_after:
                        head = max(self.trickle_after - passed, 0)
                        client.sendall(data[:head])
                        for byte in data[head:]:
                            if self._stop.wait(self.trickle_every):
                                return
                            client.sendall(bytes([byte]))
                            self.trickled += 1
                        passed += len(data)
                        continue
                    client.sendall(data)
                    passed += len(data)
        except OSError:
            return
        finally:
            for sock in (client, upstream):
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
                with contextlib.suppress(OSError):
                    sock.close()

    def stop(self) -> None:
        self._stop.set()
        self._listener.close()
        time.sleep(0.05)
        for sock in self._sockets:
            with contextlib.suppress(OSError):
                sock.close()
