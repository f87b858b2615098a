"""The command line: argument parsing and printing only. Everything else is in service.py."""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import sys
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any, NoReturn, TextIO

from inbox_watch import __version__
from inbox_watch.errors import ConfigError, InboxWatchError, UsageError

log = logging.getLogger("inbox_watch")

SDK_LOGGERS = (
    "imapclient",
    "googleapiclient",
    "google_auth_oauthlib",
    "google.auth",
    "msal",
    "httpx",
    "httpcore",
    "urllib3",
)

EPILOG = """\
Start with `inbox-watch demo` to see the dashboard on a sample mailbox.
Configuration: --config FILE, else $INBOX_WATCH_CONFIG, else the user config dir (see README)."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:  # one clear line, exit 2
        command = self.prog.removeprefix("inbox-watch").strip()  # main() names the program
        raise UsageError(f"{command}: {message} (see --help)" if command else f"{message} (see --help)")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="inbox-watch",
        description="Find candidates whose interview-scheduling email went unanswered, and chase them.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--config", type=Path, help="config file (TOML)")
    parser.add_argument("--debug", action="store_true", help="show debug logs and tracebacks")
    parser.add_argument("--version", action="version", version=f"inbox-watch {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    sub.add_parser("demo", help="the dashboard on a built-in sample mailbox (no account, no network)").add_argument(
        "--print", action="store_true", help="print the ranked report instead of opening the dashboard"
    )
    sub.add_parser("tui", help="the dashboard (also what a bare `inbox-watch` opens)")
    p = sub.add_parser("sync", help="one incremental sync pass; prints what changed")
    p.add_argument("--account", help="only this account")
    p.add_argument(
        "--timeout",
        type=_seconds,
        metavar="SECONDS",
        help="stop the pass after this long, keeping what was read (default: [daemon] pass_timeout, 600)",
    )
    sub.add_parser("daemon", help="sync every interval until SIGTERM/SIGINT")
    p = sub.add_parser("today", help="the day's plan: chasers due, calls with times, employer updates owed")
    p.add_argument("--json", action="store_true", help="one JSON object")
    p.add_argument("--ics", type=Path, metavar="FILE", help="write the calls as calendar events with reminders")
    p.add_argument("--now", help="plan as of this ISO 8601 instant")
    p = sub.add_parser("report", help="the ranked candidates")
    p.add_argument("--json", action="store_true", help="one JSON object (its fields: README, Commands)")
    p.add_argument("--now", help="evaluate as of this ISO 8601 instant")
    p.add_argument("--mine", action="store_true", help="team mode: only the candidates you own")
    p = sub.add_parser("classify", help="classify .eml files")
    p.add_argument("--json", action="store_true", help="one JSON object per file, one per line")
    p.add_argument("files", nargs="+", metavar="FILE.eml")
    p = sub.add_parser("candidates", help="import or list candidates")
    csub = p.add_subparsers(dest="candidates_command", metavar="import|list", parser_class=_Parser)
    csub.required = True
    p = csub.add_parser("import", help="import a roster CSV (Excel's too: , ; or tab, any common encoding)")
    p.add_argument("file", type=Path, metavar="FILE.csv")
    p.add_argument("--encoding", help="the file's encoding when it is not detected right (e.g. cp1250)")
    csub.add_parser("list", help="list candidates")
    for name, what in (
        ("chase", "a chaser in the candidate's thread"),
        ("update-employer", "a holding reply to the employer"),
    ):
        p = sub.add_parser(name, help=what)
        p.add_argument("name", metavar="NAME")
        mode = p.add_mutually_exclusive_group(required=True)
        mode.add_argument("--draft", action="store_true", help="save it to the mailbox's drafts")
        mode.add_argument("--send", action="store_true", help="send it now")
        p.add_argument("--now", help="evaluate as of this ISO 8601 instant")
        p.add_argument(
            "--force",
            action="store_true",
            help=(
                "chase even if a chaser went out within a business day, or the candidate is pulled, snoozed, "
                "out of the office or bounced"
                if name == "chase"
                else "send even if an update about this candidate went out within a business day"
            ),
        )
    p = sub.add_parser("log", help="log a call, text or DM")
    p.add_argument("name", metavar="NAME")
    p.add_argument("channel", choices=("call", "text", "dm"))
    p.add_argument("--note", default="", help="what was said")
    p = sub.add_parser("snooze", help="pause a candidate until a date")
    p.add_argument("name", metavar="NAME")
    p.add_argument("--until", required=True, metavar="DATE", help="YYYY-MM-DD")
    p.add_argument("--reason", default="", help="why (shown in the report)")
    sub.add_parser("unsnooze", help="end a candidate's snooze now").add_argument("name", metavar="NAME")
    sub.add_parser("pull", help="mark a candidate pulled from the campaign").add_argument("name", metavar="NAME")
    sub.add_parser("unpull", help="put a pulled candidate back in the campaign").add_argument("name", metavar="NAME")
    p = sub.add_parser("forget", help="erase a candidate and their own mail from the store (asks first)")
    p.add_argument("name", metavar="NAME")
    p.add_argument("--yes", action="store_true", help="do not ask (needed without a terminal)")
    p = sub.add_parser("store", help="the store: `store init` creates or migrates the team database's schema")
    ssub = p.add_subparsers(dest="store_command", metavar="init", parser_class=_Parser)
    ssub.required = True
    ssub.add_parser("init", help="create or migrate the schema (team mode)")
    p = sub.add_parser("auth", help="sign in to an account (OAuth for gmail/outlook, password for imap)")
    p.add_argument("account", metavar="ACCOUNT")
    p.add_argument("--no-browser", action="store_true", help="print a URL or code instead of opening a browser")
    _debug_everywhere(sub)
    return parser


def _debug_everywhere(sub: Any) -> None:
    """``--debug`` after the command too (``report --debug``), as the error hint suggests it."""
    for command in set(sub.choices.values()):
        command.add_argument("--debug", action="store_true", default=argparse.SUPPRESS, help=argparse.SUPPRESS)
        for action in command._subparsers._group_actions if command._subparsers else ():  # noqa: SLF001
            _debug_everywhere(action)


def main(argv: Sequence[str] | None = None) -> int:
    args_list = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in args_list
    logging.basicConfig(
        level=logging.DEBUG if debug else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    # The SDKs say only what went wrong (WARNING) unless --debug; even then their own debug
    # logs stay off: some echo request headers and bodies, which carry bearer tokens and
    # passwords. Our own logs never do.
    for noisy in SDK_LOGGERS:
        logging.getLogger(noisy).setLevel(logging.INFO if debug else logging.WARNING)
    try:
        args = build_parser().parse_args(args_list)
        code = run(args)
        sys.stdout.flush()  # a closed pipe shows here, not at exit
        return code
    except BrokenPipeError:
        # `inbox-watch report | head`: the reader has what it wanted. Say nothing, and keep
        # Python from complaining when it flushes stdout at exit.
        with contextlib.suppress(OSError, ValueError):
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141  # 128 + SIGPIPE, as a shell reports a command a pipe cut short
    except InboxWatchError as exc:
        if debug:
            log.exception("failed")
        print(f"inbox-watch: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("inbox-watch: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # noqa: BLE001 - the one place a surprise becomes one line
        if debug:
            raise
        print(
            f"inbox-watch: unexpected error: {type(exc).__name__}: {exc} (run with --debug for details)",
            file=sys.stderr,
        )
        return 70


def _config(args: argparse.Namespace) -> Any:
    from inbox_watch.config import load_config

    return load_config(args.config)


def _workspace(args: argparse.Namespace, *, pooled: bool = False) -> Any:
    from inbox_watch.service import Workspace

    return Workspace.open(_config(args), pooled=pooled)


def run(args: argparse.Namespace) -> int:
    command = args.command or "tui"
    handler = COMMANDS[command]
    return handler(args)


# --- commands -----------------------------------------------------------------------------


def cmd_demo(args: argparse.Namespace) -> int:
    from inbox_watch.demo import open_demo

    with open_demo() as workspace:
        if args.print or not sys.stdout.isatty():
            from inbox_watch.service import parse_now

            print_report(workspace, workspace.report(parse_now(None)), sys.stdout)
            return 0
        return _run_tui(workspace, demo=True)


def _run_tui(workspace: Any, *, demo: bool) -> int:
    try:
        from tui.app import create_app, logs_in_dashboard
    except ImportError:
        raise UsageError("the dashboard is not installed in this build; use `inbox-watch report`") from None
    app = create_app(workspace, demo=demo)
    with logs_in_dashboard(app):
        app.run()
    return int(app.return_code or 0)


def cmd_tui(args: argparse.Namespace) -> int:
    return _run_tui(_workspace(args, pooled=True), demo=False)


def _progress(stream: TextIO) -> Any:
    tty = stream.isatty()
    last = {"shown": -1}

    def progress(done: int, total: int | None, what: str) -> None:
        if not tty:
            return
        step = done * 20 // total if total else done // 500
        if step != last["shown"]:
            last["shown"] = step
            of = f"/{total}" if total else ""
            print(f"\r  {what}: {done}{of} messages", end="", file=stream, flush=True)

    return progress


def _seconds(text: str) -> float:
    """``--timeout``: a number of seconds from 1 to 86400 (argparse shows the error, exit 2)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of seconds, not {text!r}") from None
    if not 1 <= value <= 86400:
        raise argparse.ArgumentTypeError(f"expected 1 to 86400 seconds, not {text}")
    return value


