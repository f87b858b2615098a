"""The engine stays pure: importing and running it loads no provider, store, UI or SDK."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FORBIDDEN = (
    "textual",
    "tinydb",
    "imapclient",
    "googleapiclient",
    "msal",
    "httpx",
    "providers",
    "tui",
    "inbox_watch.store",
    "inbox_watch.store_files",
    "inbox_watch.store_forget",
    "inbox_watch.store_ranking",
    "inbox_watch.store_records",
)

SCRIPT = """
import sys
from datetime import datetime, UTC
from inbox_watch.config import Policy, RecruiterConfig
from inbox_watch.engine.state import Inputs, evaluate
from inbox_watch.engine import drafts
from inbox_watch.models import Candidate, MailMessage
m = MailMessage(account="a", id="1", message_id="<1@x>", date=datetime(2026, 11, 23, 10, tzinfo=UTC),
                from_addr="sam@agency.example", to=("jane@example.com",), subject="Interview",
                text="Are you free Tuesday at 10am for the interview?")
evaluate(Inputs([Candidate("Jane", ("jane@example.com",))], [m], RecruiterConfig("Sam", ("sam@agency.example",)), Policy()),
         datetime(2026, 11, 25, 10, tzinfo=UTC))
print("\\n".join(sorted(sys.modules)))
"""


def test_engine_imports_nothing_of_the_edges() -> None:
    out = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, cwd=ROOT, check=True).stdout
    loaded = set(out.split())
    bad = sorted(m for m in loaded if m.split(".")[0] in FORBIDDEN or m in FORBIDDEN)
    assert not bad, f"the engine pulled in {bad}"


def test_cli_help_does_not_import_the_dashboard_or_sdks() -> None:
    script = "import sys; from inbox_watch.cli import build_parser; build_parser(); print('\\n'.join(sys.modules))"
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT, check=True).stdout
    loaded = {m.split(".")[0] for m in out.split()}
    assert not loaded & {"textual", "googleapiclient", "msal", "imapclient", "tinydb"}
