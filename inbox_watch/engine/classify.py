"""What kind of message is this? Judged on the message alone, whoever sent it.

Kinds: scheduling (proposes, asks for or confirms a time to meet, or a calendar invitation),
calendar_response (a calendar reply or counter-proposal), auto_reply (out-of-office and other
RFC 3834 auto-replies, read receipts), bounce (a delivery failure) and other. Every verdict comes
with reasons. The rules lean towards "human": a human message is never taken for an auto-reply
on its wording alone.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

from inbox_watch.models import Classification, Kind, MailMessage

# --- quoted history -------------------------------------------------------------------------

_QUOTE_START = re.compile(
    r"^(?:"
    r"On .{4,200}(?:wrote|écrit|schrieb|escribió)\s*:?"
    r"|-{2,}\s*Original Message\s*-{2,}"
    r"|-{2,}\s*Forwarded message\s*-{2,}"
    r"|-{5,}\s*Forwarded by"
    r"|\S[^\n]{0,80}\s+on\s+\d{2}/\d{2}/\d{4}\s+\d{2}:\d{2}(?::\d{2})?\s*[AP]M"
    r"|\S[^\n]{0,60}@[^\n]{1,40}\n\s*\d{2}/\d{2}/\d{4}\s+\d{2}:\d{2}\s*[AP]M"
    r"|_{10,}"
    r"|From:\s.+\n(?:.*\n){0,3}?(?:Sent|Date):\s"
    r"|Le .{4,200}a écrit\s*:"
    r"|Am .{4,200}schrieb.*:"
    r")",
    re.M | re.I,
)


def own_text(text: str) -> str:
    """The part of a body its author wrote: quoted history and '>' lines removed."""
    match = _QUOTE_START.search(text)
    if match:
        text = text[: match.start()]
    if ">" in text:
        text = "\n".join(line for line in text.splitlines() if not line.lstrip().startswith(">"))
    return text


# --- delivery reports -----------------------------------------------------------------------

_DAEMON = re.compile(r"^(mailer-daemon|postmaster|mail-daemon|mailerdaemon|bounce)", re.I)
_BOUNCE_SUBJECT = re.compile(
    r"undeliver|delivery (?:status notification \(failure\)|failure|has failed|failed)"
    r"|mail delivery (?:failed|failure|subsystem)|returned mail|failure notice"
    r"|delivery notification: delivery has failed|could not be delivered|non[- ]?delivery"
    r"|message not delivered|unzustellbar|rejected|nicht zugestellt|bounce",
    re.I,
)
_DELAY_SUBJECT = re.compile(r"\(delay\)|delayed|warning: could not send|delivery delay", re.I)
_ACTION = re.compile(r"^Action:\s*(\w+)", re.I | re.M)
_BOUNCE_BODY = re.compile(
    r"could not be delivered|delivery to the following recipient|permanent(?:ly)? (?:error|fatal)"
    r"|user unknown|mailbox (?:unavailable|not found|does not exist)|no such user"
    r"|address (?:not found|rejected)|550[ -]\d?\.?\d?\.?\d?|recipient address rejected"
    r"|this is a permanent error|delivery has failed|wasn't delivered|was not delivered"
    r"|(?:was|been) rejected|无法发送|无法送达|未能送达|non remis|no se pudo entregar",
    re.I,
)

# --- auto-replies ---------------------------------------------------------------------------

_AUTO_SUBJECT = re.compile(
    r"^\s*(?:automatic reply|auto(?:matic)?[- ]?(?:reply|response|antwort)|autoreply"
    r"|out of (?:the )?office(?: auto ?reply)?\s*[:\-]|out of office$|ooo\s*[:\-]"
    r"|abwesenheitsnotiz|réponse automatique|respuesta automática|risposta automatica"
    r"|automatisch antwoord|automatyczna odpowiedź|away from (?:the )?office\s*:"
    r"|on vacation\s*:|vacation reply)",
    re.I,
)
_READ_RECEIPT_SUBJECT = re.compile(r"^\s*(?:read|gelesen|lu)\s*:", re.I)
_OOO_WORDS = re.compile(
    r"out of (?:the )?office|on (?:annual )?leave|on holiday|on vacation|away from (?:the|my) "
    r"(?:office|desk)|limited access to (?:my )?e-?mail|abwesend|absent|parental leave"
    r"|currently away|will be away|i am away|i'm away|return(?:ing)? (?:on|to)|back (?:on|in)"
    r"|absente?|nicht im büro|vacaciones|ausencia|de retour|congé|urlaub|fuori ufficio|ferie",
    re.I,
)

# --- calendar -------------------------------------------------------------------------------

_METHOD = re.compile(r"^METHOD:\s*([A-Za-z-]+)", re.M)
_PARTSTAT = re.compile(r"PARTSTAT=([A-Za-z-]+)", re.I)
_RESPONSE_SUBJECT = re.compile(
    r"^\s*(?:accepted|declined|tentative(?:ly accepted)?|new time proposed|angenommen|abgelehnt)\s*:",
    re.I,
)

# --- scheduling -----------------------------------------------------------------------------

_MEET = re.compile(
    r"\b(?:interview\w*|calls?|phone ?screen|screening|chat|meet(?:ing|ings|s)?|catch[- ]up|video"
    r"|zoom|teams|google meet|slots?|availability|available|appointment|conference|workshop"
    r"|get together|sit down|coffee|lunch|dinner|breakfast|diary|calendar|invite"
    r"|entretien|rendez-vous|rdv|réunion|créneaux?|visio|appel|termin\w*|gespräch|telefonat"
    r"|vorstellungsgespräch|treffen|entrevista|reunión|llamada)\b",
    re.I,
)
_WEEKDAY = (
    r"(?:mon|tue|tues|wed|thu|thur|thurs|fri|sat|sun)(?:day|nesday|sday|urday|rsday)?\.?"
)
_WEEKDAY_INTL = r"(?:lundi|mardi|mercredi|jeudi|vendredi|montag|dienstag|mittwoch|donnerstag|freitag|lunes|martes|miércoles|jueves|viernes)"
_MONTH = r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?"
_MONTH_INTL = r"(?:janvier|février|mars|avril|mai|juin|juillet|août|septembre|octobre|novembre|décembre|januar|februar|märz|juni|juli|oktober|dezember)"
_CLOCK = (
    r"\d{1,2}(?::\d{2})?\s*(?:am|pm|a\.m\.|p\.m\.)|\b\d{1,2}[:.]\d{2}\b(?!\.\d)|\b\d{1,2}\s?h(?:\d{2})?\b"
    r"|\b\d{1,2}\s+uhr\b|\bnoon\b|\bmidday\b"
)
_STRONG_TIME = re.compile(_CLOCK, re.I)
_TIME = re.compile(
    r"\b(?:"
    + _WEEKDAY + r"|" + _WEEKDAY_INTL
    + r"|today|tomorrow|tonight|this (?:morning|afternoon|evening|week)|next week|any ?time"
    r"|\d{1,2}(?:st|nd|rd|th)?\.?\s+(?:of\s+)?(?:" + _MONTH + "|" + _MONTH_INTL + r")"
    r"|" + _MONTH + r"\s+\d{1,2}(?:st|nd|rd|th)?\b"
    r"|\d{1,2}/\d{1,2}(?:/\d{2,4})?"
    r")|" + _CLOCK,
    re.I,
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
    re.I,
)
# Phrases that propose a time on their own ("Let's shoot for Tuesday", "How about Thursday?").
_PROPOSE = re.compile(r"\b(?:let'?s|let us|we should|shall we)\s+(?:meet|shoot for|do|say|get together|talk|catch up)|how about|what about", re.I)
_NOT_SCHEDULING = re.compile(r"unsubscribe|view (?:this email )?in (?:your )?browser|manage (?:your )?alerts", re.I)


def _calendar_method(message: MailMessage) -> str:
    match = _METHOD.search(message.calendar)
    return match.group(1).upper() if match else ""


def _invitation_start(calendar: str) -> datetime | None:
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


def _is_bounce(message: MailMessage, content_type: str) -> tuple[bool, str] | None:
    """(failed, reason) when the message is a delivery report, else None."""
    is_report = "multipart/report" in content_type and "delivery-status" in content_type
    if message.delivery_status:
        actions = {a.lower() for a in _ACTION.findall(message.delivery_status)}
        if actions and actions <= {"delayed", "relayed", "delivered", "expanded"}:
            return (False, "delivery report: delayed or delivered, not failed")
        return (True, "delivery status report (Action: failed)")
    if is_report:
        return (True, "multipart/report; report-type=delivery-status")
    daemon = bool(_DAEMON.match(message.from_addr))
    subject = message.subject
    if daemon and _DELAY_SUBJECT.search(subject) and not _BOUNCE_SUBJECT.search(subject):
        return (False, "delivery delay warning from the mail system")
    if message.header("x-failed-recipients"):
        return (True, "X-Failed-Recipients header")
    if daemon and (_BOUNCE_SUBJECT.search(subject) or _BOUNCE_BODY.search(message.text[:3000])):
        return (True, f"from {message.from_addr.split('@')[0]} reporting a failed delivery")
    if _BOUNCE_SUBJECT.search(subject) and _BOUNCE_BODY.search(message.text[:3000]) and (
        daemon or "undeliver" in subject.lower() or "delivery status" in subject.lower()
    ):
        return (True, "delivery failure notice")
    return None


def _auto_reason(message: MailMessage) -> str:
    auto = message.header("auto-submitted").lower()
    if auto.startswith("auto-replied"):
        return f"Auto-Submitted: {auto}"
    if message.header("x-autoreply") or message.header("x-autorespond"):
        return "X-Autoreply header"
    precedence = message.header("precedence").lower()
    if precedence == "auto_reply":
        return "Precedence: auto_reply"
    if _AUTO_SUBJECT.match(message.subject):
        return f"subject {message.subject[:40]!r} is an automatic reply"
    return ""


def classify(message: MailMessage) -> Classification:
    """Classify one message. Pure, never raises on odd content."""
    content_type = message.header("content-type").lower()

    # Calendar parts first: invitations and replies are often auto-generated.
    if message.calendar:
        method = _calendar_method(message)
        if not method:
            header_method = re.search(r"method=\"?(\w+)", content_type)
            method = header_method.group(1).upper() if header_method else ""
        if method == "REQUEST":
            return Classification(
                Kind.SCHEDULING,
                ("calendar invitation (METHOD:REQUEST)",),
                slot_expires=_invitation_start(message.calendar),
            )
        if method in ("REPLY", "COUNTER"):
            partstat = _PARTSTAT.search(message.calendar)
            state = partstat.group(1).lower() if partstat else "answered"
            what = "counter-proposal" if method == "COUNTER" else f"calendar reply ({state})"
            return Classification(Kind.CALENDAR_RESPONSE, (f"{what} (METHOD:{method})",))
        if method in ("CANCEL", "PUBLISH", "REFRESH", "DECLINECOUNTER"):
            return Classification(
                Kind.OTHER, (f"calendar {method.lower()}, not an invitation",), human=False
            )

    bounce = _is_bounce(message, content_type)
    if bounce is not None:
        failed, reason = bounce
        if failed:
            return Classification(Kind.BOUNCE, (reason,))
        return Classification(Kind.OTHER, (reason,), human=False)

    if "disposition-notification" in content_type or (
        _READ_RECEIPT_SUBJECT.match(message.subject) and "receipt" in message.text[:500].lower()
    ):
        return Classification(Kind.AUTO_REPLY, ("read receipt (disposition notification)",))

    if _RESPONSE_SUBJECT.match(message.subject) and not message.calendar:
        auto = _auto_reason(message)
        if auto or message.from_addr:
            return Classification(Kind.CALENDAR_RESPONSE, ("calendar response subject",))

    auto = _auto_reason(message)
    if auto:
        body = message.text[:2000]
        reasons = [auto]
        return_date = None
        if _OOO_WORDS.search(body) or _OOO_WORDS.search(message.subject):
            reasons.append("out-of-office wording")
            return_date = read_return_date(body, message.date)
            if return_date:
                reasons.append(f"back on {return_date.isoformat()}")
        return Classification(
            Kind.AUTO_REPLY,
            tuple(reasons),
            return_date=return_date,
            out_of_office=len(reasons) > 1,
        )

    precedence = message.header("precedence").lower()
    generated = message.header("auto-submitted").lower()
    if generated and not generated.startswith("no"):
        return Classification(Kind.OTHER, (f"machine-generated (Auto-Submitted: {generated})",), human=False)
    if precedence in ("bulk", "list", "junk") or message.header("list-id"):
        return Classification(
            Kind.OTHER, (f"bulk or list mail (Precedence: {precedence or 'list'})",), human=False
        )

    return _scheduling_or_other(message)


def _scheduling_or_other(message: MailMessage) -> Classification:
    text = own_text(message.text)
    if len(text.split()) < 4:  # a bare forward: judge what was forwarded
        text = message.text
    text = text[:3000]
    subject = re.sub(r"^\s*(?:(?:re|fw|fwd|aw|wg|tr)\s*:\s*)+", "", message.subject, flags=re.I)
    if _NOT_SCHEDULING.search(text):
        return Classification(Kind.OTHER, ("newsletter or bulk mail",), human=False)
    meet = _MEET.search(text) or _MEET.search(subject)
    when = _TIME.search(text)
    propose = _PROPOSE.search(text)
    if propose and (when or re.match(r"(?:let'?s|let us|we should)\s+meet", propose.group(0), re.I)):
        return Classification(
            Kind.SCHEDULING,
            (f"proposes a time ({propose.group(0)!r})",) + ((f"names a time ({when.group(0)!r})",) if when else ()),
        )
    if not meet:
        return Classification(Kind.OTHER, ("no meeting or call mentioned",))
    ask = _ASK.search(text) or _ASK.search(subject)
    reasons = (f"mentions a meeting ({meet.group(0)!r})",)
    if ask and when:
        return Classification(
            Kind.SCHEDULING,
            reasons + (f"asks, proposes or confirms ({ask.group(0)!r})", f"names a time ({when.group(0)!r})"),
        )
    clock = _STRONG_TIME.search(text)
    if clock and (_MEET.search(text) or _MEET.search(subject)):
        return Classification(Kind.SCHEDULING, reasons + (f"gives a time of day ({clock.group(0)!r})",))
    if not message.subject.lower().startswith(("re:", "aw:", "sv:")):
        subject_clock = _STRONG_TIME.search(subject)
        if subject_clock and _MEET.search(subject):
            return Classification(Kind.SCHEDULING, reasons + (f"the subject names a time ({subject_clock.group(0)!r})",))
    if ask and re.search(r"interview|call|meet", meet.group(0), re.I) and re.search(
        r"availability|slots?|what times?|when (?:are|would|could) you|schedul|set up|book",
        ask.group(0),
        re.I,
    ):
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
    "janvier": "january", "février": "february", "mars": "march", "avril": "april", "mai": "may",
    "juin": "june", "juillet": "july", "août": "august", "septembre": "september",
    "octobre": "october", "novembre": "november", "décembre": "december", "januar": "january",
    "februar": "february", "märz": "march", "juni": "june", "juli": "july", "oktober": "october",
    "dezember": "december", "enero": "january", "febrero": "february", "marzo": "march",
    "abril": "april", "mayo": "may", "junio": "june", "julio": "july", "agosto": "august",
    "septiembre": "september", "octubre": "october", "noviembre": "november", "diciembre": "december",
}
_INTL_DAYS = {
    "lundi": 0, "mardi": 1, "mercredi": 2, "jeudi": 3, "vendredi": 4, "samedi": 5, "dimanche": 6,
    "montag": 0, "dienstag": 1, "mittwoch": 2, "donnerstag": 3, "freitag": 4, "samstag": 5,
    "sonntag": 6, "lunes": 0, "martes": 1, "miércoles": 2, "jueves": 3, "viernes": 4,
    "sábado": 5, "domingo": 6,
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
        if result is not None:
            found.append((rank, result))
    if not found:
        return None
    return min(found, key=lambda item: item[0])[1]


def _read_date(phrase: str, base: datetime) -> date | None:
    from dateutil import parser as date_parser

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
    for word in re.split(r"[\s,]+", phrase):
        lowered = word.lower()
        if lowered in _INTL_DAYS or lowered in ("de", "dem", "le", "el", "the", "of"):
            continue
        words.append(_INTL_MONTHS.get(lowered, word))
    cleaned = re.sub(r"(\d)\.(?=\s|$)", r"\1", " ".join(words))
    cleaned = re.sub(r"(\d)er\b", r"\1", cleaned)
    try:
        parsed = date_parser.parse(cleaned, default=base, fuzzy=True, dayfirst=not re.match(r"\d{4}-", cleaned))
    except (ValueError, OverflowError, TypeError):
        return None
    result = parsed.date()
    if result < base.date() and not re.search(r"\b\d{4}\b", phrase):
        try:
            result = result.replace(year=result.year + 1)
        except ValueError:
            return None
    if base.date() - timedelta(days=1) <= result <= base.date() + timedelta(days=400):
        return result
    return None