def cmd_sync(args: argparse.Namespace) -> int:
    from inbox_watch.store_api import open_store
    from inbox_watch.sync import sync_all

    config = _require_accounts(_config(args))  # no engine needed: a sync only fetches and stores
    results, errors = sync_all(
        open_store(config), config, only=args.account, progress=_progress(sys.stderr), timeout=args.timeout
    )
    if sys.stderr.isatty():
        print("\r\x1b[K", end="", file=sys.stderr)  # clear the progress line
    for result in results:
        print(result.describe())
        for note in result.outbox_notes:
            print(note)
    for name, error in errors:
        print(f"inbox-watch: {name}: {error}", file=sys.stderr)
    return 1 if errors else 0


def _require_accounts(config: Any) -> Any:
    """``config``, or a ConfigError when it has no account to sync (sync, daemon)."""
    if not config.accounts:
        where = f" in {config.path}" if config.path else ""
        raise ConfigError(f"no mail account{where}: add an [[accounts]] section (see README, Configuration)")
    return config


def cmd_daemon(args: argparse.Namespace) -> int:
    from inbox_watch.daemon import run_daemon
    from inbox_watch.service import Workspace

    workspace = Workspace.open(_require_accounts(_config(args)), pooled=True)
    return run_daemon(workspace, hard_exit=True, log_file=True, debug=bool(getattr(args, "debug", False)))


