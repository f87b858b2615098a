"""TOML configuration -> typed settings. Every error names the file, the key and what is allowed."""

from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass, field
from datetime import time
from pathlib import Path
from typing import Any

from inbox_watch.errors import ConfigError

WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
PROVIDERS = ("imap", "gmail", "outlook", "demo")
SECURITY = ("ssl", "starttls", "none")
APP_NAME = "inbox-watch"
PASS_TIMEOUT = 600  # seconds: [daemon] pass_timeout, the deadline of one sync pass
DEFAULT_HOLIDAYS = "GB-ENG"  # England's bank holidays: "GB" alone has only the days common to the UK
HOLIDAYS_EXPECTED = (
    "expected a country code of the holidays package, optionally with a subdivision "
    "(e.g. 'GB-ENG', 'GB-SCT', 'US-NY', 'FR'), or '' for none"
)


@dataclass(frozen=True, slots=True)
class RecruiterConfig:
    name: str = "Recruiter"
    addresses: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Policy:
    timezone: str = "Europe/London"
    workdays: tuple[int, ...] = (0, 1, 2, 3, 4)  # Monday = 0
    day_start: time = time(9, 0)
    day_end: time = time(17, 30)
    holidays: str = DEFAULT_HOLIDAYS  # holidays-package country, optionally "-SUBDIVISION"; "" for none
    silent_after_business_hours: float = 8.5
    pull_after_business_days: float = 5.0
    country: str = ""  # ISO 3166 code: the region a phone number without "+" is read in ("" derives it)

    @property
    def phone_region(self) -> str:
        """The country a number written without its country code belongs to: ``country``, else
        the holidays' country ("GB-ENG" -> "GB"); "" when neither says (such numbers then need
        their "+" code)."""
        return self.country or self.holidays.partition("-")[0].upper()

    @property
    def business_hours_per_day(self) -> float:
        start = self.day_start.hour * 60 + self.day_start.minute
        end = self.day_end.hour * 60 + self.day_end.minute
        return (end - start) / 60


@dataclass(frozen=True, slots=True)
class AccountConfig:
    """One mail account. Keys that do not apply to the provider stay at their defaults."""

    name: str
    provider: str
    host: str = ""
    port: int = 0
    security: str = "ssl"
    username: str = ""
    password_env: str = ""
    allow_insecure: bool = False
    smtp_host: str = ""
    smtp_port: int = 0
    smtp_security: str = "ssl"
    smtp_username: str = ""
    smtp_password_env: str = ""
    api_base_url: str = ""
    access_token_env: str = ""
    client_id: str = ""
    client_secret: str = ""
    client_secrets_file: str = ""
    tenant: str = "common"
    authority_url: str = ""
    lookback_days: int = 180
    ca_file: str = ""
    from_address: str = ""  # as configured; sender_address() gives the one in use
    poll_interval: int = 0  # seconds between the daemon's polls; 0: the provider's default (Config.poll_interval)
    webmail_url: str = ""  # IMAP: the webmail's address of a message, e.g. "https://mail.example.com/?_uid={uid}"


def sender_address(account: AccountConfig, recruiter: RecruiterConfig) -> str:
    """The address ``account`` sends as (From, and the SMTP envelope sender): its
    ``from_address``, else its ``username`` when that is an email address, else the
    recruiter's first address ("" when there is none)."""
    if account.from_address:
        return account.from_address
    if _EMAIL.match(account.username):
        return account.username
    return recruiter.addresses[0] if recruiter.addresses else ""


WEBMAIL_FIELDS = ("message_id", "folder", "uid")  # the placeholders a webmail_url template may use


MIN_POLL_INTERVAL = 15  # seconds: a mail service polled faster than this gains nothing and risks its quota
DEFAULT_API_POLL_INTERVAL = 60  # Gmail and Outlook: one history.list / delta round a minute


