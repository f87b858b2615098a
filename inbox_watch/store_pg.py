"""Team mode: the store on the agency's PostgreSQL, behind the same interface as the TinyDB store.

Each recruiter keeps their own config, mailbox and daemon; all of them point ``[store] url`` at
one database. What is shared and what is not:

- candidates are the team's: one row per person, matched by name or by any of their email
  addresses (``candidate_emails`` holds each address once), with the recruiter who imported
  them (or first found them by tag) as ``owner``;
- mail rows stay tagged with the recruiter whose mailbox they came from (``messages.recruiter``).
  Every teammate's mail is read for the candidates' state (a reply to anyone ends the wait, a
  chaser by anyone counts); a teammate's excerpt (``text``) is read back only when that
  teammate set ``[team] share_excerpts = true``, and their mail is labelled with their name;
- sync positions, sync status, the outbox and the daemon's heartbeat are each recruiter's own;
- touches, snoozes and pulls are the team's (a call by anyone moves the ladder on).

The send guard is the database's: :meth:`PgStore.add_action` takes a row lock on the
candidate's claim row (``send_claims``), reads the team's last send of that kind, lets the
caller's guard refuse, and inserts the outbox entry, all in one transaction. Two recruiters
pressing send at once queue one message: the second waits for the lock, then sees the first.

Every change runs in one transaction; a connection lost mid-way rolls it back, so a sync pass
that fails leaves the old cursor and the next pass stores the same mail again in place
(messages are keyed by recruiter, account and provider id). Errors are one line naming the
database (``user@host:port/db``), never the password.
"""

from __future__ import annotations

import contextlib
import logging
import os
import secrets
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson
import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict
from psycopg.types.json import Jsonb

from inbox_watch.errors import StoreError, StoreUnavailable
from inbox_watch.gc_pause import paused_gc
from inbox_watch.models import (
    Action,
    ActionKind,
    ActionMode,
    ActionState,
    Candidate,
    Cursor,
    Erasure,
    MailMessage,
    Snooze,
    SyncBatch,
    TeamActivity,
    Touch,
    from_metadata_docs,
    metadata_doc,
)
from inbox_watch.secrets import get_secret
from inbox_watch.store_forget import ForgetList
from inbox_watch.store_ranking import RankingFile
from inbox_watch.store_records import action_from_doc, action_to_doc  # one converter pair for both stores

if TYPE_CHECKING:
    from inbox_watch.config import Config, RecruiterConfig

log = logging.getLogger(__name__)

SCHEMA_VERSION = 3
CONNECT_TIMEOUT = 5  # seconds: a database that does not answer by then is reported down

_MIGRATION_1 = """
CREATE TABLE IF NOT EXISTS recruiters (
    id serial PRIMARY KEY,
    key text NOT NULL UNIQUE,
    name text NOT NULL,
    addresses text[] NOT NULL DEFAULT '{}',
    share_excerpts boolean NOT NULL DEFAULT false
);
CREATE TABLE candidates (
    id bigserial PRIMARY KEY,
    key text NOT NULL UNIQUE,
    name text NOT NULL,
    emails text[] NOT NULL DEFAULT '{}',
    phone text NOT NULL DEFAULT '',
    role text NOT NULL DEFAULT '',
    employer text NOT NULL DEFAULT '',
    employer_emails text[] NOT NULL DEFAULT '{}',
    stage text NOT NULL DEFAULT '',
    source text NOT NULL DEFAULT 'roster',
    owner integer REFERENCES recruiters(id)
);
CREATE TABLE candidate_emails (
    email text PRIMARY KEY,
    candidate bigint NOT NULL REFERENCES candidates(id) ON DELETE CASCADE
);
CREATE TABLE messages (
    recruiter integer NOT NULL REFERENCES recruiters(id),
    account text NOT NULL,
    id text NOT NULL,
    from_addr text NOT NULL DEFAULT '',
    date timestamptz NOT NULL,
    doc bytea NOT NULL,
    text text NOT NULL DEFAULT '',
    class bytea,
    PRIMARY KEY (recruiter, account, id)
);
CREATE INDEX messages_from_addr ON messages (from_addr, date);
CREATE TABLE cursors (
    recruiter integer NOT NULL REFERENCES recruiters(id),
    account text NOT NULL,
    value text NOT NULL,
    PRIMARY KEY (recruiter, account)
);
CREATE TABLE sync_status (
    recruiter integer NOT NULL REFERENCES recruiters(id),
    account text NOT NULL,
    last_error text NOT NULL DEFAULT '',
    last_attempt timestamptz,
    last_sync timestamptz,
    PRIMARY KEY (recruiter, account)
);
CREATE TABLE touches (
    id bigserial PRIMARY KEY,
    recruiter integer NOT NULL REFERENCES recruiters(id),
    candidate text NOT NULL,
    name text NOT NULL,
    channel text NOT NULL,
    at timestamptz NOT NULL,
    note text NOT NULL DEFAULT ''
);
CREATE TABLE snoozes (
    id bigserial PRIMARY KEY,
    recruiter integer NOT NULL REFERENCES recruiters(id),
    candidate text NOT NULL,
    name text NOT NULL,
    until date NOT NULL,
    reason text NOT NULL DEFAULT '',
    since timestamptz
);
CREATE TABLE pulled (
    candidate text PRIMARY KEY,
    name text NOT NULL,
    recruiter integer NOT NULL REFERENCES recruiters(id)
);
CREATE TABLE outbox (
    id text PRIMARY KEY,
    recruiter integer NOT NULL REFERENCES recruiters(id),
    candidate text NOT NULL,
    kind text NOT NULL,
    mode text NOT NULL,
    state text NOT NULL,
    created_at timestamptz NOT NULL,
    done_at timestamptz,
    claimed_at timestamptz,
    send_started_at timestamptz,
    seq bigserial,
    doc jsonb NOT NULL
);
CREATE INDEX outbox_recruiter ON outbox (recruiter, seq);
CREATE INDEX outbox_candidate ON outbox (candidate, kind);
CREATE TABLE send_claims (
    candidate text NOT NULL,
    kind text NOT NULL,
    PRIMARY KEY (candidate, kind)
);
CREATE TABLE heartbeats (
    recruiter integer PRIMARY KEY REFERENCES recruiters(id),
    pid integer NOT NULL,
    at timestamptz NOT NULL
);
CREATE SEQUENCE changes;
"""

