"""Passwords and tokens: the system keyring, or a private file when no keyring exists.

The fallback file lives in the user data dir, mode 0600, written to a temp file and renamed
into place. Secrets are never logged.
"""

from __future__ import annotations

import logging
import os
import tempfile
from pathlib import Path

import orjson

log = logging.getLogger(__name__)
SERVICE = "inbox-watch"


def _fallback_path() -> Path:
    override = os.environ.get("INBOX_WATCH_SECRETS_FILE")
    if override:
        return Path(override)
    from inbox_watch.config import default_data_dir

    return default_data_dir() / "secrets.json"


def _keyring_usable() -> bool:
    if os.environ.get("INBOX_WATCH_SECRETS_FILE"):
        return False
    try:
        import keyring
        from keyring.backends import fail

        return not isinstance(keyring.get_keyring(), fail.Keyring)
    except Exception:  # noqa: BLE001 - any keyring trouble means: use the file
        return False


def private_dir(folder: Path) -> None:
    """Create ``folder`` and any missing parents with mode 0700 (they hold candidate data or
    secrets); folders that already exist are left as they are."""
    missing = []
    while not folder.exists():
        missing.append(folder)
        if folder.parent == folder:
            break
        folder = folder.parent
    for each in reversed(missing):
        try:
            os.mkdir(each, 0o700)
        except FileExistsError:
            continue
        os.chmod(each, 0o700)  # whatever the umask left


def write_private(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically with mode 0600 (temp file, fsync, rename)."""
    private_dir(path.parent)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    _sync_folder(path.parent)


def _sync_folder(folder: Path) -> None:
    """Make the rename itself durable (a power cut must not bring the old file back)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return  # a platform without directory descriptors
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _read_file() -> dict[str, str]:
    try:
        data = orjson.loads(_fallback_path().read_bytes())
    except (FileNotFoundError, orjson.JSONDecodeError):
        return {}
    return data if isinstance(data, dict) else {}


def get_secret(key: str) -> str | None:
    """Return the secret stored under ``key`` (e.g. "imap:work"), or None."""
    if _keyring_usable():
        import keyring

        try:
            value = keyring.get_password(SERVICE, key)
        except Exception:  # noqa: BLE001
            value = None
        if value is not None:
            return value
    return _read_file().get(key)


def set_secret(key: str, value: str) -> str:
    """Store a secret; return where it went ("the system keyring" or the file path)."""
    if _keyring_usable():
        import keyring

        try:
            keyring.set_password(SERVICE, key, value)
            return "the system keyring"
        except Exception:  # noqa: BLE001 - fall back to the private file
            log.info("keyring refused the secret; using the private file")
    data = _read_file()
    data[key] = value
    write_private(_fallback_path(), orjson.dumps(data))
    return str(_fallback_path())


def delete_secret(key: str) -> None:
    if _keyring_usable():
        import keyring

        try:
            keyring.delete_password(SERVICE, key)
        except Exception:  # noqa: BLE001
            pass
    data = _read_file()
    if key in data:
        del data[key]
        write_private(_fallback_path(), orjson.dumps(data))
