"""`inbox-watch demo`: a temporary store filled from the built-in sample mailbox."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from inbox_watch.config import AccountConfig, Config, Policy
from inbox_watch.service import Workspace
from inbox_watch.sync import sync_account

DEMO_ACCOUNT = AccountConfig(name="demo", provider="demo")


def demo_config(store_dir: Path) -> Config:
    from providers.demo import DEMO_RECRUITER

    return Config(
        path=None,
        recruiter=DEMO_RECRUITER,
        policy=Policy(),
        store_path=store_dir / "store.json",
        accounts=(DEMO_ACCOUNT,),
        interval=60,
    )


def prepare_demo(store_dir: Path, now: datetime | None = None) -> Workspace:
    """A workspace over a fresh store in ``store_dir``, synced from the demo mailbox."""
    from providers.demo import DemoProvider

    config = demo_config(store_dir)

    def factory(account: AccountConfig) -> DemoProvider:
        return DemoProvider(account, config.recruiter, now=now)

    workspace = Workspace.open(config, factory=factory)
    provider = factory(DEMO_ACCOUNT)
    workspace.store.upsert_candidates(provider.roster())
    sync_account(workspace.store, DEMO_ACCOUNT, provider, now=now or datetime.now(UTC))
    return workspace


@contextmanager
def open_demo(now: datetime | None = None) -> Iterator[Workspace]:
    """The demo workspace in a temporary folder, removed afterwards."""
    folder = Path(tempfile.mkdtemp(prefix="inbox-watch-demo-"))
    try:
        yield prepare_demo(folder, now)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