# 2: the candidate's own time zone (the roster's ``timezone`` column), for call times.
_MIGRATION_2 = "ALTER TABLE candidates ADD COLUMN IF NOT EXISTS timezone text NOT NULL DEFAULT ''"

_MIGRATION_3 = """
CREATE TABLE IF NOT EXISTS forgotten (
    id bigserial PRIMARY KEY,
    entry jsonb NOT NULL
);
CREATE TABLE IF NOT EXISTS forget_key (
    one boolean PRIMARY KEY DEFAULT true CHECK (one),
    key bytea NOT NULL
);
"""
"""The forget list (``ForgetList``: keyed hashes of forgotten candidates' addresses, tag, name and
erased Message-IDs) and its key, the team's: one recruiter's ``forget`` keeps every teammate's
sync from storing that candidate's mail again."""

MIGRATIONS: dict[int, str] = {0: _MIGRATION_1, 1: _MIGRATION_2, 2: _MIGRATION_3}
"""Each entry upgrades the schema from that version to the next (run by ``store init``, in one
transaction under an advisory lock, so two recruiters running it at once do it once)."""

_INIT_LOCK = 0x1B0C5  # the advisory lock ``store init`` holds while it migrates


@dataclass(frozen=True, slots=True)
class TeamSend:
    """The team's last chaser (or employer update) to a candidate, sent or on its way."""

    recruiter: str  # the name of the recruiter who sent it
    kind: ActionKind
    at: datetime
    mine: bool


TeamGuard = Callable[[TeamSend | None], None]
"""Called inside the claim's transaction with the team's last send; raises ActionRefused to refuse."""


def _key(name: str) -> str:
    return " ".join(name.split()).casefold()


def recruiter_key(recruiter: RecruiterConfig) -> str:
    """Who a recruiter is in the database: their first address (names can repeat in a team)."""
    return recruiter.addresses[0].lower() if recruiter.addresses else _key(recruiter.name)


def describe_url(url: str) -> str:
    """``user@host:port/dbname`` for messages: never the password."""
    try:
        parts = conninfo_to_dict(url)
    except psycopg.Error:
        return "the team database"
    user = f"{parts['user']}@" if parts.get("user") else ""
    port = f":{parts['port']}" if parts.get("port") else ""
    return f"PostgreSQL {user}{parts.get('host', 'localhost')}{port}/{parts.get('dbname', '')}"