@dataclass(frozen=True, slots=True)
class NotifyConfig:
    """``[notify]``: desktop notices from the daemon, and the morning plan."""

    enabled: bool = True
    quiet_hours: tuple[time, time] | None = (time(19, 0), time(8, 0))  # local (policy) time; None: never quiet
    morning_plan: bool = False


@dataclass(frozen=True, slots=True)
class Config:
    path: Path | None
    recruiter: RecruiterConfig = field(default_factory=RecruiterConfig)
    policy: Policy = field(default_factory=Policy)
    store_path: Path = field(default_factory=lambda: default_data_dir() / "store.json")
    templates_dir: Path | None = None
    accounts: tuple[AccountConfig, ...] = ()
    interval: int = 300
    pass_timeout: int = PASS_TIMEOUT  # seconds one sync pass (every account) may take
    notify: NotifyConfig = field(default_factory=NotifyConfig)
    store_url: str = ""  # team mode: the agency's PostgreSQL (a libpq URI); "" for the TinyDB file
    store_password_env: str = ""  # the environment variable holding the database password
    share_excerpts: bool = False  # [team]: teammates may read this recruiter's message excerpts

    @property
    def team(self) -> bool:
        return bool(self.store_url)

    def poll_interval(self, account: AccountConfig) -> int:
        """Seconds between the daemon's passes of ``account``: its ``poll_interval``, else 60 s
        for Gmail and Outlook (no push reaches a desktop) and ``[daemon] interval`` for IMAP
        (IDLE wakes it at once on new mail; the interval polls the folders IDLE cannot watch)."""
        if account.poll_interval:
            return account.poll_interval
        if account.provider in ("gmail", "outlook"):
            return DEFAULT_API_POLL_INTERVAL
        return self.interval

    def account(self, name: str | None = None) -> AccountConfig:
        from inbox_watch.errors import UsageError

        if not self.accounts:
            raise UsageError(f"no [[accounts]] in {self.path or 'the config'}: add one (see README, Configuration)")
        if name is None:
            return self.accounts[0]
        for account in self.accounts:
            if account.name == name:
                return account
        names = ", ".join(a.name for a in self.accounts)
        raise UsageError(f"no account named {name!r} (configured: {names})")


def default_config_dir() -> Path:
    import platformdirs

    return Path(platformdirs.user_config_dir(APP_NAME, appauthor=False))


def default_data_dir() -> Path:
    import platformdirs

    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))


def default_config_path() -> Path:
    env = os.environ.get("INBOX_WATCH_CONFIG")
    if env:
        return Path(env)
    return default_config_dir() / "config.toml"


class _Section:
    """Reads typed keys from one TOML table, naming file and key in every error."""

    def __init__(self, path: Path, prefix: str, data: Any, allowed: set[str]) -> None:
        if not isinstance(data, dict):
            raise ConfigError(f"{path}: [{prefix}] must be a table")
        unknown = sorted(set(data) - allowed)
        if unknown:
            raise ConfigError(f"{path}: unknown key {prefix}.{unknown[0]} (allowed: {', '.join(sorted(allowed))})")
        self.path, self.prefix, self.data = path, prefix, data

    def _fail(self, key: str, allowed: str, value: Any) -> ConfigError:
        return ConfigError(f"{self.path}: {self.prefix}.{key} = {value!r} is invalid: {allowed}")

    def text(self, key: str, default: str, choices: tuple[str, ...] | None = None) -> str:
        value = self.data.get(key, default)
        if not isinstance(value, str):
            raise self._fail(key, "expected a string", value)
        if choices is not None and value not in choices:
            raise self._fail(key, "expected one of " + ", ".join(repr(c) for c in choices), value)
        return value

    def whole(self, key: str, default: int, minimum: int = 0, maximum: int = 1 << 30) -> int:
        value = self.data.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int) or not minimum <= value <= maximum:
            raise self._fail(key, f"expected a whole number from {minimum} to {maximum}", value)
        return value

    def number(self, key: str, default: float, minimum: float = 0.0) -> float:
        value = self.data.get(key, default)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value < minimum:
            raise self._fail(key, f"expected a number of at least {minimum:g}", value)
        return float(value)

    def flag(self, key: str, default: bool) -> bool:
        value = self.data.get(key, default)
        if not isinstance(value, bool):
            raise self._fail(key, "expected true or false", value)
        return value

    def str_list(self, key: str, default: tuple[str, ...]) -> tuple[str, ...]:
        value = self.data.get(key, list(default))
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise self._fail(key, "expected a list of strings", value)
        return tuple(value)