def print_report(workspace: Any, report: dict[str, Any], out: TextIO) -> None:
    rows = report["candidates"]
    if not rows:
        print("No candidates yet: import a roster (`inbox-watch candidates import FILE.csv`) and sync.", file=out)
        return
    from inbox_watch.vocabulary import action_word, status_word  # the dashboard's words too

    clock = workspace.clock
    team = bool(getattr(workspace.config, "team", False))  # team mode: an owner column
    owner_head = f"{'owner':<16} " if team else ""
    header = (
        f"{'#':>3}  {'candidate':<20} {owner_head}{'status':<13} {'silent':>7} {'ch':>2} {'emp':>3}  "
        f"{'next action':<17} why"
    )
    print(header, file=out)
    for row in rows:
        silent = clock.format_hours(row["silent_business_hours"]) if row["waiting_since"] else "-"
        why = row["reasons"][0] if row["reasons"] else ""
        owner = f"{row.get('owner', '')[:16]:<16} " if team else ""
        print(
            f"{row['rank']:>3}  {row['candidate'][:20]:<20} {owner}{status_word(row['status']):<13} {silent:>7} "
            f"{row['chasers_sent']:>2} {'!' if row['employer_waiting'] else '':>3}  "
            f"{action_word(row['next_action']):<17} {why}",
            file=out,
        )


def cmd_report(args: argparse.Namespace) -> int:
    from inbox_watch.service import parse_now

    now = parse_now(args.now)
    workspace = _workspace(args)
    report = workspace.report(now, mine=args.mine)
    if args.json:
        print(json.dumps(report, ensure_ascii=False))
    else:
        print_report(workspace, report, sys.stdout)
    return 0


def cmd_today(args: argparse.Namespace) -> int:
    from inbox_watch.engine.plan import to_ics
    from inbox_watch.secrets import write_private

    plan = _workspace(args).today(_now(args))
    if args.ics is not None:
        try:
            write_private(args.ics, to_ics(plan))  # candidates' numbers: private, like the store
        except OSError as exc:
            raise UsageError(f"--ics {args.ics}: cannot write the file: {exc.strerror or exc}") from None
    if args.json:
        print(json.dumps(plan.to_dict(), ensure_ascii=False))
    else:
        print("\n".join(plan.lines()))
        if args.ics is not None:
            print(f"\n{len(plan.calls)} call(s) written to {args.ics}")
    return 0


