# ruff: noqa: F811 - the fixtures imported from dovecot.py and smtp_server.py are named as arguments
"""The dashboard in team mode, on a real PostgreSQL: two recruiters (Sam and Alex) share one
database; Sam's dashboard shows who owns each candidate, ``m`` narrows it to Sam's own, and a
teammate's action on one of Sam's candidates comes up as a notice (on the dashboard, and from
Sam's daemon on the desktop)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from inbox_watch.config import AccountConfig, Config, RecruiterConfig
from inbox_watch.engine.state import tag_key
from inbox_watch.models import ActionMode, Candidate, Cursor, SyncBatch
from inbox_watch.service import Workspace
from inbox_watch.sync import classify_for_store
from tests.builders import msg
from tests.providers.dovecot import PASSWORD, Dovecot, dovecot_server  # noqa: F401
from tests.providers.postgres import Postgres
from tests.providers.smtp_server import SmtpServer, smtp_server  # noqa: F401
from tests.tui.helpers import COUNTDOWN, settle, shown_toasts
from tui.app import InboxWatchApp, create_app
from tui.screens.dialogs import ConfirmDialog
from tui.screens.draft import DraftScreen
from tui.screens.main import MainScreen
from tui.widgets.candidate_table import CandidateTable
from tui.widgets.status_bar import StatusBar

NOW = datetime(2026, 11, 25, 14, tzinfo=UTC)  # Wednesday afternoon: Monday's emails are two business days old
SAM = RecruiterConfig(name="Sam Carter", addresses=("sam@agency.example",))
ALEX = RecruiterConfig(name="Alex Moore", addresses=("alex@agency.example",))
SLOTS = "Hi,\n\nAcme can interview you on Thursday at 10:00 or Friday at 14:00. Which suits you?\n\nThanks"


def _workspace(url: str, tmp_path: Path, who: RecruiterConfig, accounts: tuple[AccountConfig, ...] = ()) -> Workspace:
    folder = tmp_path / who.name.split()[0]
    config = Config(path=None, recruiter=who, store_path=folder / "store.json", store_url=url, accounts=accounts)
    return Workspace.open(config)


def _team(
    url: str,
    tmp_path: Path,
    sam_accounts: tuple[AccountConfig, ...] = (),
    alex_accounts: tuple[AccountConfig, ...] = (),
) -> tuple[Workspace, Workspace]:
    """Sam imported Sophie and Tom and wrote to Sophie; Alex imported Ruby and wrote to her."""
    from inbox_watch.store_pg import PgStore

    PgStore(url, recruiter=SAM, local=tmp_path / "init.json", check=False).init()
    sam, alex = _workspace(url, tmp_path, SAM, sam_accounts), _workspace(url, tmp_path, ALEX, alex_accounts)
    sam.store.upsert_candidates(
        [
            Candidate("Sophie Turner", ("sophie@example.com",), role="Analyst", employer="Acme"),
            Candidate("Tom Becker", ("tom@example.com",), role="Engineer", employer="Acme"),
        ]
    )
    alex.store.upsert_candidates([Candidate("Ruby Evans", ("ruby@example.com",), role="Designer", employer="Fabrikam")])
    for workspace, to in ((sam, "sophie@example.com"), (alex, "ruby@example.com")):
        mail = (msg("2026-11-23 09:00", workspace.config.recruiter.addresses[0], to, f"Interview ({to})", SLOTS),)
        batch = SyncBatch("work", mail, Cursor("work", "1"))
        workspace.store.apply_sync(batch, at=NOW, classes=classify_for_store(mail))  # as sync stores them
    return sam, alex


@pytest.fixture
def team(postgres_server: Postgres, tmp_path: Path) -> tuple[Workspace, Workspace]:
    return _team(postgres_server.new_database(), tmp_path)


def _app(workspace: Workspace) -> InboxWatchApp:
    return create_app(workspace, now=NOW, countdown=COUNTDOWN)


def _table(app: InboxWatchApp) -> CandidateTable:
    return app.screen.query_one(CandidateTable)


async def test_the_owner_column_and_the_mine_filter(team: tuple[Workspace, Workspace]) -> None:
    sam, _alex = team
    app = _app(sam)
    async with app.run_test(size=(150, 40), notifications=True) as pilot:
        await settle(pilot)
        table = _table(app)
        labels = [str(column.label) for column in table.columns.values()]
        assert labels[:3] == ["#", "Candidate", "Owner"]
        owner = {name: str(table.get_cell(tag_key(name), "owner")) for name in table.shown}
        assert owner == {"Sophie Turner": "Sam Carter", "Tom Becker": "Sam Carter", "Ruby Evans": "Alex Moore"}
        await pilot.press("m")
        await pilot.pause()
        assert sorted(table.shown) == ["Sophie Turner", "Tom Becker"]
        assert "filter: all (mine)" in str(table.border_title)
        await pilot.press("f")  # "needs you", still only Sam's: Sophie is silent, Tom was never written to
        await pilot.pause()
        assert table.shown == ["Sophie Turner"]
        await pilot.press("m")  # the whole team again, under the same filter
        await pilot.pause()
        assert "filter: needs you  sort" in str(table.border_title)
        assert sorted(table.shown) == ["Ruby Evans", "Sophie Turner"]


async def test_outside_team_mode_there_is_no_owner_column_and_m_says_why(app: InboxWatchApp) -> None:
    async with app.run_test(size=(150, 40), notifications=True) as pilot:
        await settle(pilot)
        table = _table(app)
        assert "Owner" not in [str(column.label) for column in table.columns.values()]
        shown = list(table.shown)
        await pilot.press("m")
        toasts = await shown_toasts(pilot)
        assert any("mine is for team mode" in " ".join(t.split()) for t in toasts), toasts
        assert table.shown == shown


async def test_a_teammates_action_on_one_of_your_candidates_is_a_notice(team: tuple[Workspace, Workspace]) -> None:
    sam, alex = team
    app = _app(sam)
    async with app.run_test(size=(150, 40), notifications=True) as pilot:
        await settle(pilot)
        assert await shown_toasts(pilot) == []  # what teammates did before the dashboard opened is not news
        alex.log_touch("Sophie Turner", "call", "left a voicemail", NOW + timedelta(minutes=5))  # Sam's candidate
        alex.snooze("Ruby Evans", NOW.date() + timedelta(days=2), "on holiday", NOW)  # Alex's own: not Sam's news
        screen = app.screen
        assert isinstance(screen, MainScreen)
        # Sam's daemon told of it too (its kept notices): the dashboard reads the store then, and
        # tells it once, not twice.
        from inbox_watch import notify

        line = "Alex Moore logged a call with Sophie Turner at 14:05"
        notify.keep(sam.store.path, [notify.Notice("teammate", "Sophie Turner", line)])
        screen._show_notices()  # what its timer does every 2 s
        await settle(pilot)
        toasts = await shown_toasts(pilot)
        assert len(toasts) == 1, toasts
        assert "Alex Moore logged a call with Sophie Turner at 14:05" in toasts[0]
        assert "Alex Moore logged a call with Sophie Turner" in screen.query_one(StatusBar).line_activity().plain
        alex.pull("Tom Becker", NOW)
        screen.refresh_states()
        await settle(pilot)
        assert any("Alex Moore pulled Tom Becker from the campaign" in t for t in await shown_toasts(pilot))
        screen.refresh_states()  # a read with nothing new tells nothing again
        await settle(pilot)
        assert len(await shown_toasts(pilot)) == 2


def test_the_daemon_tells_of_a_teammates_action_on_your_candidates_only(team: tuple[Workspace, Workspace]) -> None:
    from inbox_watch import notify
    from inbox_watch.daemon import Daemon

    sam, alex = team
    told: list[notify.Notice] = []

    def deliver(notice: notify.Notice, config: Config, now: datetime) -> str:
        told.append(notice)
        return "logged"

    daemon = Daemon(sam, notify=deliver)
    alex.log_touch("Sophie Turner", "text", "", datetime.now(UTC))  # before the first look: not news
    daemon.look_for_notices()
    assert told == []
    now = datetime.now(UTC)
    alex.log_touch("Sophie Turner", "call", "no answer", now)
    alex.log_touch("Ruby Evans", "call", "", now)  # Alex's own candidate
    daemon.look_for_notices()
    assert [(n.kind, n.candidate) for n in told] == [("teammate", "Sophie Turner")]
    assert told[0].title.startswith("Alex Moore logged a call with Sophie Turner at ")
    assert [n.title for _, n in notify.kept_notices(sam.store.path)] == [told[0].title]  # for the dashboard too
    daemon.look_for_notices()
    assert len(told) == 1  # once


def _imap(server: Dovecot, smtp: SmtpServer) -> tuple[AccountConfig, ...]:
    return (
        AccountConfig(
            name="work",
            provider="imap",
            host="127.0.0.1",
            port=server.port,
            security="none",
            username=server.new_user(),
            password_env="INBOX_WATCH_TEST_IMAP_PASSWORD",
            smtp_host="127.0.0.1",
            smtp_port=smtp.port,
            smtp_security="none",
        ),
    )


async def test_a_send_a_teammate_beat_you_to_asks_who_sent_what_when_and_sends_only_if_you_say_so(
    postgres_server: Postgres,
    tmp_path: Path,
    dovecot_server: Dovecot,
    smtp_server: SmtpServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("INBOX_WATCH_TEST_IMAP_PASSWORD", PASSWORD)
    url = postgres_server.new_database()
    sam, alex = _team(url, tmp_path, _imap(dovecot_server, smtp_server), _imap(dovecot_server, smtp_server))
    state = sam.state_of("Sophie Turner", NOW)
    action = sam.queue(state, sam.chaser_draft(state), ActionMode.SEND, NOW)
    sam.run_actions({action.id}, NOW)
    to_sophie = [m for m in smtp_server.messages if "sophie@example.com" in m.rcpt_tos]
    assert len(to_sophie) == 1
    app = create_app(alex, now=NOW + timedelta(minutes=30), countdown=COUNTDOWN)
    async with app.run_test(size=(150, 40), notifications=True) as pilot:
        await settle(pilot)
        assert _table(app).select_name("Sophie Turner")
        for answer, sent in (("n", 1), ("y", 2)):
            await pilot.press("c")
            assert isinstance(app.screen, DraftScreen)
            await pilot.press("ctrl+s")
            await pilot.pause(COUNTDOWN + 0.3)
            await settle(pilot)
            dialog = app.screen
            assert isinstance(dialog, ConfirmDialog), app.screen
            assert dialog.question == "Sam Carter chased Sophie Turner at 14:00.\nSend anyway?"  # no --force here
            await pilot.press(answer)
            await pilot.pause(0.5)
            await settle(pilot)
            assert isinstance(app.screen, MainScreen)
            assert len([m for m in smtp_server.messages if "sophie@example.com" in m.rcpt_tos]) == sent
            if answer == "n":
                assert (
                    "Not sent: Sam Carter chased Sophie Turner at 14:00"
                    in app.screen.query_one(StatusBar).line_activity().plain
                )
