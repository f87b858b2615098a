"""Config: valid files load; every error names the file, the key and what is allowed."""

from __future__ import annotations

from pathlib import Path

import pytest

from inbox_watch.config import check_holidays, load_config, parse_config
from inbox_watch.errors import ConfigError

GOOD = """
[recruiter]
name = "Sam Carter"
addresses = ["Sam@Agency.example"]

[policy]
timezone = "Europe/London"
workdays = ["Mon", "Tue", "Wed", "Thu", "Fri"]
business_hours = "09:00-17:30"
holidays = "GB"
silent_after_business_hours = 8.5
pull_after_business_days = 5

[store]
path = "data/store.json"

[[accounts]]
name = "work"
provider = "imap"
host = "imap.example.com"
port = 993
security = "ssl"
username = "sam@agency.example"
password_env = "INBOX_WATCH_IMAP_PASSWORD"
smtp_host = "smtp.example.com"
"""


def test_the_design_example_loads(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text(GOOD)
    config = load_config(path)
    assert config.recruiter.addresses == ("sam@agency.example",)
    assert config.policy.business_hours_per_day == 8.5
    assert config.store_path == tmp_path / "data" / "store.json"
    account = config.account("work")
    assert (account.port, account.smtp_port, account.security) == (993, 465, "ssl")


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (('timezone = "Europe/London"', 'timezone = "Mars/Olympus"'), "policy.timezone"),
        (('business_hours = "09:00-17:30"', 'business_hours = "17:30-09:00"'), "policy.business_hours"),
        (('holidays = "GB"', 'holidays = "Great Britain"'), "policy.holidays"),
        (('"Fri"]', '"Friyay"]'), "policy.workdays"),
        (('security = "ssl"', 'security = "tls"'), "accounts[0].security"),
        (("port = 993", "port = 99999"), "accounts[0].port"),
        (('provider = "imap"', 'provider = "aol"'), "accounts[0].provider"),
        (("smtp_host", "smtp_hots"), "accounts[0].smtp_hots"),
        (
            ("silent_after_business_hours = 8.5", 'silent_after_business_hours = "soon"'),
            "policy.silent_after_business_hours",
        ),
    ],
)
def test_errors_name_file_and_key(tmp_path: Path, change: tuple[str, str], expected: str) -> None:
    path = tmp_path / "config.toml"
    path.write_text(GOOD.replace(*change))
    with pytest.raises(ConfigError) as info:
        load_config(path)
    message = str(info.value)
    assert str(path) in message
    assert expected in message
    assert "\n" not in message