def cmd_classify(args: argparse.Namespace) -> int:
    from inbox_watch.engine.classify import classify
    from inbox_watch.mime import parse_bytes

    for name in args.files:
        try:
            raw = Path(name).read_bytes()
        except OSError as exc:
            kind, reasons = "other", [f"cannot read the file: {exc.strerror or exc}"]
        else:
            try:
                result = classify(parse_bytes(raw))
                kind, reasons = result.kind.value, list(result.reasons)
            except Exception as exc:  # noqa: BLE001 - a file that cannot be parsed still gets a line
                log.debug("cannot parse %s", name, exc_info=True)
                kind, reasons = "other", [f"cannot parse the message: {type(exc).__name__}"]
        if args.json:
            print(json.dumps({"file": name, "kind": kind, "reasons": reasons}, ensure_ascii=False))
        else:
            print(f"{name}: {kind} ({'; '.join(reasons)})")
    return 0


def cmd_candidates(args: argparse.Namespace) -> int:
    workspace = _workspace(args)
    if args.candidates_command == "import":
        from inbox_watch.roster import read_roster

        notes: list[str] = []
        problems: list[str] = []
        region = workspace.config.policy.phone_region
        candidates = read_roster(args.file, notes, problems, region=region, encoding=args.encoding)
        for problem in problems:  # each bad row by its line; the good ones are imported
            print(f"inbox-watch: {problem}", file=sys.stderr)
        if not candidates:
            raise UsageError(f"{args.file}: no candidate imported ({_rows(len(problems))} could not be read)")
        added, updated = workspace.store.upsert_candidates(candidates)
        for note in notes:
            print(note)
        skipped = f"; skipped {_rows(len(problems))} (above)" if problems else ""
        print(f"imported {added + updated} candidates from {args.file} ({added} new, {updated} updated){skipped}")
        return 1 if problems else 0
    candidates = sorted(workspace.store.candidates(), key=lambda c: c.name.casefold())
    if not candidates:
        print("No candidates yet: `inbox-watch candidates import FILE.csv`.")
    for c in candidates:
        where = f"{c.role} @ {c.employer}" if c.role or c.employer else ""
        print(f"{c.name:<24} {', '.join(c.emails):<36} {where:<36} {c.stage}".rstrip())
    return 0


def _rows(count: int) -> str:
    return f"{count} bad row{'s' if count != 1 else ''}"


def _now(args: argparse.Namespace) -> datetime:
    from inbox_watch.service import parse_now

    return parse_now(getattr(args, "now", None))


def _carry_out(workspace: Any, state: Any, draft: Any, send: bool, now: datetime, *, force: bool = False) -> int:
    from inbox_watch import outbox
    from inbox_watch.models import ActionMode, ActionState

    action = workspace.queue(state, draft, ActionMode.SEND if send else ActionMode.DRAFT, now, force=force)
    results = workspace.run_actions({action.id}, now)
    done = [a for a in results if a.state is ActionState.DONE]
    what = "sent" if send else "saved to drafts"
    if done:
        warning = f" (but {done[0].warning})" if done[0].warning else ""
        print(
            f"{draft.kind.replace('_', ' ')} for {state.candidate.name} {what}: "
            f"{draft.subject} -> {', '.join(draft.to)}{warning}"
        )
        return 0
    line = outbox.outcome(results[0]) if results else f"{draft.kind.replace('_', ' ')} not carried out"
    print(f"inbox-watch: {line}", file=sys.stderr)
    return 1


def cmd_chase(args: argparse.Namespace) -> int:
    now = _now(args)
    workspace = _workspace(args)
    state = workspace.state_of(args.name, now)
    draft = workspace.chaser_draft(state, force=args.force)
    return _carry_out(workspace, state, draft, args.send, now, force=args.force)


def cmd_update_employer(args: argparse.Namespace) -> int:
    now = _now(args)
    workspace = _workspace(args)
    states, threads = workspace.evaluate_with_threads(now)  # one read: the state and the employer's mail
    state = workspace.find_state(states, args.name)
    draft = workspace.employer_draft(state, now, threads, [s.candidate for s in states])
    return _carry_out(workspace, state, draft, args.send, now, force=args.force)


def cmd_log(args: argparse.Namespace) -> int:
    now = _now(args)
    state = _workspace(args).log_touch(args.name, args.channel, args.note, now)
    from inbox_watch.vocabulary import action_word

    print(f"logged a {args.channel} with {state.candidate.name}; next: {action_word(state.next_action)}")
    return 0


def cmd_snooze(args: argparse.Namespace) -> int:
    from inbox_watch.service import parse_day

    now = _now(args)
    state = _workspace(args).snooze(args.name, parse_day(args.until), args.reason, now)
    print(f"snoozed {state.candidate.name} until {args.until}")
    return 0


def cmd_unsnooze(args: argparse.Namespace) -> int:
    state, changed = _workspace(args).unsnooze(args.name, _now(args))
    name = state.candidate.name
    print(f"{name} is no longer snoozed; next: {state.next_action.value}" if changed else f"{name} is not snoozed")
    return 0