class PgStore:
    """The store on PostgreSQL at ``url`` for the recruiter ``recruiter``.

    ``local`` is this recruiter's own store path (the TinyDB default): caches that are nobody
    else's business (public holidays, the dashboard's last table) live beside it.
    """

    team = True

    def __init__(
        self,
        url: str,
        *,
        recruiter: RecruiterConfig,
        local: Path,
        password: str | None = None,
        share_excerpts: bool = False,
        pooled: bool = False,
        check: bool = True,
    ) -> None:
        self.url = url
        self.where = describe_url(url)
        self.recruiter = recruiter
        self.share_excerpts = share_excerpts
        self.path = Path(local)
        self.ranking_path = self.path.with_name("team.ranking.json")
        self._password = password
        self._keyring: Callable[[], str | None] | None = lambda: get_secret(f"postgresql:{keyring_name(url)}")
        self._kwargs: dict[str, Any] = {"connect_timeout": CONNECT_TIMEOUT, "application_name": "inbox-watch"}
        if password:
            self._kwargs["password"] = password
        self._local = threading.local()
        self._pool: Any = None
        self._pooled = pooled
        self._lock = threading.Lock()
        self._me: int | None = None
        self._names: dict[int, str] = {}
        self._accounts: dict[str, str] = {}  # the account a message is read back under -> its recruiter
        if check:
            self.open()

    @classmethod
    def from_config(cls, config: Config, *, pooled: bool = False, check: bool = True) -> PgStore:
        return cls(
            config.store_url,
            recruiter=config.recruiter,
            local=config.store_path,
            password=_password(config),
            share_excerpts=config.share_excerpts,
            pooled=pooled,
            check=check,
        )

    # --- connections and transactions ------------------------------------------------------

    def _fail(self, exc: BaseException, what: str = "") -> StoreError:
        text = " ".join(str(exc).split()) or type(exc).__name__
        if self._password:
            text = text.replace(self._password, "***")
        doing = f" ({what})" if what else ""
        if isinstance(exc, psycopg.OperationalError):
            return StoreUnavailable(f"{self.where}: cannot reach the team database{doing}: {text}")
        return StoreError(f"{self.where}: the team database failed{doing}: {text}")

    def _connect(self) -> psycopg.Connection[Any]:
        try:
            try:
                return psycopg.connect(self.url, **self._kwargs)
            except psycopg.OperationalError as exc:
                # The server wants a password that neither password_env nor ~/.pgpass gave:
                # the keyring's, looked up only now (loading the keyring costs ~0.3 s).
                if "no password supplied" not in str(exc) or "password" in self._kwargs or self._keyring is None:
                    raise
                secret = self._keyring()
                self._keyring = None
                if not secret:
                    raise
                self._password = secret
                self._kwargs["password"] = secret
                return psycopg.connect(self.url, **self._kwargs)
        except psycopg.Error as exc:
            raise self._fail(exc) from None

    @contextmanager
    def _connection(self) -> Iterator[psycopg.Connection[Any]]:
        if self._pooled:
            from psycopg_pool import ConnectionPool, PoolTimeout

            with self._lock:
                if self._pool is None:
                    self._pool = ConnectionPool(
                        self.url, kwargs=self._kwargs, min_size=1, max_size=4, open=True, name="inbox-watch"
                    )
            try:
                with self._pool.connection(timeout=CONNECT_TIMEOUT * 2) as conn:
                    yield conn
            except PoolTimeout:
                raise StoreUnavailable(f"{self.where}: cannot reach the team database (no connection)") from None
            return
        conn = getattr(self._local, "conn", None)
        if conn is None or conn.closed or conn.broken:
            conn = self._connect()
            self._local.conn = conn
        yield conn

    @contextmanager
    def _tx(self, *, read_only: bool = False) -> Iterator[psycopg.Cursor[Any]]:
        """One transaction (nested calls share the outer one); any database error rolls it
        back and becomes one StoreError line."""
        current = getattr(self._local, "cur", None)
        if current is not None:
            yield current
            return
        try:
            with self._connection() as conn, conn.transaction(), conn.cursor() as cur:
                if read_only:
                    cur.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
                self._local.cur = cur
                try:
                    yield cur
                finally:
                    self._local.cur = None
        except psycopg.Error as exc:
            raise self._fail(exc) from None

    @contextmanager
    def transaction(self) -> Iterator[psycopg.Cursor[Any]]:
        with self._tx() as cur:
            yield cur

    state_transaction = transaction

    @contextmanager
    def reading(self) -> Iterator[psycopg.Cursor[Any]]:
        with self._tx(read_only=getattr(self._local, "cur", None) is None) as cur:
            yield cur

    state_reading = reading

    def close(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None
        if self._pool is not None:
            self._pool.close()
            self._pool = None

    # --- schema ------------------------------------------------------------------------------

    @staticmethod
    def _version(cur: psycopg.Cursor[Any]) -> int | None:
        """The schema version in the database; None when there is no inbox-watch schema."""
        cur.execute("SELECT to_regclass('inbox_watch_schema') IS NOT NULL")
        row = cur.fetchone()
        if not row or not row[0]:
            return None
        cur.execute("SELECT version FROM inbox_watch_schema")
        found = cur.fetchone()
        return int(found[0]) if found else 0

    def _refuse_newer(self, version: int) -> None:
        if version > SCHEMA_VERSION:
            raise StoreUnavailable(
                f"{self.where}: the team database has schema version {version}, newer than this inbox-watch "
                f"understands ({SCHEMA_VERSION}): upgrade inbox-watch"
            )

    def open(self) -> None:
        """Check the schema and register this recruiter (name, addresses, whether they share excerpts)."""
        with self._tx() as cur:
            version = self._version(cur)
            if version is None or version < SCHEMA_VERSION:
                have = "no inbox-watch schema" if version is None else f"schema version {version}"
                raise StoreUnavailable(
                    f"{self.where}: the team database has {have}: run `inbox-watch store init` to set it up"
                )
            self._refuse_newer(version)
            self._register(cur)

    def init(self) -> tuple[int | None, int]:
        """Create or migrate the schema; (version before, version now). Refuses a newer one."""
        with self._tx() as cur:
            cur.execute("SELECT pg_advisory_xact_lock(%s)", (_INIT_LOCK,))
            before = self._version(cur)
            if before is None:
                cur.execute("CREATE TABLE inbox_watch_schema (version integer NOT NULL)")
                cur.execute("INSERT INTO inbox_watch_schema VALUES (0)")
            version = before or 0
            self._refuse_newer(version)
            while version < SCHEMA_VERSION:
                cur.execute(MIGRATIONS[version])
                version += 1
                cur.execute("UPDATE inbox_watch_schema SET version = %s", (version,))
            self._register(cur)
        return before, version

    def _register(self, cur: psycopg.Cursor[Any]) -> None:
        cur.execute(
            "INSERT INTO recruiters (key, name, addresses, share_excerpts) VALUES (%s, %s, %s, %s) "
            "ON CONFLICT (key) DO UPDATE SET name = EXCLUDED.name, addresses = EXCLUDED.addresses, "
            "share_excerpts = EXCLUDED.share_excerpts RETURNING id",
            (recruiter_key(self.recruiter), self.recruiter.name, list(self.recruiter.addresses), self.share_excerpts),
        )
        row = cur.fetchone()
        assert row is not None
        self._me = int(row[0])

    @property
    def me(self) -> int:
        if self._me is None:
            self.open()
        assert self._me is not None
        return self._me

    # --- the team ----------------------------------------------------------------------------

    def team_members(self) -> list[tuple[str, tuple[str, ...]]]:
        """Every recruiter on the team: (name, addresses)."""
        with self.reading() as cur:
            cur.execute("SELECT id, name, addresses FROM recruiters ORDER BY id")
            rows = cur.fetchall()
        self._names = {int(r[0]): r[1] for r in rows}
        return [(r[1], tuple(r[2])) for r in rows]

    def team_addresses(self) -> tuple[str, ...]:
        """Every teammate's sending address (mine first): the engine counts mail from any of
        them as the recruiter's."""
        mine = tuple(self.recruiter.addresses)
        others = [a for _, addresses in self.team_members() for a in addresses if a not in mine]
        return mine + tuple(dict.fromkeys(others))

    def owner_of_account(self, account: str) -> str:
        """The recruiter whose mailbox a message read back under ``account`` came from."""
        return self._accounts.get(account, self.recruiter.name)

    def candidate_owners(self) -> dict[str, str]:
        """Candidate name -> the name of the recruiter who imported them (or found them by tag)."""
        with self.reading() as cur:
            cur.execute("SELECT c.name, r.name FROM candidates c JOIN recruiters r ON r.id = c.owner")
            return {k: n for k, n in cur.fetchall()}

    def team_activity(self, since: datetime) -> list[TeamActivity]:
        """What teammates (not this recruiter) did since ``since``: chasers and employer updates
        sent, touches logged, snoozes set, and the pulls in force (a pull keeps no time)."""
        with self.reading() as cur:
            cur.execute(
                "SELECT 'send:' || o.id, r.name, o.kind, o.doc->>'candidate', o.done_at, NULL::date FROM outbox o "
                "JOIN recruiters r ON r.id = o.recruiter WHERE o.recruiter <> %(me)s AND o.mode = 'send' "
                "AND o.state = 'done' AND o.done_at >= %(since)s "
                "UNION ALL SELECT 'touch:' || t.id, r.name, t.channel, t.name, t.at, NULL FROM touches t "
                "JOIN recruiters r ON r.id = t.recruiter WHERE t.recruiter <> %(me)s AND t.at >= %(since)s "
                "UNION ALL SELECT 'snooze:' || s.id, r.name, 'snooze', s.name, s.since, s.until FROM snoozes s "
                "JOIN recruiters r ON r.id = s.recruiter WHERE s.recruiter <> %(me)s "
                "AND (s.since IS NULL OR s.since >= %(since)s) "
                "UNION ALL SELECT 'pull:' || p.candidate || '/' || p.recruiter, r.name, 'pull', p.name, NULL, NULL "
                "FROM pulled p JOIN recruiters r ON r.id = p.recruiter WHERE p.recruiter <> %(me)s",
                {"me": self.me, "since": since},
            )
            return [TeamActivity(k, r, kind, c, at, until) for k, r, kind, c, at, until in cur.fetchall()]

    def _changed(self, cur: psycopg.Cursor[Any]) -> None:
        """Note that the shared data changed (what ``mail_file_key`` compares)."""
        cur.execute("SELECT nextval('changes')")

    # --- candidates --------------------------------------------------------------------------

    _CANDIDATE_COLUMNS = "name, emails, phone, role, employer, employer_emails, stage, source, timezone"

    def candidates(self) -> list[Candidate]:
        with self.reading() as cur:
            cur.execute(f"SELECT {self._CANDIDATE_COLUMNS} FROM candidates ORDER BY id")
            return [
                Candidate(
                    name=r[0],
                    emails=tuple(r[1]),
                    phone=r[2],
                    role=r[3],
                    employer=r[4],
                    employer_emails=tuple(r[5]),
                    stage=r[6],
                    source=r[7],
                    timezone=r[8],
                )
                for r in cur.fetchall()
            ]

    def candidate(self, name: str) -> Candidate | None:
        key = _key(name)
        return next((c for c in self.candidates() if _key(c.name) == key), None)

    def upsert_candidates(self, candidates: Iterable[Candidate]) -> tuple[int, int]:
        """Add or update the team's candidates: one row per person, found by name or by any of
        their addresses (a teammate's row for the same person is updated, its addresses kept).
        (added, updated)."""
        added = updated = 0
        with self.transaction() as cur:
            # One import at a time: two recruiters importing the same person make one row.
            cur.execute("LOCK TABLE candidates IN SHARE ROW EXCLUSIVE MODE")
            cur.execute("SELECT id, key, emails FROM candidates")
            by_key: dict[str, int] = {}
            emails_of: dict[int, list[str]] = {}
            for cid, key, emails in cur.fetchall():
                by_key[key] = cid
                emails_of[cid] = list(emails)
            cur.execute("SELECT email, candidate FROM candidate_emails")
            by_email = {e: c for e, c in cur.fetchall()}
            touched: set[int] = set()
            roster = list(candidates)
            for candidate in roster:
                addresses = [a.strip().lower() for a in candidate.emails if a.strip()]
                cid = by_key.get(_key(candidate.name))
                if cid is None:
                    cid = next((by_email[a] for a in addresses if a in by_email), None)
                if cid is None:
                    cur.execute(
                        "INSERT INTO candidates (key, name, emails, phone, role, employer, employer_emails, stage, "
                        "source, owner, timezone) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s) RETURNING id",
                        (
                            _key(candidate.name),
                            candidate.name,
                            addresses,
                            candidate.phone,
                            candidate.role,
                            candidate.employer,
                            list(candidate.employer_emails),
                            candidate.stage,
                            candidate.source,
                            self.me,
                            candidate.timezone,
                        ),
                    )
                    row = cur.fetchone()
                    assert row is not None
                    cid = int(row[0])
                    by_key[_key(candidate.name)] = cid
                    emails_of[cid] = addresses
                    added += 1
                else:
                    merged = list(dict.fromkeys([*emails_of.get(cid, []), *addresses]))
                    emails_of[cid] = merged
                    cur.execute(
                        "UPDATE candidates SET emails = %s, phone = COALESCE(NULLIF(%s, ''), phone), "
                        "role = COALESCE(NULLIF(%s, ''), role), employer = COALESCE(NULLIF(%s, ''), employer), "
                        "employer_emails = CASE WHEN cardinality(%s::text[]) > 0 THEN %s::text[] "
                        "ELSE employer_emails END, stage = COALESCE(NULLIF(%s, ''), stage), source = 'roster', "
                        "timezone = COALESCE(NULLIF(%s, ''), timezone) WHERE id = %s",
                        (
                            merged,
                            candidate.phone,
                            candidate.role,
                            candidate.employer,
                            list(candidate.employer_emails),
                            list(candidate.employer_emails),
                            candidate.stage,
                            candidate.timezone,
                            cid,
                        ),
                    )
                    if cid not in touched:
                        updated += 1
                touched.add(cid)
                fresh = [(a, cid) for a in addresses if a not in by_email]
                if fresh:
                    cur.executemany(
                        "INSERT INTO candidate_emails (email, candidate) VALUES (%s, %s) ON CONFLICT DO NOTHING", fresh
                    )
                    by_email.update(dict(fresh))
            if roster:
                self._clear_forgotten(cur, roster)
            self._changed(cur)
        return added, updated

    # --- messages and cursors ----------------------------------------------------------------

    def messages(self) -> list[MailMessage]:
        return self.messages_and_classes()[0]

    def _account_label(self, recruiter: int, account: str) -> str:
        """The account a message is read back under: mine as they are, a teammate's with their
        name (two recruiters may both call their account "work")."""
        if recruiter == self.me:
            return account
        return f"{self._names.get(recruiter, recruiter)}/{account}"

    def _read_messages(self, where: str = "", params: Sequence[Any] = ()) -> list[tuple[MailMessage, Any]]:
        with self.reading() as cur:
            if not self._names:
                self.team_members()
            # Binary results: the documents and classifications come as the bytes stored, not
            # hex text to decode (22,000 messages: 0.06 s to fetch instead of 0.16 s, and their
            # classifications decode in a sixth of the time; bench/team.py).
            with cur.connection.cursor(binary=True) as raw:
                raw.execute(
                    "SELECT m.recruiter, m.account, m.doc, "
                    "CASE WHEN m.recruiter = %s OR r.share_excerpts THEN m.text ELSE '' END, m.class "
                    f"FROM messages m JOIN recruiters r ON r.id = m.recruiter {where}",
                    (self.me, *params),
                )
                rows = raw.fetchall()
        found = []
        names_missing = any(r[0] not in self._names for r in rows)
        if names_missing:
            self.team_members()
        with paused_gc():
            for recruiter, account, doc, text, stored in rows:
                data = orjson.loads(doc)
                label = self._account_label(recruiter, account)
                data["account"] = label
                data["text"] = text
                self._accounts[label] = self._names.get(recruiter, self.recruiter.name)
                found.append((MailMessage.from_dict(data), orjson.loads(stored) if stored is not None else None))
        return found

    def messages_and_classes(self) -> tuple[list[MailMessage], dict[tuple[str, str], Sequence[object]]]:
        found = self._read_messages("WHERE m.from_addr NOT LIKE '#%%'")
        messages = [m for m, _ in found]
        classes = {(m.account, m.id): c for m, c in found if c is not None}
        return messages, classes

    def messages_from(self, addresses: Iterable[str], *, after: datetime) -> list[MailMessage]:
        wanted = sorted({address.strip().lower() for address in addresses if address.strip()})
        if not wanted:
            return []
        found = self._read_messages("WHERE m.from_addr = ANY(%s) AND m.date > %s", (wanted, after))
        return sorted((m for m, _ in found), key=lambda m: m.date)

    def metadata(self) -> list[MailMessage]:
        """This recruiter's mail kept as metadata: rows whose from_addr is a keyed hash
        (``#...``), their doc in the compact form of ``models.metadata_doc``."""
        with self.reading() as cur:
            cur.execute("SELECT doc FROM messages WHERE recruiter = %s AND from_addr LIKE '#%%'", (self.me,))
            rows = cur.fetchall()
        with paused_gc():
            return from_metadata_docs(_loads(doc) for (doc,) in rows)

    def address_key(self) -> bytes:
        with self.transaction() as cur:
            key = self._forget_key(cur, create=True)
        assert key is not None  # made when missing
        return key

    def message_count(self) -> int:
        with self.reading() as cur:
            cur.execute("SELECT count(*) FROM messages")  # whole, and kept as metadata
            row = cur.fetchone()
            return int(row[0]) if row else 0

    def cursor(self, account: str) -> Cursor | None:
        with self.reading() as cur:
            cur.execute("SELECT value FROM cursors WHERE recruiter = %s AND account = %s", (self.me, account))
            row = cur.fetchone()
        return Cursor(account, row[0]) if row else None

    def apply_sync(
        self, batch: SyncBatch, *, at: datetime, classes: Mapping[str, Sequence[object]] | None = None
    ) -> tuple[int, int]:
        """Store one sync pass of this recruiter's account, its cursor and status in the same
        transaction: a pass cut off by a lost connection stores nothing, and the next one
        stores the same mail in place (keyed by recruiter, account and provider id)."""
        classes = classes or {}
        me = self.me
        with self.transaction() as cur:
            existing: set[str] = set()
            if batch.messages:
                ids = [m.id for m in batch.messages]
                cur.execute(
                    "SELECT id FROM messages WHERE recruiter = %s AND account = %s AND id = ANY(%s)",
                    (me, batch.account, ids),
                )
                existing = {r[0] for r in cur.fetchall()}
            if batch.full:
                keep = [m.id for m in batch.messages]
                cur.execute(
                    "DELETE FROM messages WHERE recruiter = %s AND account = %s AND NOT (id = ANY(%s))",
                    (me, batch.account, keep),
                )
            elif batch.removed:
                cur.execute(
                    "DELETE FROM messages WHERE recruiter = %s AND account = %s AND id = ANY(%s)",
                    (me, batch.account, list(batch.removed)),
                )
            if batch.messages:
                rows = []
                for message in batch.messages:
                    if message.headers_only and message.from_addr.startswith("#"):
                        doc = metadata_doc(message)  # kept as metadata: no subject, no text
                        text = ""
                    else:
                        doc = message.to_dict()
                        text = doc["text"]
                        doc["text"] = ""
                    stored = classes.get(message.id)
                    rows.append(
                        (
                            me,
                            message.account,
                            message.id,
                            message.from_addr,
                            message.date,
                            orjson.dumps(doc),
                            text.replace("\x00", ""),
                            orjson.dumps(list(stored)) if stored is not None else None,
                        )
                    )
                cur.executemany(
                    "INSERT INTO messages (recruiter, account, id, from_addr, date, doc, text, class) "
                    "VALUES (%s, %s, %s, %s, %s, %s, %s, %s) ON CONFLICT (recruiter, account, id) DO UPDATE SET "
                    "from_addr = EXCLUDED.from_addr, date = EXCLUDED.date, doc = EXCLUDED.doc, "
                    "text = EXCLUDED.text, class = EXCLUDED.class",
                    rows,
                )
                tags = sorted({t for m in batch.messages for t in m.tags})
                if tags:
                    cur.executemany(
                        "INSERT INTO candidates (key, name, source, owner) VALUES (%s, %s, 'tag', %s) "
                        "ON CONFLICT (key) DO NOTHING",
                        [(_key(t), t, me) for t in tags],
                    )
            if batch.messages or batch.removed or batch.full:
                self._changed(cur)
            self._set_status(cur, batch.account, at=at, error="", ok=True)
            cur.execute(
                "INSERT INTO cursors (recruiter, account, value) VALUES (%s, %s, %s) "
                "ON CONFLICT (recruiter, account) DO UPDATE SET value = EXCLUDED.value",
                (me, batch.account, batch.cursor.value),
            )
        new = len({m.id for m in batch.messages} - existing)
        return new, len(existing)

    def record_sync_error(self, account: str, error: str, *, at: datetime) -> None:
        with self.transaction() as cur:
            self._set_status(cur, account, at=at, error=error, ok=False)

    def _set_status(self, cur: psycopg.Cursor[Any], account: str, *, at: datetime, error: str, ok: bool) -> None:
        cur.execute(
            "INSERT INTO sync_status (recruiter, account, last_error, last_attempt, last_sync) "
            "VALUES (%s, %s, %s, %s, %s) ON CONFLICT (recruiter, account) DO UPDATE SET "
            "last_error = EXCLUDED.last_error, last_attempt = EXCLUDED.last_attempt, "
            "last_sync = COALESCE(EXCLUDED.last_sync, sync_status.last_sync)",
            (self.me, account, error, at, at if ok else None),
        )

    def sync_status(self) -> list[dict[str, Any]]:
        """This recruiter's accounts, as the TinyDB store gives them."""
        with self.reading() as cur:
            cur.execute(
                "SELECT account, last_error, last_attempt, last_sync FROM sync_status WHERE recruiter = %s",
                (self.me,),
            )
            rows = cur.fetchall()
        found = []
        for account, error, attempt, synced in rows:
            doc: dict[str, Any] = {"account": account, "last_error": error}
            if attempt is not None:
                doc["last_attempt"] = attempt.isoformat()
            if synced is not None:
                doc["last_sync"] = synced.isoformat()
            found.append(doc)
        return found

    # --- touches, snoozes, pulled: the team's --------------------------------------------------

    def add_touch(self, touch: Touch) -> None:
        with self.transaction() as cur:
            cur.execute(
                "INSERT INTO touches (recruiter, candidate, name, channel, at, note) VALUES (%s, %s, %s, %s, %s, %s)",
                (self.me, _key(touch.candidate), touch.candidate, touch.channel, touch.at, touch.note),
            )
            self._changed(cur)

    def touches(self) -> list[Touch]:
        with self.reading() as cur:
            cur.execute("SELECT name, channel, at, note FROM touches ORDER BY id")
            return [Touch(n, c, a, note) for n, c, a, note in cur.fetchall()]

    def set_snooze(self, snooze: Snooze) -> None:
        with self.transaction() as cur:
            cur.execute(
                "INSERT INTO snoozes (recruiter, candidate, name, until, reason, since) "
                "VALUES (%s, %s, %s, %s, %s, %s)",
                (self.me, _key(snooze.candidate), snooze.candidate, snooze.until, snooze.reason, snooze.since),
            )
            self._changed(cur)

    def snoozes(self) -> list[Snooze]:
        with self.reading() as cur:
            cur.execute("SELECT name, until, reason, since FROM snoozes ORDER BY id")
            return [Snooze(n, u, r, s) for n, u, r, s in cur.fetchall()]

    def set_pulled(self, name: str, pulled: bool = True) -> None:
        with self.transaction() as cur:
            cur.execute("DELETE FROM pulled WHERE candidate = %s", (_key(name),))
            if pulled:
                cur.execute(
                    "INSERT INTO pulled (candidate, name, recruiter) VALUES (%s, %s, %s)", (_key(name), name, self.me)
                )
            self._changed(cur)

    def pulled(self) -> frozenset[str]:
        with self.reading() as cur:
            cur.execute("SELECT name FROM pulled")
            return frozenset(r[0] for r in cur.fetchall())

    # --- outbox: each recruiter's own; the send claim is the team's -----------------------------

    def add_action(self, action: Action, *, guard: TeamGuard | None = None) -> None:
        """Queue ``action``. A send of a chaser or employer update first takes the candidate's
        claim row lock and hands ``guard`` the team's last such send (None: none yet); the
        guard may refuse (ActionRefused), and nothing is queued. Lock, check and insert are
        one transaction: of two recruiters sending at once, the second sees the first."""
        with self.transaction() as cur:
            if action.mode is ActionMode.SEND:
                key = _key(action.candidate)
                cur.execute(
                    "INSERT INTO send_claims (candidate, kind) VALUES (%s, %s) ON CONFLICT DO NOTHING",
                    (key, action.kind.value),
                )
                cur.execute(
                    "SELECT 1 FROM send_claims WHERE candidate = %s AND kind = %s FOR UPDATE",
                    (key, action.kind.value),
                )
                if guard is not None:
                    guard(self._last_send(cur, key, action.kind))
            cur.execute(
                "INSERT INTO outbox (id, recruiter, candidate, kind, mode, state, created_at, done_at, claimed_at, "
                "send_started_at, doc) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
                (
                    action.id,
                    self.me,
                    _key(action.candidate),
                    action.kind.value,
                    action.mode.value,
                    action.state.value,
                    action.created_at,
                    action.done_at,
                    action.claimed_at,
                    action.send_started_at,
                    psycopg.types.json.Jsonb(action_to_doc(action)),
                ),
            )

    def _last_send(self, cur: psycopg.Cursor[Any], key: str, kind: ActionKind) -> TeamSend | None:
        """The team's latest send of ``kind`` to the candidate that went out or may have: done,
        queued, being sent, or given up after its start was on record."""
        cur.execute(
            "SELECT o.recruiter, r.name, COALESCE(o.done_at, o.created_at) AS at FROM outbox o "
            "JOIN recruiters r ON r.id = o.recruiter WHERE o.candidate = %s AND o.kind = %s AND o.mode = 'send' "
            "AND (o.state IN ('queued', 'sending', 'done') OR o.send_started_at IS NOT NULL) "
            "ORDER BY at DESC LIMIT 1",
            (key, kind.value),
        )
        row = cur.fetchone()
        if row is None:
            return None
        return TeamSend(recruiter=row[1], kind=kind, at=row[2], mine=int(row[0]) == self.me)

    def last_team_send(self, name: str, kind: ActionKind) -> TeamSend | None:
        with self.reading() as cur:
            return self._last_send(cur, _key(name), kind)

    def actions(self, *, state: ActionState | None = None) -> list[Action]:
        with self.reading() as cur:
            if state is None:
                cur.execute("SELECT doc FROM outbox WHERE recruiter = %s ORDER BY seq", (self.me,))
            else:
                cur.execute(
                    "SELECT doc FROM outbox WHERE recruiter = %s AND state = %s ORDER BY seq", (self.me, state.value)
                )
            return [action_from_doc(r[0]) for r in cur.fetchall()]

    def claim_action(self, action_id: str, now: datetime, stale_after: timedelta) -> Action | None:
        """Mark a queued action as being carried out by this process, in one UPDATE: of two
        processes claiming it at once, one gets it."""
        with self.transaction() as cur:
            cur.execute(
                "SELECT doc FROM outbox WHERE id = %s AND recruiter = %s AND (state = 'queued' OR "
                "(state = 'sending' AND (claimed_at IS NULL OR claimed_at < %s))) FOR UPDATE SKIP LOCKED",
                (action_id, self.me, now - stale_after),
            )
            row = cur.fetchone()
            if row is None:
                return None
            claimed = replace(action_from_doc(row[0]), state=ActionState.SENDING, claimed_at=now)
            self._write_action(cur, claimed)
            return claimed

    def update_action(self, action: Action) -> None:
        with self.transaction() as cur:
            self._write_action(cur, action)

    def _write_action(self, cur: psycopg.Cursor[Any], action: Action) -> None:
        cur.execute(
            "UPDATE outbox SET state = %s, done_at = %s, claimed_at = %s, send_started_at = %s, doc = %s "
            "WHERE id = %s AND recruiter = %s",
            (
                action.state.value,
                action.done_at,
                action.claimed_at,
                action.send_started_at,
                psycopg.types.json.Jsonb(action_to_doc(action)),
                action.id,
                self.me,
            ),
        )

    # --- daemon heartbeat: this recruiter's -------------------------------------------------------

    def set_heartbeat(self, pid: int, at: datetime) -> None:
        with self.transaction() as cur:
            cur.execute(
                "INSERT INTO heartbeats (recruiter, pid, at) VALUES (%s, %s, %s) "
                "ON CONFLICT (recruiter) DO UPDATE SET pid = EXCLUDED.pid, at = EXCLUDED.at",
                (self.me, pid, at),
            )

    def clear_heartbeat(self) -> None:
        with self.transaction() as cur:
            cur.execute("DELETE FROM heartbeats WHERE recruiter = %s", (self.me,))

    def heartbeat(self) -> tuple[int, datetime] | None:
        with self.reading() as cur:
            cur.execute("SELECT pid, at FROM heartbeats WHERE recruiter = %s", (self.me,))
            row = cur.fetchone()
        return (int(row[0]), row[1]) if row else None

    # --- the dashboard's last ranking (a local file: only this recruiter's screen) ---------------

    def mail_file_key(self) -> tuple[int, int, int] | None:
        """Which version of the shared data is in the database (changes since it was made)."""
        try:
            with self.reading() as cur:
                cur.execute("SELECT last_value, is_called FROM changes")
                row = cur.fetchone()
        except StoreError:
            return None
        return (0, 0, int(row[0]) if row and row[1] else 0)

    def save_ranking(self, rows: Sequence[Sequence[str]], *, at: datetime, read_from: Any) -> bool:
        """Keep the table the dashboard last showed, unless the team's data changed since it
        was ranked (``read_from``: ``mail_file_key`` before the read)."""
        if read_from is None or self.mail_file_key() != read_from:
            return False
        try:
            RankingFile(self.ranking_path).write(rows, at=at)
        except OSError as exc:
            log.warning("could not keep the ranking for the next start: %s", exc)
            return False
        return True

    def saved_ranking(self) -> tuple[datetime, list[tuple[str, ...]]] | None:
        return RankingFile(self.ranking_path).read()

    # --- forget: the whole team's traces ----------------------------------------------------------

    @contextmanager
    def exclusive(self) -> Iterator[None]:
        """The TinyDB store's lock across read-decide-write; here ``forget`` is one transaction
        (a teammate's sync landing between the read and it is caught by the forget list on
        the next pass), so there is nothing to hold."""
        yield

    def _message_keys(self, erasure: Erasure) -> list[tuple[int, str, str]]:
        """(recruiter, account, id) of the messages ``erasure`` names by the account they were
        read back under (mine as they are, a teammate's as "Name/account")."""
        by_name = {name: rid for rid, name in self._names.items()}
        keys = []
        for label, mid in erasure.messages:
            owner, _, account = label.rpartition("/")
            if not owner:
                keys.append((self.me, label, mid))
            elif owner in by_name:
                keys.append((by_name[owner], account, mid))
        return keys

    def forget(self, erasure: Erasure) -> dict[str, int]:
        """Erase one candidate as ``erasure`` (the engine's decision) says, from the team's
        database, in one transaction: their row, the messages it names (any teammate's), logs,
        snoozes, pulls and queued actions; their hashes go on the team's forget list."""
        key = _key(erasure.name)
        counts: dict[str, int] = {}
        if erasure.messages and not self._names:
            self.team_members()
        with self.transaction() as cur:
            cur.execute("DELETE FROM candidates WHERE key = %s", (key,))
            counts["candidates"] = cur.rowcount
            gone = self._message_keys(erasure)
            removed = 0
            for recruiter, account, mid in sorted(gone):
                cur.execute(
                    "DELETE FROM messages WHERE recruiter = %s AND account = %s AND id = %s", (recruiter, account, mid)
                )
                removed += cur.rowcount
            counts["messages"] = removed
            for table in ("touches", "snoozes", "pulled", "outbox"):
                cur.execute(sql.SQL("DELETE FROM {} WHERE candidate = %s").format(sql.Identifier(table)), (key,))
                counts[table] = cur.rowcount
            cur.execute("DELETE FROM send_claims WHERE candidate = %s", (key,))
            forget_list = ForgetList(self._forget_key(cur, create=True) or b"", [])
            cur.execute("INSERT INTO forgotten (entry) VALUES (%s)", (Jsonb(forget_list.entry(erasure)),))
            self._changed(cur)
        with contextlib.suppress(OSError):
            self.ranking_path.unlink(missing_ok=True)
        return counts

    @staticmethod
    def _forget_key(cur: psycopg.Cursor[Any], *, create: bool) -> bytes | None:
        if create:
            cur.execute(
                "INSERT INTO forget_key (one, key) VALUES (true, %s) ON CONFLICT (one) DO NOTHING",
                (secrets.token_bytes(32),),
            )
        cur.execute("SELECT key FROM forget_key")
        row = cur.fetchone()
        return bytes(row[0]) if row else None

    def forgotten(self) -> ForgetList:
        """The team's forget list (see ``ForgetList``)."""
        with self.reading() as cur:
            cur.execute("SELECT entry FROM forgotten")
            entries = [row[0] for row in cur.fetchall()]
            if not entries:
                return ForgetList(b"", [])
            return ForgetList(self._forget_key(cur, create=False) or b"", entries)

    def _clear_forgotten(self, cur: psycopg.Cursor[Any], candidates: Sequence[Candidate]) -> None:
        """Imported anew: a forgotten candidate of the same name or address is not forgotten."""
        cur.execute("SELECT id, entry FROM forgotten")
        rows = cur.fetchall()
        if not rows:
            return
        hashes = ForgetList(self._forget_key(cur, create=False) or b"", []).hashes_of(candidates)
        ids = [rid for rid, entry in rows if hashes & {*entry.get("names", []), *entry.get("addresses", [])}]
        if ids:
            cur.execute("DELETE FROM forgotten WHERE id = ANY(%s)", (ids,))


def keyring_name(url: str) -> str:
    """The keyring entry (service ``inbox-watch``) that holds the database password."""
    return describe_url(url).removeprefix("PostgreSQL ")


def _password(config: Config) -> str | None:
    """The database password from ``[store] password_env``; None lets libpq read
    ``~/.pgpass`` (``PGPASSFILE``), and when the server still asks for one, the keyring's
    ``postgresql:user@host:port/db`` entry is tried."""
    if config.store_password_env:
        return os.environ.get(config.store_password_env) or None
    return None


def _loads(doc: bytes) -> Any:
    try:
        return orjson.loads(doc)
    except orjson.JSONDecodeError:
        return None