def test_unknown_holiday_country_is_named_before_the_clock_runs(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text(GOOD.replace('holidays = "GB"', 'holidays = "XX"'))
    config = load_config(path)  # loading stays cheap: the holidays package is not imported
    with pytest.raises(ConfigError) as info:
        check_holidays(config)
    assert str(path) in str(info.value) and "policy.holidays" in str(info.value)


@pytest.mark.parametrize(
    ("written", "kept"), [("GB-ENG", "GB-ENG"), ("gb-sct", "GB-sct"), ("GB", "GB"), ("", ""), ("US-NY", "US-NY")]
)
def test_holidays_take_a_country_and_a_subdivision(tmp_path: Path, written: str, kept: str) -> None:
    path = tmp_path / "config.toml"
    path.write_text(GOOD.replace('holidays = "GB"', f'holidays = "{written}"'))
    config = load_config(path)
    assert config.policy.holidays == kept
    check_holidays(config)


def test_the_default_holidays_are_englands(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text(GOOD.replace('holidays = "GB"\n', ""))
    assert load_config(path).policy.holidays == "GB-ENG"


@pytest.mark.parametrize(
    ("written", "needle"),
    [
        ("GB-XYZ", "no subdivision 'XYZ' of GB: expected one of 'GB-ENG', 'GB-NIR', 'GB-SCT', 'GB-WLS'"),
        ("XX-ENG", "GB-ENG"),
    ],
)
def test_an_unknown_subdivision_is_one_clear_error(tmp_path: Path, written: str, needle: str) -> None:
    path = tmp_path / "config.toml"
    path.write_text(GOOD.replace('holidays = "GB"', f'holidays = "{written}"'))
    config = load_config(path)
    with pytest.raises(ConfigError) as info:
        check_holidays(config)
    message = str(info.value)
    assert message.startswith(f"{path}: policy.holidays = {written!r} is invalid: ")
    assert needle in message and "\n" not in message


@pytest.mark.parametrize("written", ["GB-", "England", "G-ENG"])
def test_a_malformed_holidays_region_fails_on_load(tmp_path: Path, written: str) -> None:
    path = tmp_path / "config.toml"
    path.write_text(GOOD.replace('holidays = "GB"', f'holidays = "{written}"'))
    with pytest.raises(ConfigError, match="policy.holidays") as info:
        load_config(path)
    assert str(path) in str(info.value)


def test_an_account_interval_is_refused_with_where_the_interval_goes(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text(GOOD + "interval = 60\n")
    with pytest.raises(ConfigError) as info:
        load_config(path)
    message = str(info.value)
    assert message.startswith(f"{path}: accounts[0].interval is not supported")
    assert "[daemon] interval" in message and "\n" not in message
    path.write_text(GOOD + "[daemon]\ninterval = 60\n")
    assert load_config(path).interval == 60


def test_broken_toml_and_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text("[recruiter\nname=")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config(path)
    with pytest.raises(ConfigError, match="not found"):
        load_config(tmp_path / "nope.toml")


def test_environment_variable_names_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "c.toml"
    path.write_text(GOOD)
    monkeypatch.setenv("INBOX_WATCH_CONFIG", str(path))
    assert load_config().path == path


def test_duplicate_account_names(tmp_path: Path) -> None:
    text = GOOD + '\n[[accounts]]\nname = "work"\nprovider = "demo"\n'
    with pytest.raises(ConfigError, match="used twice"):
        parse_config(text, tmp_path / "c.toml")


def test_files_named_in_an_account_are_found_beside_the_config(tmp_path: Path) -> None:
    from inbox_watch.config import load_config

    path = tmp_path / "conf" / "config.toml"
    path.parent.mkdir()
    path.write_text(
        '[recruiter]\nname = "Sam"\naddresses = ["sam@agency.example"]\n'
        '[[accounts]]\nname = "work"\nprovider = "imap"\nhost = "imap.example.com"\nca_file = "certs/ca.pem"\n'
        '[[accounts]]\nname = "g"\nprovider = "gmail"\nclient_secrets_file = "~/secrets.json"\n'
    )
    work, gmail = load_config(path).accounts
    assert work.ca_file == str(tmp_path / "conf" / "certs" / "ca.pem")
    assert gmail.client_secrets_file == str(Path("~/secrets.json").expanduser())


def _sender_config(tmp_path: Path, accounts: str) -> object:
    text = '[recruiter]\nname = "Sam Carter"\naddresses = ["sam@agency.example"]\n' + accounts
    return parse_config(text, tmp_path / "config.toml")


def test_each_account_sends_as_its_from_address_else_its_user_name_else_the_recruiters_first(
    tmp_path: Path,
) -> None:
    from inbox_watch.config import sender_address

    config = _sender_config(
        tmp_path,
        '[[accounts]]\nname = "london"\nprovider = "imap"\nhost = "h"\nusername = "sam"\n'
        '[[accounts]]\nname = "north"\nprovider = "imap"\nhost = "h"\nusername = "sam.carter@north.example"\n'
        '[[accounts]]\nname = "alias"\nprovider = "imap"\nhost = "h"\nusername = "sam@agency.example"\n'
        'from_address = "Bookings@Agency.example"\n',
    )
    senders = [sender_address(a, config.recruiter) for a in config.accounts]  # type: ignore[attr-defined]
    assert senders == ["sam@agency.example", "sam.carter@north.example", "Bookings@Agency.example"]
    # What an account sends is the recruiter's: its address counts as one of theirs.
    assert config.recruiter.addresses == (  # type: ignore[attr-defined]
        "sam@agency.example",
        "sam.carter@north.example",
        "bookings@agency.example",
    )


@pytest.mark.parametrize("value", ["sam", "Sam <sam@agency.example>", "a@b.example, c@d.example", "a@b\r\nBcc: x@y"])
def test_a_from_address_that_is_not_one_address_is_refused_naming_the_key(tmp_path: Path, value: str) -> None:
    accounts = f'[[accounts]]\nname = "work"\nprovider = "imap"\nhost = "h"\nfrom_address = {value!r}\n'
    with pytest.raises(ConfigError) as caught:
        _sender_config(tmp_path, accounts.replace("'", '"') if '"' not in value else accounts)
    assert str(caught.value).startswith(f"{tmp_path / 'config.toml'}: accounts[0].from_address = ")
    assert "expected one email address" in str(caught.value)


def test_the_phone_country_is_set_or_derived(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    assert parse_config("", path).policy.phone_region == "GB"  # from holidays = "GB-ENG"
    assert parse_config('[policy]\nholidays = "DE-BY"\n', path).policy.phone_region == "DE"
    # No holidays: the country of the time zone (the tz database's zone.tab).
    paris = parse_config('[policy]\ntimezone = "Europe/Paris"\nholidays = ""\n', path)
    assert paris.policy.phone_region == "FR"
    assert parse_config('[policy]\ncountry = "ie"\n', path).policy.phone_region == "IE"
    with pytest.raises(ConfigError, match=r"config.toml: policy.country = 'XX' is invalid: expected a two-letter"):
        parse_config('[policy]\ncountry = "XX"\n', path)