def cmd_pull(args: argparse.Namespace) -> int:
    state, changed = _workspace(args).pull(args.name, _now(args))
    name = state.candidate.name
    if not changed:
        print(f"{name} was already pulled from the campaign (`inbox-watch unpull` puts them back)")
        return 0
    print(f"{name} is pulled from the campaign (`inbox-watch update-employer` drafts the note)")
    return 0


def cmd_unpull(args: argparse.Namespace) -> int:
    state, changed = _workspace(args).unpull(args.name, _now(args))
    name = state.candidate.name
    print(f"{name} is back in the campaign; next: {state.next_action.value}" if changed else f"{name} is not pulled")
    return 0


ERASED = (  # what `forget` counts, as the recruiter reads it (singular, plural)
    ("candidates", "candidate", "candidates"),
    ("messages", "message", "messages"),
    ("touches", "logged contact", "logged contacts"),
    ("snoozes", "snooze", "snoozes"),
    ("pulled", "pulled mark", "pulled marks"),
    ("outbox", "queued action", "queued actions"),
    ("temp files", "leftover temp file", "leftover temp files"),
)


def describe_erased(counts: dict[str, int]) -> str:
    """ "1 candidate, 3 messages, 1 logged contact": the candidate and their messages always,
    the rest when there were any."""
    parts = []
    for key, one, many in ERASED:
        count = counts.get(key, 0)
        if count or key in ("candidates", "messages"):
            parts.append(f"{count} {one if count == 1 else many}")
    return ", ".join(parts)


def cmd_forget(args: argparse.Namespace) -> int:
    now = _now(args)
    workspace = _workspace(args)
    name = workspace.state_of(args.name, now).candidate.name
    if not args.yes:
        _confirm_forget(name)
    name, counts = workspace.forget(name, now)
    print(f"forgot {name}: erased {describe_erased(counts)}")
    return 0


def _confirm_forget(name: str) -> None:
    """Ask at a terminal; without one, refuse (a script says --yes)."""
    from inbox_watch.errors import ActionRefused

    if not sys.stdin.isatty():
        raise ActionRefused(
            f"forget {name}: nothing erased: no terminal to confirm at (add --yes to erase without asking)"
        )
    print(
        f"Erase {name} from the store: their roster entry, logs, queued actions and the mail that is theirs "
        "alone? Your mailbox is not changed. [y/N] ",
        end="",
        file=sys.stderr,
        flush=True,
    )
    try:
        answer = input()
    except EOFError:
        answer = ""
    if answer.strip().lower() not in ("y", "yes"):
        raise ActionRefused(f"forget {name}: not confirmed; nothing erased")


def cmd_store(args: argparse.Namespace) -> int:
    config = _config(args)
    if not config.store_url:
        from inbox_watch.store import Store

        with Store(config.store_path).transaction():  # creates or migrates the file
            pass
        print(f"{config.store_path}: the TinyDB store is ready (team mode needs [store] url)")
        return 0
    from inbox_watch.store_pg import PgStore

    store = PgStore.from_config(config, check=False)
    before, now = store.init()
    if before is None:
        print(f"{store.where}: schema created (version {now})")
    elif before < now:
        print(f"{store.where}: schema migrated from version {before} to {now}")
    else:
        print(f"{store.where}: schema already at version {now}; nothing to do")
    return 0


def cmd_auth(args: argparse.Namespace) -> int:
    config = _config(args)
    account = config.account(args.account)
    import importlib

    if account.provider not in ("imap", "gmail", "outlook"):
        raise UsageError(f"account {account.name!r} ({account.provider}) needs no sign-in")
    # Each provider package exports authenticate(account, *, no_browser=...) -> one line.
    provider = importlib.import_module(f"providers.{account.provider}")
    print(provider.authenticate(account, no_browser=args.no_browser))
    return 0


COMMANDS = {
    "demo": cmd_demo,
    "tui": cmd_tui,
    "sync": cmd_sync,
    "daemon": cmd_daemon,
    "report": cmd_report,
    "today": cmd_today,
    "classify": cmd_classify,
    "candidates": cmd_candidates,
    "chase": cmd_chase,
    "update-employer": cmd_update_employer,
    "log": cmd_log,
    "snooze": cmd_snooze,
    "unsnooze": cmd_unsnooze,
    "pull": cmd_pull,
    "unpull": cmd_unpull,
    "forget": cmd_forget,
    "store": cmd_store,
    "auth": cmd_auth,
}
