"""A real Dovecot IMAP server for tests and benchmarks, started from a throwaway config.

Follows ../shared/FIELD-NOTES.md: login as dovenull, internal user dovecot, mail stored as
nobody:nogroup (a static userdb), a 0755 ``mkdtemp`` base, ``mail_fsync = never``, and the
process group killed to stop (a graceful stop takes seconds). The static passdb accepts any
user name with :data:`PASSWORD`, so every test gets a fresh, empty mailbox by logging in as a
new user (:meth:`Dovecot.new_user`).

Not run as root, the whole server runs as the current user instead.
"""

from __future__ import annotations

import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.providers.certificates import make_certificate

PASSWORD = "test-password-5f1c"
DOVECOT = shutil.which("dovecot") or "/usr/sbin/dovecot"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Dovecot:
    """One Dovecot instance on loopback. ``port`` is plain IMAP (STARTTLS offered when ``tls``),
    ``tls_port`` implicit TLS (only when ``tls``). ``quota`` (e.g. "64K") gives every mailbox
    that storage quota: an APPEND past it is refused with ``[OVERQUOTA]``, as a full mailbox is."""

    def __init__(self, *, separator: str = "/", tls: bool = False, quota: str = "") -> None:
        if not os.path.exists(DOVECOT):
            pytest.skip("dovecot is not installed (sh scripts/install-system-deps.sh)")
        self.separator = separator
        self.tls = tls
        self.quota = quota
        self.root = Path(tempfile.mkdtemp(prefix="iw-dovecot-"))
        os.chmod(self.root, 0o755)
        self.mail_root = self.root / "mail"
        self.mail_root.mkdir()
        if os.geteuid() == 0:
            self.login_user, self.internal_user, self.mail_user = "dovenull", "dovecot", "nobody"
            self.mail_group = "nogroup"
        else:
            me = pwd.getpwuid(os.geteuid()).pw_name
            self.login_user = self.internal_user = self.mail_user = me
            self.mail_group = str(os.getegid())
        shutil.chown(self.mail_root, self.mail_user, self.mail_group)
        self.host = "127.0.0.1"
        self.port = free_port()
        self.tls_port = free_port() if tls else 0
        self.cert: Path | None = None
        if tls:
            self.cert, key = make_certificate(self.root)
        self.conf = self.root / "dovecot.conf"
        self.conf.write_text(self._config(key if tls else None))
        self.process: subprocess.Popen[bytes] | None = None

    def _config(self, key: Path | None) -> str:
        ssl = f"ssl = yes\nssl_cert = <{self.cert}\nssl_key = <{key}\n" if key else "ssl = no\n"
        imaps = (
            f"  inet_listener imaps {{\n    address = 127.0.0.1\n    port = {self.tls_port}\n  }}\n"
            if key
            else "  inet_listener imaps {\n    port = 0\n  }\n"
        )
        layout = ":LAYOUT=fs" if self.separator == "/" else ""
        quota = (
            "mail_plugins = $mail_plugins quota\n"
            f"plugin {{\n  quota = count:User quota\n  quota_rule = *:storage={self.quota}\n  quota_vsizes = yes\n}}\n"
            if self.quota
            else ""
        )
        return f"""\
base_dir = {self.root}/run
state_dir = {self.root}/state
log_path = {self.root}/dovecot.log
protocols = imap
listen = 127.0.0.1
{ssl}disable_plaintext_auth = no
auth_mechanisms = plain login
auth_failure_delay = 0
default_login_user = {self.login_user}
default_internal_user = {self.internal_user}
first_valid_uid = 0
passdb {{
  driver = static
  args = password={PASSWORD}
}}
userdb {{
  driver = static
  args = uid={self.mail_user} gid={self.mail_group} home={self.mail_root}/%u
}}
mail_location = maildir:~/Maildir{layout}
mail_fsync = never
imap_max_line_length = 1M
namespace inbox {{
  inbox = yes
  separator = {self.separator}
  mailbox Drafts {{
    special_use = \\Drafts
    auto = subscribe
  }}
  mailbox Sent {{
    special_use = \\Sent
    auto = subscribe
  }}
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {self.port}
  }}
{imaps}}}
{quota}service anvil {{
  unix_listener anvil-auth-penalty {{
    mode = 0
  }}
}}
service stats {{
  unix_listener stats-reader {{
    mode = 0666
  }}
  unix_listener stats-writer {{
    mode = 0666
  }}
}}
"""

    def start(self) -> None:
        self.process = subprocess.Popen(
            [DOVECOT, "-F", "-c", str(self.conf)],
            start_new_session=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                err = self.process.stderr.read().decode() if self.process.stderr else ""
                log = self.log()
                raise RuntimeError(f"dovecot exited at start: {err}\n{log}")
            try:
                with socket.create_connection((self.host, self.port), timeout=0.2):
                    return
            except OSError:
                time.sleep(0.01)
        raise RuntimeError("dovecot did not listen within 10 s:\n" + self.log())

    def kill(self) -> None:
        """Kill the whole process group at once (the master and every imap process)."""
        if self.process is None:
            return
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.process.wait()
        if self.process.stderr:
            self.process.stderr.close()
        self.process = None
        # Children of the group die with it; wait until the port is free again.
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            try:
                with socket.create_connection((self.host, self.port), timeout=0.1):
                    time.sleep(0.01)
            except OSError:
                return

    def restart(self) -> None:
        self.kill()
        self.start()

    def stop(self) -> None:
        self.kill()
        shutil.rmtree(self.root, ignore_errors=True)

    def log(self) -> str:
        try:
            return (self.root / "dovecot.log").read_text()
        except OSError:
            return ""

    # -- mailboxes ---------------------------------------------------------------------------

    def new_user(self) -> str:
        return f"u{uuid.uuid4().hex[:12]}@example.test"

    def client(self, user: str):  # -> imapclient.IMAPClient
        import imapclient

        client = imapclient.IMAPClient(self.host, self.port, ssl=False, timeout=10)
        client.login(user, PASSWORD)
        return client

    def maildir(self, user: str) -> Path:
        """The user's Maildir root (created, owned by the mail user)."""
        home = self.mail_root / user
        maildir = home / "Maildir"
        for sub in ("cur", "new", "tmp"):
            (maildir / sub).mkdir(parents=True, exist_ok=True)
        for path in (home, maildir, *(maildir / s for s in ("cur", "new", "tmp"))):
            shutil.chown(path, self.mail_user, self.mail_group)
        return maildir

    def chown_tree(self, path: Path) -> None:
        subprocess.run(["chown", "-R", f"{self.mail_user}:{self.mail_group}", str(path)], check=True)


def running_dovecot(**kwargs: object) -> Iterator[Dovecot]:
    server = Dovecot(**kwargs)  # type: ignore[arg-type]
    try:
        server.start()
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def dovecot_server() -> Iterator[Dovecot]:
    """One plain (ssl = no) Dovecot per test module, "/" as the folder separator."""
    yield from running_dovecot()


@pytest.fixture(scope="module")
def dovecot_tls_server() -> Iterator[Dovecot]:
    """A Dovecot with a self-signed certificate (STARTTLS and implicit TLS), "." as separator."""
    yield from running_dovecot(separator=".", tls=True)
