"""What kind of message is this? Judged on the message alone, whoever sent it.

Kinds: scheduling (proposes, asks for or confirms a time to meet, or a calendar invitation),
calendar_response (a calendar reply or counter-proposal), auto_reply (out-of-office and other
RFC 3834 auto-replies, read receipts), bounce (a delivery failure) and other. Every verdict comes
with reasons. The rules lean towards "human": a human message is never taken for an auto-reply
on its wording alone.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta

from inbox_watch.models import Classification, Kind, MailMessage

# --- quoted history -------------------------------------------------------------------------

_QUOTE_START = re.compile(
    r"^(?:"
    r"on .{4,200}(?:wrote|écrit|schrieb|escribió)\s*:?"
    r"|-{2,}\s*original message\s*-{2,}"
    r"|-{2,}\s*forwarded message\s*-{2,}"
    r"|-{5,}\s*forwarded by"
    r"|\S[^\n]{0,80}\s+on\s+\d{2}/\d{2}/\d{4}\s+\d{2}:\d{2}(?::\d{2})?\s*[ap]m"
    r"|\S[^\n]{0,60}@[^\n]{1,40}\n\s*\d{2}/\d{2}/\d{4}\s+\d{2}:\d{2}\s*[ap]m"
    r"|_{10,}"
    r"|from:\s.+\n(?:.*\n){0,3}?(?:sent|date):\s"
    r"|le .{4,200}a écrit\s*:"
    r"|am .{4,200}schrieb.*:"
    r")",
    re.M,
)


_QUOTE_HINT = re.compile(r"wrote|écrit|schrieb|escribió|original message|forwarded|____|from:|\d [ap]m")
_HAS_DIGIT = re.compile(r"\d")


def own_text(text: str) -> str:
    """The part of a body its author wrote: quoted history and '>' lines removed."""
    lower = text.lower()
    if len(lower) != len(text):  # a rare character changed length when lower-cased
        lower = text
    if _QUOTE_HINT.search(lower):
        match = _QUOTE_START.search(lower)
        if match:
            text = text[: match.start()]
    if ">" in text:
        text = "\n".join(line for line in text.splitlines() if not line.lstrip().startswith(">"))
    return text


# --- delivery reports -----------------------------------------------------------------------

_DAEMON = re.compile(r"^(mailer-daemon|postmaster|mail-daemon|mailerdaemon|bounce)")
_BOUNCE_SUBJECT = re.compile(
    r"undeliver|delivery (?:status notification \(failure\)|failure|has failed|failed)"
    r"|mail delivery (?:failed|failure|subsystem)|returned mail|failure notice"
    r"|delivery notification: delivery has failed|could not be delivered|non[- ]?delivery"
    r"|message not delivered|unzustellbar|rejected|nicht zugestellt|bounce",
)
_DELAY_SUBJECT = re.compile(r"\(delay\)|delayed|warning: could not send|delivery delay")
_ACTION = re.compile(r"^Action:\s*(\w+)", re.I | re.M)
_BOUNCE_BODY = re.compile(
    r"could not be delivered|delivery to the following recipient|permanent(?:ly)? (?:error|fatal)"
    r"|user unknown|mailbox (?:unavailable|not found|does not exist)|no such user"
    r"|address (?:not found|rejected)|550[ -]\d?\.?\d?\.?\d?|recipient address rejected"
    r"|this is a permanent error|delivery has failed|wasn't delivered|was not delivered"
    r"|(?:was|been) rejected|无法发送|无法送达|未能送达|non remis|no se pudo entregar",
)

# --- auto-replies ---------------------------------------------------------------------------

_AUTO_SUBJECT = re.compile(
    r"^\s*(?:automatic reply|auto(?:matic)?[- ]?(?:reply|response|antwort)|autoreply"
    r"|out of (?:the )?office(?: auto ?reply)?\s*[:\-]|out of office$|ooo\s*[:\-]"
    r"|abwesenheitsnotiz|réponse automatique|respuesta automática|risposta automatica"
    r"|automatisch antwoord|automatyczna odpowiedź|away from (?:the )?office\s*:"
    r"|on vacation\s*:|vacation reply)",
)
_READ_RECEIPT_SUBJECT = re.compile(r"^\s*(?:read|gelesen|lu)\s*:")
_OOO_WORDS = re.compile(
    r"out of (?:the )?office|on (?:annual )?leave|on holiday|on vacation|away from (?:the|my) "
    r"(?:office|desk)|limited access to (?:my )?e-?mail|abwesend|absent|parental leave"
    r"|currently away|will be away|i am away|i'm away|return(?:ing)? (?:on|to)|back (?:on|in)"
    r"|absente?|nicht im büro|vacaciones|ausencia|de retour|congé|urlaub|fuori ufficio|ferie",
)

# --- calendar -------------------------------------------------------------------------------

_METHOD = re.compile(r"^METHOD:\s*([A-Za-z-]+)", re.M)
_PARTSTAT = re.compile(r"PARTSTAT=([A-Za-z-]+)", re.I)
_RESPONSE_SUBJECT = re.compile(
    r"^\s*(?:accepted|declined|tentative(?:ly accepted)?|new time proposed|angenommen|abgelehnt)\s*:",
)

# --- scheduling -----------------------------------------------------------------------------

_MEET = re.compile(
    r"\b(?:interview\w*|calls?|phone ?screen|screening|chat|meet(?:ing|ings|s)?|catch[- ]up|video"
    r"|zoom|teams|google meet|slots?|availability|available|appointment|conference|workshop"
    r"|get together|sit down|coffee|lunch|dinner|breakfast|diary|calendar|invite"
    r"|entretien|rendez-vous|rdv|réunion|créneaux?|visio|appel|termin\w*|gespräch|telefonat"
    r"|vorstellungsgespräch|treffen|entrevista|reunión|llamada)\b",
)
_WEEKDAY = r"(?:mon|tue|tues|wed|thu|thur|thurs|fri|sat|sun)(?:day|nesday|sday|urday|rsday)?\.?"
_WEEKDAY_INTL = (
    r"(?:lundi|mardi|mercredi|jeudi|vendredi|montag|dienstag|mittwoch|donnerstag|freitag"
    r"|lunes|martes|miércoles|jueves|viernes)"
)
_MONTH = r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?"
_MONTH_INTL = (
    r"(?:janvier|février|mars|avril|mai|juin|juillet|août|septembre|octobre|novembre|décembre"
    r"|januar|februar|märz|juni|juli|oktober|dezember)"
)
_CLOCK = (
    r"\d{1,2}(?::\d{2})?\s*(?:am|pm|a\.m\.|p\.m\.)|\b\d{1,2}[:.]\d{2}\b(?!\.\d)|\b\d{1,2}\s?h(?:\d{2})?\b"
    r"|\b\d{1,2}\s+uhr\b|\bnoon\b|\bmidday\b"
)
_STRONG_TIME = re.compile(r"(?=[\dnm])(?:" + _CLOCK + ")")
_TIME = re.compile(
    r"\b(?:"
    + _WEEKDAY
    + r"|"
    + _WEEKDAY_INTL
    + r"|today|tomorrow|tonight|this (?:morning|afternoon|evening|week)|next week|any ?time"
    r"|\d{1,2}(?:st|nd|rd|th)?\.?\s+(?:of\s+)?(?:" + _MONTH + "|" + _MONTH_INTL + r")"
    r"|" + _MONTH + r"\s+\d{1,2}(?:st|nd|rd|th)?\b"
    r"|\d{1,2}/\d{1,2}(?:/\d{2,4})?"
    r")|" + _CLOCK
)
_ASK = re.compile(
    r"are you (?:free|available|around)|free for|would .{0,40}(?:suit|work) (?:for )?you|does .{0,40}work"
    r"|do(?:es)? any of (?:these|the following)|which (?:of these |one |slot|time|day)"
    r"|let me know (?:if|which|what|when|your)|what times?|when (?:are|would|could) you"
    r"|can (?:you|we) (?:do|make|meet|talk|speak|chat|jump|hop|get)|could (?:you|we) (?:do|make|meet|talk|speak)"
    r"|how about|what about|how does .{0,40}(?:sound|look)|shall we|schedul|reschedul|set up a|book(?:ed)?\b"
    r"|pencil(?:led)? in|confirm\w*|invit(?:e|ation) to|all set|moved .{0,60}\bto\b"
    r"|propos\w*|suggest\w*|slots?\b|availability|(?:works|work) (?:best|for me)|ok (?:with|for) (?:me|you)"
    r"|i can (?:do|make)|i'm free|i am free|see you (?:on|at|then)|look forward to (?:meeting|speaking)"
    r"|which (?:suits|works|is best|is better)|what suits|suits? you|works? for you|would you like to"
    r"|which would you|would you prefer|what would suit|(?:can|could) meet|are you able to"
    r"|are either|still (?:ok|work|suit)|there will be|mark your calendars?|please attend"
    r"|disponible|convient|seriez-vous|pourriez-vous|passt|können sie|hätten sie zeit|le conviene",
)
# Phrases that propose a time on their own ("Let's shoot for Tuesday", "How about Thursday?").
_PROPOSE = re.compile(
    r"\b(?:let'?s|let us|we should|shall we)\s+(?:meet|shoot for|do|say|get together|talk|catch up)"
    r"|how about|what about"
)
_NOT_SCHEDULING = re.compile(r"unsubscribe|view (?:this email )?in (?:your )?browser|manage (?:your )?alerts")

# Token sets: most of the work is a set lookup per word, not a regular-expression scan.
_TOKEN = re.compile(r"[^\W_]+")
_MEET_WORDS = frozenset(
    "interview interviews interviewing interviewed call calls phone screen screening chat meet "
    "meets meeting meetings catch video zoom teams slot slots availability available appointment "
    "conference workshop coffee lunch dinner breakfast diary calendar invite entretien entretiens rendez "
    "rdv réunion créneau créneaux visio appel termin termine terminvorschlag gespräch telefonat "
    "vorstellungsgespräch treffen entrevista reunión llamada".split()
)
_MEET_PHRASES = ("phone screen", "catch up", "catch-up", "google meet", "get together", "sit down")
_TIME_WORDS = frozenset(
    "monday tuesday wednesday thursday friday saturday sunday mon tue tues wed thu thur thurs fri "
    "sat sun today tomorrow tonight noon midday anytime lundi mardi mercredi jeudi vendredi montag "
    "dienstag mittwoch donnerstag freitag lunes martes miércoles jueves viernes".split()
)
_TIME_PHRASES = ("this morning", "this afternoon", "this evening", "this week", "next week", "any time")
_DIGIT_TIME = re.compile(
    r"(?=[\da-zé])(?:\d{1,2}(?:st|nd|rd|th)?\.?\s+(?:of\s+)?(?:" + _MONTH + "|" + _MONTH_INTL + r")"
    r"|(?:" + _MONTH + r")\s+\d{1,2}(?:st|nd|rd|th)?\b|\d{1,2}/\d{1,2}(?:/\d{2,4})?|" + _CLOCK + ")"
)
_AVAILABILITY_ASK = re.compile(r"availability|slots?\b|what times?|when (?:are|would|could) you|schedul|set up a|book")


def _first_in(tokens: list[str], text: str, words: frozenset[str], phrases: tuple[str, ...]) -> str:
    """The first token in ``words``, else the first of ``phrases`` in ``text``, else ""."""
    for token in tokens:
        if token in words:
            return token
    for phrase in phrases:
        if phrase in text:
            return phrase
    return ""


def _meeting_word(tokens: list[str], text: str) -> str:
    return _first_in(tokens, text, _MEET_WORDS, _MEET_PHRASES)


def _time_expression(tokens: list[str], text: str) -> str:
    found = _first_in(tokens, text, _TIME_WORDS, _TIME_PHRASES)
    if found:
        return found
    if _HAS_DIGIT.search(text):
        match = _DIGIT_TIME.search(text)
        if match:
            return match.group(0)
    return ""


def _calendar_method(message: MailMessage) -> str:
    match = _METHOD.search(message.calendar)
    return match.group(1).upper() if match else ""


def invitation_start(calendar: str) -> datetime | None:
    """DTSTART of the first VEVENT (not of a VTIMEZONE block), read with icalendar."""
    try:
        import icalendar

        cal = icalendar.Calendar.from_ical(calendar)
        for event in cal.walk("VEVENT"):
            start = event.decoded("DTSTART", None)
            if isinstance(start, datetime):
                return start if start.tzinfo else start.replace(tzinfo=UTC)
            if isinstance(start, date):
                return datetime(start.year, start.month, start.day, tzinfo=UTC)
    except Exception:  # noqa: BLE001 - a broken calendar is read as having no start
        return None
    return None


def _is_bounce(
    message: MailMessage, subject: str, content_type: str, headers: dict[str, str]
) -> tuple[bool, str] | None:
    """(failed, reason) when the message is a delivery report, else None."""
    is_report = "multipart/report" in content_type and "delivery-status" in content_type
    if message.delivery_status:
        actions = {a.lower() for a in _ACTION.findall(message.delivery_status)}
        if actions and actions <= {"delayed", "relayed", "delivered", "expanded"}:
            return (False, "delivery report: delayed or delivered, not failed")
        return (True, "delivery status report (Action: failed)")
    if is_report:
        return (True, "multipart/report; report-type=delivery-status")
    daemon = bool(_DAEMON.match(message.from_addr.lower()))
    if daemon and _DELAY_SUBJECT.search(subject) and not _BOUNCE_SUBJECT.search(subject):
        return (False, "delivery delay warning from the mail system")
    if headers.get("x-failed-recipients"):
        return (True, "X-Failed-Recipients header")
    failure_subject = _BOUNCE_SUBJECT.search(subject)
    if not daemon and not failure_subject:
        return None
    body = message.text[:3000].lower()
    if daemon and (failure_subject or _BOUNCE_BODY.search(body)):
        return (True, f"from {message.from_addr.split('@')[0]} reporting a failed delivery")
    if _BOUNCE_BODY.search(body) and ("undeliver" in subject or "delivery status" in subject):
        return (True, "delivery failure notice")
    return None


def _auto_reason(message: MailMessage, subject: str, headers: dict[str, str]) -> str:
    auto = headers.get("auto-submitted", "").lower()
    if auto.startswith("auto-replied"):
        return f"Auto-Submitted: {auto}"
    if headers.get("x-autoreply") or headers.get("x-autorespond"):
        return "X-Autoreply header"
    precedence = headers.get("precedence", "").lower()
    if precedence == "auto_reply":
        return "Precedence: auto_reply"
    if _AUTO_SUBJECT.match(subject):
        return f"subject {message.subject[:40]!r} is an automatic reply"
    return ""


CLASSIFIER_VERSION = 1
"""Bump when the rules change: classifications stored by an older version are not reused."""


def to_stored(result: Classification) -> list[object]:
    """A compact form of a full classification, kept beside the message in the store."""
    return [CLASSIFIER_VERSION, result.kind.value, list(result.reasons), result.out_of_office, result.human]


def from_stored(stored: Sequence[object]) -> Classification | None:
    """The classification kept by ``to_stored``; None when it came from another version."""
    if len(stored) != 5 or stored[0] != CLASSIFIER_VERSION:
        return None
    _, kind, reasons, out_of_office, human = stored
    return Classification(Kind(kind), tuple(reasons), out_of_office=bool(out_of_office), human=bool(human))  # type: ignore[arg-type]


def classify(message: MailMessage, *, read_dates: bool = True, content: bool = True) -> Classification:
    """Classify one message. Pure, never raises on odd content.

    ``read_dates=False`` skips reading an out-of-office's return date (the engine reads it only
    for the auto-replies that matter, with ``read_return_date``). ``content=False`` stops before
    reading a human message's text: such a message comes back as ``other`` (the engine asks for
    this where scheduling and other count the same, as for a reply).
    """
    headers = dict(message.headers) if message.headers else {}
    content_type = headers.get("content-type", "").lower()
    subject = message.subject.lower()

    # Calendar parts first: invitations and replies are often auto-generated.
    if message.calendar:
        method = _calendar_method(message)
        if not method:
            header_method = re.search(r"method=\"?(\w+)", content_type)
            method = header_method.group(1).upper() if header_method else ""
        if method == "REQUEST":
            return Classification(Kind.SCHEDULING, ("calendar invitation (METHOD:REQUEST)",))
        if method in ("REPLY", "COUNTER"):
            partstat = _PARTSTAT.search(message.calendar)
            state = partstat.group(1).lower() if partstat else "answered"
            what = "counter-proposal" if method == "COUNTER" else f"calendar reply ({state})"
            return Classification(Kind.CALENDAR_RESPONSE, (f"{what} (METHOD:{method})",))
        if method in ("CANCEL", "PUBLISH", "REFRESH", "DECLINECOUNTER"):
            return Classification(Kind.OTHER, (f"calendar {method.lower()}, not an invitation",), human=False)

    bounce = _is_bounce(message, subject, content_type, headers)
    if bounce is not None:
        failed, reason = bounce
        if failed:
            return Classification(Kind.BOUNCE, (reason,))
        return Classification(Kind.OTHER, (reason,), human=False)

    if "disposition-notification" in content_type or (
        _READ_RECEIPT_SUBJECT.match(subject) and "receipt" in message.text[:500].lower()
    ):
        return Classification(Kind.AUTO_REPLY, ("read receipt (disposition notification)",))

    if _RESPONSE_SUBJECT.match(subject) and not message.calendar:
        auto = _auto_reason(message, subject, headers)
        if auto or message.from_addr:
            return Classification(Kind.CALENDAR_RESPONSE, ("calendar response subject",))

    auto = _auto_reason(message, subject, headers)
    if auto:
        body = message.text[:2000]
        reasons = [auto]
        return_date = None
        if _OOO_WORDS.search(body.lower()) or _OOO_WORDS.search(subject):
            reasons.append("out-of-office wording")
            return_date = read_return_date(body, message.date) if read_dates else None
            if return_date:
                reasons.append(f"back on {return_date.isoformat()}")
        return Classification(
            Kind.AUTO_REPLY,
            tuple(reasons),
            return_date=return_date,
            out_of_office=len(reasons) > 1,
        )

    precedence = headers.get("precedence", "").lower()
    generated = headers.get("auto-submitted", "").lower()
    if generated and not generated.startswith("no"):
        return Classification(Kind.OTHER, (f"machine-generated (Auto-Submitted: {generated})",), human=False)
    if precedence in ("bulk", "list", "junk") or headers.get("list-id"):
        return Classification(Kind.OTHER, (f"bulk or list mail (Precedence: {precedence or 'list'})",), human=False)

    if not content:
        return Classification(Kind.OTHER, ("a human message (content not read)",))
    return _scheduling_or_other(message, subject)


_REPLY_PREFIX = re.compile(r"^\s*(?:(?:re|fw|fwd|aw|wg|tr)\s*:\s*)+")


def _scheduling_or_other(message: MailMessage, lowered_subject: str) -> Classification:
    full = message.text[:3000].lower()
    text = own_text(full)
    if len(text.strip()) < 20:  # a bare forward: judge what was forwarded
        text = full
    subject = _REPLY_PREFIX.sub("", lowered_subject)
    if ("unsubscribe" in text or "browser" in text or "manage" in text) and _NOT_SCHEDULING.search(text):
        return Classification(Kind.OTHER, ("newsletter or bulk mail",), human=False)
    tokens = _TOKEN.findall(text)
    subject_tokens = _TOKEN.findall(subject)
    meet = _meeting_word(tokens, text) or _meeting_word(subject_tokens, subject)
    when = _time_expression(tokens, text)
    if "let" in text or "about" in text or "should" in text or "shall" in text:
        propose = _PROPOSE.search(text)
        if propose and (when or re.match(r"(?:let'?s|let us|we should)\s+meet", propose.group(0))):
            return Classification(
                Kind.SCHEDULING,
                (f"proposes a time ({propose.group(0)!r})",) + ((f"names a time ({when!r})",) if when else ()),
            )
    if not meet:
        return Classification(Kind.OTHER, ("no meeting or call mentioned",))
    reasons = (f"mentions a meeting ({meet!r})",)
    if when:
        ask = _ASK.search(text) or _ASK.search(subject)
        if ask:
            return Classification(
                Kind.SCHEDULING,
                reasons + (f"asks, proposes or confirms ({ask.group(0)!r})", f"names a time ({when!r})"),
            )
        clock = _STRONG_TIME.search(text)
        if clock:
            return Classification(Kind.SCHEDULING, reasons + (f"gives a time of day ({clock.group(0)!r})",))
    if not lowered_subject.startswith(("re:", "aw:", "sv:")) and _meeting_word(subject_tokens, subject):
        subject_clock = _STRONG_TIME.search(subject)
        if subject_clock:
            return Classification(
                Kind.SCHEDULING, reasons + (f"the subject names a time ({subject_clock.group(0)!r})",)
            )
    if meet in ("interview", "interviews", "call", "calls", "meet", "meeting", "meetings", "phone screen"):
        ask = _AVAILABILITY_ASK.search(text) or _AVAILABILITY_ASK.search(subject)
        if ask:
            return Classification(Kind.SCHEDULING, reasons + (f"asks for a time ({ask.group(0)!r})",))
    return Classification(Kind.OTHER, ("mentions a meeting but proposes no time",))


# --- out-of-office return dates -------------------------------------------------------------

_MONTH_ES = r"(?:enero|febrero|marzo|abril|mayo|junio|julio|agosto|septiembre|octubre|noviembre|diciembre)"
_WEEKDAY_ANY = r"(?:" + _WEEKDAY + "|" + _WEEKDAY_INTL + r"|sábado|domingo|samedi|dimanche|samstag|sonntag)"
_MONTH_ANY = r"(?:" + _MONTH + "|" + _MONTH_INTL + "|" + _MONTH_ES + r")"
_DATE_EXPR = re.compile(
    r"\b(?:" + _WEEKDAY_ANY + r",?\s+(?:(?:the|dem|le|el)\s+)?)?(?:"
    r"\d{4}-\d{2}-\d{2}"
    r"|\d{1,2}[/.]\d{1,2}(?:[/.]\d{2,4})?"
    r"|\d{1,2}(?:st|nd|rd|th|er)?\.?(?:\s+(?:of|de))?\s+" + _MONTH_ANY + r"(?:,?\s+(?:de\s+)?\d{4})?"
    r"|" + _MONTH_ANY + r"\s+\d{1,2}(?:st|nd|rd|th)?(?:,?\s+\d{4})?"
    r")|\b(?:" + _WEEKDAY_ANY + r"|tomorrow)\b",
    re.I,
)
_BACK_CUE = re.compile(
    r"back|return(?:ing|s)?|in the office|reachable|available again|zurück|wieder|retour|volver[éa]"
    r"|regreso|de vuelta|ab\s*$",
    re.I,
)
_UNTIL_CUE = re.compile(r"until|till|\btil\b|bis|jusqu|hasta", re.I)
_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_INTL_MONTHS = {
    "janvier": "january",
    "février": "february",
    "mars": "march",
    "avril": "april",
    "mai": "may",
    "juin": "june",
    "juillet": "july",
    "août": "august",
    "septembre": "september",
    "octobre": "october",
    "novembre": "november",
    "décembre": "december",
    "januar": "january",
    "februar": "february",
    "märz": "march",
    "juni": "june",
    "juli": "july",
    "oktober": "october",
    "dezember": "december",
    "enero": "january",
    "febrero": "february",
    "marzo": "march",
    "abril": "april",
    "mayo": "may",
    "junio": "june",
    "julio": "july",
    "agosto": "august",
    "septiembre": "september",
    "octubre": "october",
    "noviembre": "november",
    "diciembre": "december",
}
_INTL_DAYS = {
    "lundi": 0,
    "mardi": 1,
    "mercredi": 2,
    "jeudi": 3,
    "vendredi": 4,
    "samedi": 5,
    "dimanche": 6,
    "montag": 0,
    "dienstag": 1,
    "mittwoch": 2,
    "donnerstag": 3,
    "freitag": 4,
    "samstag": 5,
    "sonntag": 6,
    "lunes": 0,
    "martes": 1,
    "miércoles": 2,
    "jueves": 3,
    "viernes": 4,
    "sábado": 5,
    "domingo": 6,
}


def _weekday_index(word: str) -> int | None:
    word = word.lower().rstrip(".,")
    if word in _INTL_DAYS:
        return _INTL_DAYS[word]
    for index, name in enumerate(_WEEKDAYS):
        if len(word) >= 3 and name.startswith(word[:3]):
            return index
    return None


def read_return_date(text: str, sent: datetime) -> date | None:
    """The return date an out-of-office states ("back on Monday 7 December"), or None.

    A "back on" / "de retour le" / "wieder ab" date wins over an "until" date.
    """
    base = sent.replace(tzinfo=None)
    found: list[tuple[int, date]] = []
    for match in _DATE_EXPR.finditer(text[:1500]):
        before = text[max(0, match.start() - 60) : match.start()]
        if _BACK_CUE.search(before):
            rank = 0
        elif _UNTIL_CUE.search(before):
            rank = 1
        else:
            continue
        result = _read_date(match.group(0).strip(), base)
        if result is not None and not _stale(result, base):
            found.append((rank, result))
    if not found:
        return None
    return min(found, key=lambda item: item[0])[1]


def _stale(result: date, base: datetime) -> bool:
    """A date that only lies ahead because its year was taken as next year, when the same day
    this year was a few weeks before the message: an old out-of-office left switched on
    ("until Friday 20 November", sent on 23 November), not a return a year away."""
    if result.year <= base.year:
        return False
    try:
        this_year = result.replace(year=base.year)
    except ValueError:  # 29 February
        return False
    return timedelta(0) < base.date() - this_year <= timedelta(days=60)


_NUMERIC_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$|^(\d{1,2})[/.](\d{1,2})(?:[/.](\d{2,4}))?$")
_MONTH_NUMBER = {
    name: index
    for index, names in enumerate(
        (
            ("jan", "january"),
            ("feb", "february"),
            ("mar", "march"),
            ("apr", "april"),
            ("may",),
            ("jun", "june"),
            ("jul", "july"),
            ("aug", "august"),
            ("sep", "sept", "september"),
            ("oct", "october"),
            ("nov", "november"),
            ("dec", "december"),
        ),
        start=1,
    )
    for name in names
}


def _read_date(phrase: str, base: datetime) -> date | None:
    """A date written by a person (day first where ambiguous); the year defaults to the next
    occurrence after ``base``."""
    if not any(ch.isdigit() for ch in phrase):
        word = phrase.split()[0]
        if word.lower() == "tomorrow":
            return (base + timedelta(days=1)).date()
        index = _weekday_index(word)
        if index is None:
            return None
        delta = (index - base.weekday()) % 7 or 7
        return (base + timedelta(days=delta)).date()
    words = []
    for word in re.split(r"[\s,]+", phrase.lower()):
        word = word.rstrip(".,;:")
        if not word or word in _INTL_DAYS or word in ("de", "dem", "le", "el", "the", "of"):
            continue
        if _weekday_index(word) is not None and not word[0].isdigit():
            continue
        words.append(_INTL_MONTHS.get(word, word))
    year: int | None = None
    day = month = 0
    if len(words) == 1 and (numeric := _NUMERIC_DATE.match(words[0])):
        g = numeric.groups()
        if g[0]:
            year, month, day = int(g[0]), int(g[1]), int(g[2])
        else:
            day, month = int(g[3]), int(g[4])
            year = int(g[5]) if g[5] else None
            if year is not None and year < 100:
                year += 2000
    else:
        for word in words:
            token = word.rstrip(".")
            digits = re.match(r"^(\d{1,4})(?:st|nd|rd|th|er)?$", token)
            if digits:
                number = int(digits.group(1))
                if number > 31:
                    year = number
                elif not day:
                    day = number
            elif token in _MONTH_NUMBER:
                month = _MONTH_NUMBER[token]
    if not (1 <= day <= 31 and 1 <= month <= 12):
        return None
    try:
        result = date(year or base.year, month, day)
    except ValueError:
        return None
    if year is None and result < base.date():
        try:
            result = result.replace(year=result.year + 1)
        except ValueError:
            return None
    if base.date() - timedelta(days=1) <= result <= base.date() + timedelta(days=400):
        return result
    return None