_HOURS = re.compile(r"^(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+$")


def _policy(path: Path, data: Any) -> Policy:
    s = _Section(
        path,
        "policy",
        data,
        {
            "timezone",
            "workdays",
            "business_hours",
            "holidays",
            "silent_after_business_hours",
            "pull_after_business_days",
            "country",
        },
    )
    tz = s.text("timezone", "Europe/London")
    try:
        from zoneinfo import ZoneInfo

        ZoneInfo(tz)
    except (KeyError, ValueError, OSError):
        raise s._fail("timezone", "expected an IANA time zone such as 'Europe/London'", tz) from None
    days = s.str_list("workdays", WEEKDAYS[:5])
    bad = [d for d in days if d not in WEEKDAYS]
    if bad or not days:
        raise s._fail("workdays", "expected day names from " + ", ".join(WEEKDAYS), days)
    hours = s.text("business_hours", "09:00-17:30")
    match = _HOURS.match(hours)
    if not match:
        raise s._fail("business_hours", "expected 'HH:MM-HH:MM'", hours)
    h1, m1, h2, m2 = (int(g) for g in match.groups())
    if h1 > 23 or h2 > 24 or m1 > 59 or m2 > 59 or (h2, m2) > (24, 0) or (h1, m1) >= (h2, m2):
        raise s._fail("business_hours", "expected a start before the end within one day", hours)
    end = time(23, 59, 59) if h2 == 24 else time(h2, m2)
    region = s.text("holidays", DEFAULT_HOLIDAYS).strip()
    country, dash, subdivision = region.partition("-")
    if region and (not re.fullmatch(r"[A-Za-z]{2,3}", country) or (dash and not subdivision.strip())):
        raise s._fail("holidays", HOLIDAYS_EXPECTED, region)
    phone_country = s.text("country", "").strip().upper()
    if phone_country:
        import phonenumbers

        if phone_country not in phonenumbers.SUPPORTED_REGIONS:
            raise s._fail("country", "expected a two-letter country code such as 'GB', 'FR' or 'US'", phone_country)
    elif not region:
        phone_country = country_of_zone(tz)
    return Policy(
        timezone=tz,
        workdays=tuple(sorted({WEEKDAYS.index(d) for d in days})),
        day_start=time(h1, m1),
        day_end=end,
        holidays=f"{country.upper()}-{subdivision.strip()}" if dash else country.upper(),
        silent_after_business_hours=s.number("silent_after_business_hours", 8.5),
        pull_after_business_days=s.number("pull_after_business_days", 5.0),
        country=phone_country,
    )


def country_of_zone(zone: str) -> str:
    """The country of an IANA time zone ("Europe/Paris" -> "FR") from the tz database's
    zone.tab (the tzdata package's, else the system's); "" when it is not a country's zone."""
    import importlib.resources

    texts = []
    try:
        texts.append(importlib.resources.files("tzdata").joinpath("zoneinfo", "zone.tab").read_text("utf-8"))
    except (ModuleNotFoundError, OSError):
        pass
    for folder in ("/usr/share/zoneinfo", "/usr/lib/zoneinfo"):
        try:
            texts.append(Path(folder, "zone.tab").read_text("utf-8"))
        except OSError:
            continue
    for text in texts:
        for line in text.splitlines():
            fields = line.split("\t")
            if len(fields) >= 3 and not line.startswith("#") and fields[2] == zone:
                return fields[0]
    return ""


_ACCOUNT_KEYS = {f for f in AccountConfig.__dataclass_fields__}


def _account(path: Path, index: int, data: Any) -> AccountConfig:
    prefix = f"accounts[{index}]"
    if isinstance(data, dict) and "interval" in data:
        # One schedule syncs every account (the daemon's loop, the dashboard's timer).
        raise ConfigError(
            f"{path}: {prefix}.interval is not supported: set {prefix}.poll_interval (seconds between "
            "the daemon's polls of this account), or [daemon] interval for every account"
        )
    s = _Section(path, prefix, data, _ACCOUNT_KEYS)
    name = s.text("name", "")
    if not name:
        raise s._fail("name", "every account needs a name", name)
    provider = s.text("provider", "", PROVIDERS)
    security = s.text("security", "ssl", SECURITY)
    default_port = {"ssl": 993, "starttls": 143, "none": 143}[security]
    smtp_security = s.text("smtp_security", "ssl", SECURITY)
    default_smtp_port = {"ssl": 465, "starttls": 587, "none": 25}[smtp_security]
    host = s.text("host", "")
    if provider == "imap" and not host:
        raise s._fail("host", "an imap account needs the IMAP server's host name", host)
    api_base_url = s.text("api_base_url", "")
    if api_base_url and not re.match(r"^https?://", api_base_url):
        raise s._fail("api_base_url", "expected an http:// or https:// URL", api_base_url)
    webmail_url = s.text("webmail_url", "")
    if webmail_url:
        try:
            webmail_url.format_map(dict.fromkeys(WEBMAIL_FIELDS, "x"))
        except (KeyError, ValueError, IndexError):
            raise s._fail(
                "webmail_url",
                "expected an https:// URL with placeholders among {message_id}, {folder}, {uid}",
                webmail_url,
            ) from None
        if not re.match(r"^https?://", webmail_url):
            raise s._fail("webmail_url", "expected an http:// or https:// URL", webmail_url)
    return AccountConfig(
        name=name,
        provider=provider,
        host=host,
        port=s.whole("port", default_port, 1, 65535),
        security=security,
        username=s.text("username", ""),
        password_env=s.text("password_env", ""),
        allow_insecure=s.flag("allow_insecure", False),
        smtp_host=s.text("smtp_host", ""),
        smtp_port=s.whole("smtp_port", default_smtp_port, 1, 65535),
        smtp_security=smtp_security,
        smtp_username=s.text("smtp_username", ""),
        smtp_password_env=s.text("smtp_password_env", ""),
        api_base_url=api_base_url,
        access_token_env=s.text("access_token_env", ""),
        client_id=s.text("client_id", ""),
        client_secret=s.text("client_secret", ""),
        client_secrets_file=_beside(path, s.text("client_secrets_file", "")),
        tenant=s.text("tenant", "common"),
        authority_url=s.text("authority_url", ""),
        lookback_days=s.whole("lookback_days", 180, 1, 36500),
        ca_file=_beside(path, s.text("ca_file", "")),
        from_address=_address(s, "from_address"),
        poll_interval=s.whole("poll_interval", 0, MIN_POLL_INTERVAL, 86400) if "poll_interval" in s.data else 0,
        webmail_url=webmail_url,
    )


def _address(s: _Section, key: str) -> str:
    value = s.text(key, "").strip()
    if value and (not _EMAIL.match(value) or any(c in value for c in '<>,;"\r\n')):
        raise s._fail(key, "expected one email address such as 'sam@agency.example'", value)
    return value


def _beside(config_path: Path, value: str) -> str:
    """A file named in the config: ``~`` expanded, and a relative path taken from the config
    file's folder (not from wherever the command runs)."""
    if not value:
        return ""
    return str(config_path.parent / Path(value).expanduser())


def parse_config(text: str, path: Path) -> Config:
    """Parse and validate config text; ``path`` is used in messages and to resolve relative paths."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    top = _Section(
        path, "config", data, {"recruiter", "policy", "store", "team", "accounts", "templates", "daemon", "notify"}
    )
    rec = _Section(path, "recruiter", top.data.get("recruiter", {}), {"name", "addresses"})
    addresses = tuple(a.strip().lower() for a in rec.str_list("addresses", ()))
    for address in addresses:
        if not _EMAIL.match(address):
            raise rec._fail("addresses", "expected email addresses", address)
    recruiter = RecruiterConfig(name=rec.text("name", "Recruiter"), addresses=addresses)
    policy = _policy(path, top.data.get("policy", {}))
    store = _Section(path, "store", top.data.get("store", {}), {"path", "url", "password_env"})
    base = path.parent
    store_path_text = store.text("path", "")
    store_url = store.text("url", "").strip()
    if store_url and store_path_text:
        raise ConfigError(
            f"{path}: store.path and store.url are both set: use path for your own TinyDB file "
            "or url for the team's PostgreSQL, not both"
        )
    if store_url and not re.match(r"^postgres(ql)?://", store_url):
        raise store._fail(
            "url", "expected a PostgreSQL URI such as 'postgresql://USER@HOST:5432/DBNAME'", _no_password(store_url)
        )
    if store_url and _has_password(store_url):
        raise ConfigError(
            f"{path}: store.url must not carry the password: use store.password_env, ~/.pgpass or the keyring"
        )
    team = _Section(path, "team", top.data.get("team", {}), {"share_excerpts"})
    if store_url and not addresses:
        raise ConfigError(
            f"{path}: team mode (store.url) needs [recruiter] addresses: they tell your mail from your teammates'"
        )
    store_path = base / Path(store_path_text).expanduser() if store_path_text else default_data_dir() / "store.json"
    if store_path_text and (
        store_path_text.endswith(("/", os.sep)) or store_path.name in ("", ".", "..") or store_path.is_dir()
    ):
        raise store._fail(
            "path", "expected a file, such as '~/.local/share/inbox-watch/store.json', not a folder", store_path_text
        )
    templates = _Section(path, "templates", top.data.get("templates", {}), {"dir"})
    templates_text = templates.text("dir", "")
    templates_dir = base / Path(templates_text).expanduser() if templates_text else None
    daemon = _Section(path, "daemon", top.data.get("daemon", {}), {"interval", "pass_timeout"})
    notify = _notify(path, top.data.get("notify", {}))
    raw_accounts = top.data.get("accounts", [])
    if not isinstance(raw_accounts, list):
        raise ConfigError(f"{path}: accounts must be an array of tables ([[accounts]])")
    accounts = tuple(_account(path, i, a) for i, a in enumerate(raw_accounts))
    names = [a.name for a in accounts]
    for name in names:
        if names.count(name) > 1:
            raise ConfigError(f"{path}: accounts: the name {name!r} is used twice")
    # Every address an account sends as is one of the recruiter's: what it sent is theirs.
    senders = (sender_address(a, recruiter).lower() for a in accounts)
    recruiter = RecruiterConfig(recruiter.name, tuple(dict.fromkeys((*addresses, *(a for a in senders if a)))))
    return Config(
        path=path,
        recruiter=recruiter,
        policy=policy,
        store_path=store_path,
        templates_dir=templates_dir,
        accounts=accounts,
        interval=daemon.whole("interval", 300, 5, 86400),
        pass_timeout=daemon.whole("pass_timeout", PASS_TIMEOUT, 10, 86400),
        notify=notify,
        store_url=store_url,
        store_password_env=store.text("password_env", ""),
        share_excerpts=team.flag("share_excerpts", False),
    )


def _notify(path: Path, data: Any) -> NotifyConfig:
    s = _Section(path, "notify", data, {"enabled", "quiet_hours", "morning_plan"})
    quiet_text = s.text("quiet_hours", "19:00-08:00").strip()
    quiet: tuple[time, time] | None = None
    if quiet_text:
        match = _HOURS.match(quiet_text)
        if not match:
            raise s._fail("quiet_hours", "expected 'HH:MM-HH:MM' (e.g. '19:00-08:00'), or '' for none", quiet_text)
        h1, m1, h2, m2 = (int(g) for g in match.groups())
        if h1 > 23 or h2 > 23 or m1 > 59 or m2 > 59 or (h1, m1) == (h2, m2):
            raise s._fail("quiet_hours", "expected two different times of day, 'HH:MM-HH:MM'", quiet_text)
        quiet = (time(h1, m1), time(h2, m2))
    return NotifyConfig(enabled=s.flag("enabled", True), quiet_hours=quiet, morning_plan=s.flag("morning_plan", False))


def _has_password(url: str) -> bool:
    """Whether a libpq URI carries a password (``user:secret@`` or ``?password=``)."""
    rest = re.sub(r"^postgres(ql)?://", "", url)
    userinfo = rest.split("/", 1)[0].rpartition("@")[0]
    return ":" in userinfo or bool(re.search(r"[?&]password=", url))


def _no_password(url: str) -> str:
    """``url`` with any password blanked, for messages."""
    url = re.sub(r"(://[^:/@]*):[^@/]*@", r"\1:***@", url)
    return re.sub(r"([?&]password=)[^&]*", r"\1***", url)


def holiday_region(region: str) -> tuple[str, str | None]:
    """``"GB-ENG"`` -> ``("GB", "ENG")``, ``"GB"`` -> ``("GB", None)``, as the holidays package
    spells them (the subdivision is matched regardless of case). Raises LookupError, with a
    sentence saying what is allowed, when the package has no such country or subdivision."""
    import holidays as holidays_pkg

    country, _, wanted = region.partition("-")
    supported = holidays_pkg.list_supported_countries()
    if country not in supported:
        raise LookupError(HOLIDAYS_EXPECTED)
    if not wanted:
        return country, None
    subdivisions = list(supported[country])
    for subdivision in subdivisions:
        if subdivision.casefold() == wanted.casefold():
            return country, subdivision
    if not subdivisions:
        raise LookupError(f"the holidays package has no subdivisions for {country}: use {country!r}")
    shown = ", ".join(repr(f"{country}-{s}") for s in subdivisions[:12]) + (", ..." if len(subdivisions) > 12 else "")
    raise LookupError(
        f"the holidays package has no subdivision {wanted!r} of {country}: expected one of {shown}, "
        f"or {country!r} for only the days common to all of {country}"
    )


def check_holidays(config: Config) -> None:
    """Check the holiday country and subdivision against the holidays package (imported only
    when the calendar is needed, so an idle sync does not pay for loading every country's rules)."""
    region = config.policy.holidays
    if not region:
        return
    try:
        holiday_region(region)
    except LookupError as exc:
        raise ConfigError(
            f"{config.path or 'config'}: policy.holidays = {region!r} is invalid: {exc.args[0]}"
        ) from None


def load_config(path: Path | None = None, *, required: bool = True) -> Config:
    """Load the config from ``path``, $INBOX_WATCH_CONFIG or the user config dir.

    With ``required=False`` a missing default file gives the defaults (no accounts).
    """
    explicit = path is not None or bool(os.environ.get("INBOX_WATCH_CONFIG"))
    path = path or default_config_path()
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        if required or explicit:
            raise ConfigError(
                f"{path}: config file not found (create it: see README, Configuration; "
                "or try `inbox-watch demo`, which needs none)"
            ) from None
        return Config(path=None)
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read the config file: {exc}") from None
    return parse_config(text, path)
