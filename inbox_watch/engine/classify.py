"""What kind of message is this? Judged on the message alone, whoever sent it.

Kinds: scheduling (proposes, asks for or confirms a time to meet, or a calendar invitation),
calendar_response (a calendar reply or counter-proposal), auto_reply (out-of-office and other
RFC 3834 auto-replies, read receipts), bounce (a delivery failure) and other. Every verdict comes
with reasons. The rules lean towards "human": a human message is never taken for an auto-reply
on its wording alone.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import re2  # RE2: linear-time matching, 5-20x faster than re on the long word alternations below

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
    r"|[^\n]{0,80}\d{1,2}/\d{1,2}/\d{2,4},? \d{1,2}:\d{2}(?::\d{2})? ?[ap]m\s*(?:\n\s*)?to:"
    r"|_{10,}"
    r"|from:\s.+\n(?:.*\n){0,3}?(?:sent|date):\s"
    r"|le .{4,200}a écrit\s*:"
    r"|am .{4,200}schrieb.*:"
    r")",
    re.M,
)


_QUOTE_HINT = re2.compile(r"wrote|écrit|schrieb|escribió|original message|forwarded|____|from:|\d ?[ap]m")
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
#
# A delivery report is recognised by its structure first (a message/delivery-status part, a
# multipart/report, X-Failed-Recipients), then by the usual forms of a non-delivery report: a
# subject naming a failed delivery (in many languages) together with a mail-system sender or a
# body written by a mail system. A person writing about a bounced email is never a bounce: a
# forwarded report, or text without a mail system's markers, stays human.

_DAEMON = re.compile(
    r"^(?:mailer-?daemon|mail-?daemon|mailerdaemon|postmaster|post_master|mdaemon|mailadm|mta"
    r"|mail\.delivery\.system|mail\.delivery|bounces?|imss|inetgw\d*|\"?system administrator\"?"
    r"|[\w.-]*(?:antivirus|smtp|mailscanner|mailguard)[\w.-]*|[\w.-]+-admin)(?:@|$)|^$"
)
_NDR_SUBJECT = re.compile(
    r"undeliver|undelivered|not delivered|could not be delivered|delivery (?:status notification|failure"
    r"|failed|has failed|has been delayed|report|problem|notification|delay)|delivery status"
    r"|mail delivery (?:failed|failure|subsystem|system|problem|warning)|returned mail|mail returned"
    r"|failure notice|failure delivery|failed mail|failed delivery|non[- ]?delivery|mail (?:system )?error"
    r"|message delivery has failed|processing error|permanent delivery failure|mail failure|delayed mail"
    r"|mail failed|returning (?:message )?to sender"
    r"|not yet been delivered|could not send (?:message|mail)|error sending your mail|returned to sender"
    r"|non remis|non recapitabile|unzustellbar|nicht zustellbar|nicht zugestellt|no se (?:puede|pudo) entregar"
    r"|no entregad|onbestelbaar|niet (?:afgeleverd|bezorgd)|não (?:entregue|foi possível)|nao entregue"
    r"|niedostarcz|nedoručitel|kézbesíthetetlen|olevererbar|ikke levert|не доставлено|недоставлен"
    r"|配信でき|送信エラー|未送达|无法投递|退信|mail delivery status|are not member|loop alert"
)
_FAILURE_SUBJECT = re.compile(
    r"undelivered mail returned|returned mail|returned to sender|failure|failed|non remis|unzustellbar"
    r"|undeliverable|not delivered|niedostarcz|не доставлено|недоставлен"
)
_DELAY_SUBJECT = re.compile(
    r"\(delay\)|delayed|delivery delay|not yet (?:been )?delivered|still being retried"
    r"|could not send (?:message|mail) for past|notification: warning|mail delivery warning|postponed"
    r"|verzögert|verzoegert|retardé|retardée|retrasad|vertraagd|ritardat|atrasad|opóźnion|opoznion"
)
_DELAY_BODY = re2.compile(
    r"this is a warning|warning (?:message )?only|not yet been delivered|has not yet been delivered"
    r"|still being retried|will (?:continue|keep) (?:trying|to try|retrying)|no need to resend"
    r"|do not need to resend|has been delayed|been postponed|is delayed for more than|delayed and is still"
    r"|retry (?:until|for)|will be retried|wird weiterhin versucht|nouvelle tentative|se seguirá intentando"
    r"|nog niet afgeleverd|non è ancora stato consegnato|ainda não foi entregue|nie został jeszcze dostarczony"
)
_PERMANENT = re.compile(r"failed permanently|permanent (?:error|failure|fatal)|i've given up|gave up|giving up")
_FINAL_RECIPIENT = re.compile(r"^(?:Final|Original)-Recipient:\s*(?:rfc822;)?\s*<?([^\s<>;]+@[^\s<>;]+)>?", re.I | re.M)
_ACTION = re.compile(r"^Action:\s*(\w+)", re.I | re.M)
_FAILURE_BODY = re2.compile(
    r"could(?: not|n't) be delivered|cannot be delivered|can't be delivered|was(?: not|n't) delivered"
    r"|not (?:been )?delivered|undeliverable|delivery to the following|delivery has failed|delivery failed"
    r"|failed permanently|permanent(?:ly)? (?:error|failure|fatal)|fatal error|user unknown|unknown user"
    r"|no such user|mailbox (?:unavailable|full|is full|not found|does not exist)|over quota|quota"
    r"|address rejected|does not exist|not a valid|invalid (?:recipient|address|user|final delivery)"
    r"|host unknown|domain (?:name )?not found|unable to deliver|could not deliver|not listed"
    r"|not member|loop|(?:was|been|is) rejected|delayed|not yet been delivered|retried"
    r"|n'a pas pu (?:être|etre) (?:remis|délivré|delivre)|nicht zugestellt|no se pudo entregar"
    r"|nie (?:został|mogła) (?:dostarczon|zostać)|не (?:может быть|было) доставлено"
    r"|不能|できません|无法发送|无法送达|未能送达|退回"
)
_SMTP_CODE = re.compile(r"\b[245]\d\d[ -]#?[245]\.\d{1,3}\.\d{1,3}\b|\b5[0-5]\d\b")
_MACHINE_STYLE = re2.compile(
    r"automatically generated|created automatically|generated automatically|mail delivery software"
    r"|this is the (?:mail system|postfix|qmail|mail delivery|machine generated)|the following (?:address|recipient)"
    r"|original message (?:follows|was received)|message details|diagnostic|remote host said|transcript"
    r"|mailer-daemon|postmaster|do not reply|please do not reply|reason:|\bsmtp\b|mailbox|no valid recipient"
    r"|e-?mail address|error:"
)
# Senders that send notifications of every kind: a report from them needs a mail system's wording.
_NOTIFIER = re.compile(r"^(?:no-?reply|noreply|sysadmin|admin|root|mailer|mail)(?:@|$)")
_FORWARD = re.compile(r"^\s*(?:fwd?|tr|wg|rv|i|enc)\s*:", re.I)
_ADDRESS = re.compile(r"[\w.+'-]+@[\w-]+(?:\.[\w-]+)+")

# --- auto-replies ---------------------------------------------------------------------------

_AUTO_SUBJECT = re.compile(
    r"^\s*(?:automatic reply|auto(?:matic)?[- ]?(?:reply|response|antwort)|autoreply|autoresponder"
    r"|auto:\s|out of (?:the )?office(?: auto ?reply)?\s*[:\-]|out of office$|ooo\s*[:\-]"
    r"|away from (?:the )?office\s*:|on vacation\s*:|vacation reply|abwesenheitsnotiz|abwesenheit\b"
    r"|automatische antwort|réponse automatique|reponse automatique|absence\s*:|respuesta automática"
    r"|respuesta automatica|fuera de (?:la )?oficina|risposta automatica|fuori (?:sede|ufficio)"
    r"|automatisch antwoord|afwezig\b|resposta automática|resposta automatica|ausente\b"
    r"|automatyczna odpowiedź|odpowiedź automatyczna|poza biurem|nieobecnoś[cć]|automātiskā atbilde"
    r"|automaattinen vastaus|automatisk svar|automatická odpověď|автоответ|автоматический ответ"
    r"|自動応答|自动回复|αυτόματη απάντηση)",
    re.I,
)
_SELF_DESCRIBED_AUTO = re2.compile(
    r"this is an? auto(?:mated|matic|matically generated)[- ](?:reply|response|message|acknowledg|e-?mail)"
    r"|(?:this|the) (?:e-?mail|message) (?:is|was) (?:sent )?automatically"
    r"|ceci est une? (?:réponse|message|réponse automatique) automatique|ceci est une réponse automatique"
    r"|message automatique|réponse automatique|dies ist eine automatische|automatisch (?:generiert|erstellt)"
    r"|esta es una respuesta automática|mensaje automático|questa è una risposta automatica"
    r"|to jest (?:automatyczna|wiadomość automatyczna)|dit is een automatisch|automatisch bericht"
    r"|esta é uma resposta automática|mensagem automática|automātiska atbilde|automātiskā atbilde"
    r"|we have received your (?:request|message|e-?mail|enquiry|inquiry)"
    r"|your (?:request|ticket) (?:has been|was) (?:received|created)"
    r"|nous avons (?:bien )?reçu votre (?:message|demande)|wir haben ihre (?:nachricht|anfrage) erhalten"
)
_READ_RECEIPT_SUBJECT = re.compile(
    r"^\s*(?:read|gelesen|lu|leído|leido|letto|gelezen|lida|lido|odczytan[aeo]|przeczytan[aeo]|přečteno"
    r"|luettu|läst|læst|прочитано|已读)\s*:",
    re.I,
)
_READ_RECEIPT_BODY = re.compile(
    r"receipt|was read|read on|a été lu|wurde .{0,40}gelesen|fue leído|è stato letto|is gelezen|foi lido"
    r"|został przeczytan|gelesen am|lu le",
)
_OOO_WORDS = re2.compile(
    r"out of (?:the )?office|on (?:annual |parental |sick )?leave|on holiday|on vacation|away from (?:the|my) "
    r"(?:office|desk)|limited access to (?:my )?e-?mail|parental leave|maternity leave|currently away"
    r"|will be away|i am away|i'm away|return(?:ing)? (?:on|to)|back (?:on|in|next)|be back|away until"
    r"|abwesend|nicht im büro|außer haus|ausser haus|im urlaub|urlaub|wieder erreichbar|wieder im büro"
    r"|absente?|hors du bureau|en congé|congé|en vacances|de retour"
    r"|fuera de (?:la )?oficina|de vacaciones|vacaciones|ausencia|ausente|regreso|volveré"
    r"|afwezig|niet op kantoor|met vakantie|vakantie|terug op|weer aanwezig|weer op kantoor"
    r"|fuori (?:ufficio|sede)|in ferie|ferie|assente|rientro|di ritorno|sarò di nuovo"
    r"|fora do escritório|de férias|férias|regresso|estarei de volta"
    r"|poza biurem|na urlopie|urlop|nieobecn|wracam|powrót"
    r"|prombūtnē|atvaļinājumā|atvaļinājums",
)
_HELPDESK_SUBJECT = re.compile(r"\[(?:ticket|case|request|support)[^\]]{0,20}#?\s*\d+\]|\bticket\s*#?\s*\d{3,}", re.I)
# "Thank you for your message, we will answer as soon as possible": an acknowledgement. A person
# may write that too, so it counts only beside a mark of a machine (see _machine_mark).
_THANKS_FOR_WRITING = re2.compile(
    r"thank(?:s| you)(?: very much)? for (?:your|you|contacting|writing|getting in touch)"
    r"|merci (?:de|pour) votre|danke für ihre|vielen dank für ihre|gracias por (?:su|tu|contactar)"
    r"|grazie per (?:il|la|aver)|bedankt voor (?:uw|je)|obrigad[oa] pel[ao]|dziękujemy za|dziękuję za"
)
_WILL_ANSWER = re2.compile(
    r"(?:will|shall) (?:endeavou?r to |try to |do my best to )?(?:reply|respond|answer|get back|be in touch|contact)"
    r"|as soon as (?:possible|i can|we can)|nous vous répondrons|vous répondre|dans les (?:plus )?brefs? délais"
    r"|wir (?:werden uns|melden uns)|so (?:schnell|bald) wie möglich|(?:le|te) (?:responderemos|contestaremos)"
    r"|lo antes posible|(?:vi|le|ti) risponderemo|al più presto|wij nemen|zo snel mogelijk|responderemos"
    r"|o mais breve|odpowiemy|najszybciej"
)
# A challenge-response filter holds the email until the sender proves to be a person.
_CHALLENGE = re2.compile(
    r"guest list|waitlisted|approved senders? list|allowed (?:senders? )?list"
    r"|(?:verify|confirm|prove) (?:that )?you are (?:a )?(?:real )?(?:person|human)"
    r"|(?:have your address|add yourself|be) added to (?:my|the recipient'?s) (?:allowed|approved|guest|white) ?list"
    r"|challenge[- ]response|sender (?:is )?not pre-?approved"
)

# --- calendar -------------------------------------------------------------------------------

_METHOD = re.compile(r"^METHOD:\s*([A-Za-z-]+)", re.M)
_PARTSTAT = re.compile(r"PARTSTAT=([A-Za-z-]+)", re.I)
_RESPONSE_SUBJECT = re.compile(
    r"^\s*(?:accepted|declined|tentative(?:ly accepted)?|new time proposed|event accepted|event declined"
    r"|angenommen|abgelehnt|mit vorbehalt angenommen|neuer zeitpunkt|acceptée?|refusée?|peut-être|provisoire"
    r"|réunion acceptée|réunion refusée|nouvelle heure proposée|aceptado|aceptada|rechazado|rechazada|provisional"
    r"|nueva hora propuesta|geaccepteerd|geweigerd|voorlopig|nieuwe tijd voorgesteld|accettato|accettata|rifiutato"
    r"|rifiutata|provvisorio|aceito|aceita|recusado|recusada|zaakceptowano|odrzucono|wstępnie zaakceptowano)\s*:",
)

# --- scheduling -----------------------------------------------------------------------------
#
# A scheduling email names a time to meet, or asks for one, with a meeting act (meet, call, talk,
# interview, lunch, "30 minutes with", a slot) and a speech act that proposes, asks, confirms,
# accepts or counters, in the present or future. Only the author's own text counts; quoted
# history is read only to see what a short acceptance accepts. Reports of past meetings,
# thank-yous, minutes, deadlines ("by Friday") and broadcasts are not scheduling.
#
# Time expressions are found with the patterns below, not with a date-search library: measured on
# the tune part of bench/labels/third-party.csv, dateparser.search.search_dates (8 languages) took
# 25 ms a message and ctparse 40 ms (English only), 250-400 s for 10,000 messages against a budget
# of 1 s (these patterns: about 0.05 ms a message, with RE2).

_WEEKDAY = r"(?:mon|tue|tues|wed|thu|thur|thurs|fri|sat|sun)(?:day|nesday|sday|urday|rsday)?\.?"
_WEEKDAY_WORD = r"(?:mon|tue|tues|wed|thu|thur|thurs|fri|sat|sun)(?:day|nesday|sday|urday|rsday)?"
_WEEKDAY_INTL = (
    r"(?:lundi|mardi|mercredi|jeudi|vendredi|samedi|dimanche|montag|dienstag|mittwoch|donnerstag|freitag"
    r"|samstag|sonntag|lunes|martes|miércoles|miercoles|jueves|viernes|sábado|sabado|domingo"
    r"|maandag|dinsdag|woensdag|donderdag|vrijdag|zaterdag|zondag|lunedì|lunedi|martedì|martedi"
    r"|mercoledì|mercoledi|giovedì|giovedi|venerdì|venerdi|sabato|segunda(?:-feira)?|terça(?:-feira)?"
    r"|quarta(?:-feira)?|quinta(?:-feira)?|sexta(?:-feira)?|poniedziałek|poniedzialek|wtorek|wtorku|środa"
    r"|środę|sroda|czwartek|piątek|piatek|sobota|sobotę|niedziela|niedzielę)"
)
_MONTH = r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?"
_MONTH_INTL = (
    r"(?:janvier|février|fevrier|mars|avril|mai|juin|juillet|août|aout|septembre|octobre|novembre|décembre"
    r"|januar|februar|märz|juni|juli|oktober|dezember|enero|febrero|marzo|abril|mayo|junio|julio|agosto"
    r"|septiembre|octubre|noviembre|diciembre|januari|februari|maart|mei|augustus|gennaio|febbraio"
    r"|aprile|maggio|giugno|luglio|settembre|ottobre|dicembre|janeiro|fevereiro|março|maio|junho|julho"
    r"|setembro|outubro|novembro|dezembro|stycznia|lutego|marca|kwietnia|maja|czerwca|lipca|sierpnia"
    r"|września|października|listopada|grudnia)"
)
_CLOCK = (
    r"\b\d{1,2}(?:[:.][0-5]\d)?\s?(?:am|pm)\b|\b\d{1,2}(?:[:.][0-5]\d)?\s?[ap]\.m\.|\b\d{1,2}[:.h][0-5]\d\b"
    r"|\b\d{1,2}\s?h\b|\b\d{1,2}\s+uhr\b|\b(?:[01]\d|2[0-3])[0-5]\d\s*(?:hrs?|hours|h)\b"
    r"|\bat\s+(?:[01]\d|2[0-3])[0-5]\d\b|\b\d{1,4}\s*-\s*\d{1,2}(?:[:.][0-5]\d)?\s*(?:am|pm)?\b"
    r"|\bnoon\b|\bmidday\b|\bmidi\b|\bmittag\b|\bhalf past\b|\bo'clock"
)
_STRONG_TIME = re2.compile(_CLOCK)
_RELATIVE_DAY = (
    r"today|tomorrow|tonight|this (?:morning|afternoon|evening|week|weekend)|next (?:week|month)"
    r"|(?:early|later|end of|middle of) (?:this |next |the )?week|the following (?:week|" + _WEEKDAY_WORD + r")"
    r"|(?:tomorrow|monday|tuesday|wednesday|thursday|friday) (?:morning|afternoon|evening|night)"
    r"|\d+ (?:minutes|mins|min) (?:before|after|early)|first thing|any ?time"
    r"|this coming " + _WEEKDAY_WORD + r"|over the weekend|in the (?:morning|afternoon)"
    r"|aujourd'hui|demain|ce soir|cet après-midi|la semaine prochaine|heute|morgen|übermorgen|nächste woche"
    r"|mañana|hoy|esta tarde|la (?:semana|próxima semana) (?:que viene|próxima)|próxima semana|proxima semana"
    r"|vandaag|volgende week|vanmiddag|domani|oggi|stasera|la prossima settimana|settimana prossima"
    r"|amanhã|amanha|hoje|jutro|dzisiaj|dziś|w przyszłym tygodniu"
)
_DATE = (
    r"\b\d{1,2}(?:st|nd|rd|th|er|e|\.)?\s+(?:of\s+|de\s+)?(?:" + _MONTH + "|" + _MONTH_INTL + r")"
    r"|\b(?:" + _MONTH + r")\s+\d{1,2}(?:st|nd|rd|th)?\b|\b\d{1,2}/\d{1,2}(?:/\d{2,4})?\b|\b\d{4}-\d{2}-\d{2}\b"
    r"|\bthe \d{1,2}(?:st|nd|rd|th)\b"
)
_TIME = re2.compile(
    r"\b(?:" + _WEEKDAY_WORD + r"|" + _WEEKDAY_INTL + r")|\b(?:" + _RELATIVE_DAY + r")\b|" + _DATE + "|" + _CLOCK
)
_OPENING_HOURS = re2.compile(
    r"(?:mon(?:day)?|lundi|montag|lunes)\s*(?:-|–|through|thru|to|à|bis|a)\s*(?:fri(?:day)?|vendredi|freitag|viernes)"
    r"|business hours|office hours|opening hours|hours of operation|open from"
    r"|between \d{1,2}(?::\d{2})?\s*(?:am|a\.m\.)"
)
_HELD = re2.compile(
    r"(?:meeting|call|interview|appointment|session|conference|réunion|entretien|termin|reunión)[^.?!]{0,80}"
    r"(?:will be held|will take place|is scheduled|has been scheduled|is booked|has been booked|is confirmed"
    r"|is set for)"
)
_DEADLINE_BEFORE = re.compile(r"(?:\bby|before|until|till|deadline(?: is)?|due(?: on| by)?|no later than|cob|eod)\s*$")
_MEETING = re2.compile(
    r"\b(?:meet(?:s|ing|ings)?|call(?:s)?|calling|phone (?:call|interview|screen)|by phone|on the phone|phone me"
    r"|give (?:me|us) a ring|ring (?:me|you)|talk|speak|chat|discuss(?:ion)?|interview\w*"
    r"|screen(?:ing)?|catch[- ]?up|get together|sit down|coffee|lunch|dinner|breakfast|drinks?|beer"
    r"|conference call|video (?:call|chat|conference)|zoom|ms teams|microsoft teams|teams (?:call|meeting)|webex"
    r"|skype|hangout|slots?|availability|available (?:for|to) (?:a )?(?:call|meet|chat|talk)|are you free"
    r"|free to (?:meet|talk|chat)"
    r"|appointment|see (?:you|me|us|each other)|come (?:and see|by|over|in|to)|stop by|drop by|pop in|visit"
    r"|session|presentation|workshop|get-together|\d+\s*(?:min|mins|minutes)\b|time with|diary|your calendars?"
    r"|my calendar|calendar invite"
    r"|invite|invitation|join us|join me|attend"
    r"|rendez-vous|rdv|réunion|reunion|entretien|appel|rencontr\w*|se voir|déjeuner|dîner|café|visio"
    r"|termin\w*|treffen|gespräch\w*|telefonat|anrufen|besprechung|mittagessen|sprechen"
    r"|reunión|llamada|entrevista|cita|vernos|quedar|almuerzo|cena|hablar"
    r"|afspraak|vergadering|gesprek|bellen|overleg|spreken|riunione|incontr\w*|chiamata|colloquio"
    r"|appuntamento|vederci|pranzo|sentirci|reunião|reuniao|chamada|encontro|almoço|jantar|conversar"
    r"|spotkani\w*|spotka\w*|rozmow\w*|zadzwoni\w*|obiad|kolacj\w*)\b"
)
_ACT = re2.compile(
    r"are you (?:free|available|around|in)|(?:would|does|will|do|could|can) .{0,50}(?:work|suit|fit)\b"
    r"|(?:can|could|shall|should|would) (?:you|we|i) |when (?:are|would|could|can|is|will|do|should|and where)"
    r"|what (?:time|day|date)|which (?:day|time|slot|date|one)|let me know|how about|what about|shall we"
    r"|do you (?:have|want)|would you like|are we (?:still )?on|is .{0,30} (?:ok|okay|good|fine)\b|\?"
    r"|let'?s|let us|we (?:should|could|can|will|'ll) |i (?:can|could) (?:do|make|meet|come|call)"
    r"|i'?m (?:free|available|around)|i am (?:free|available|around)|i (?:propose|suggest)"
    r"|please (?:come|join|attend|call|meet)"
    r"|i'?ll (?:call|ring|be there|come|stop|see|meet|phone)|i will (?:call|ring|be there|come|stop|see|meet|phone)"
    r"|\b(?:i|we) (?:shall|will|'ll) be (?:in|at|there|around|free|available)\b|i shall|we shall"
    r"|see you|we'?ll meet|meet (?:me|us)|come (?:and )?see me|set up|schedul|arrange|book|pencil|invit"
    r"|confirm|(?:is|are) (?:set|booked|scheduled|on)\b|all set|will be held|looking forward|look forward|reminder"
    r"|works? (?:for me|for us|great|fine|well|best)|sounds (?:good|great|fine|perfect)|that'?s (?:fine|great|perfect)"
    r"|i'?ll be there|we would love|we'd love|count me in|suits (?:me|us|you)|which suits|what suits|i can make it"
    r"|\b(?:can|could) (?:do|make)\b|instead|rather"
    r"|disponible|disponibilité|convient|pourriez-vous|pouvons-nous|je (?:vous|te) propose|on se voit|ça (?:vous|te) va"
    r"|d'accord|parfait|passt|hätten sie|haben sie zeit|können wir|wollen wir|ich schlage vor|wie wäre"
    r"|einverstanden|gerne|viene bien|conviene|podemos|propongo|qué tal|que tal|nos vemos|me parece bien"
    r"|de acuerdo|perfecto|schikt|past het|kunnen we|zullen we|ik stel voor|akkoord|ti va|va bene"
    r"|possiamo|potremmo|che ne dici|perfetto|ci vediamo|proponho|fica bem|combinado|perfeito"
    r"|czy (?:możemy|może|pasuje|odpowiada)|pasuje|proponuję|spotkajmy|zgoda|do zobaczenia|odpowiada mi|może być"
)
_ACCEPT = re.compile(
    r"^(?:\W*(?:yes|yep|yeah|sure|ok|okay|great|perfect|fine|confirmed|agreed|done|tak|oui|ja|sí|si|sim|d'accord"
    r"|parfait|gerne|perfecto|perfetto|perfeito|zgoda|super|good|excellent)\b)"
    r"|works? (?:for me|for us|great|fine|well)|sounds (?:good|great|fine|perfect)|that'?s (?:fine|great|perfect)"
    r"|see you (?:then|there|on|at|tomorrow)|i'?ll be there|we would love to|we'd love to|count me in"
    r"|suits (?:me|us)|i can make it|looking forward|pasuje|odpowiada mi|passt (?:mir|gut)|me va bien|ça me va"
)
_PAST = re2.compile(
    r"thanks? (?:you )?(?:again )?for (?:the|your|yesterday|today|taking|meeting|a |our |speaking|talking)"
    r"|thank you for (?:the|your|meeting|taking|speaking|talking)|\b(?:met|spoke|talked|discussed|attended)\b"
    r"|we had (?:a|our)|had a (?:good |great )?(?:call|meeting|chat|talk)|minutes of|was held|were held"
    r"|\byesterday\b|last (?:week|night|month|" + _WEEKDAY_WORD + r")|earlier today|this morning's"
    r"|merci pour|danke für|gracias por|bedankt voor|grazie per|obrigad[oa] pel|dziękuję za"
)
_WEAK_PAST = re2.compile(r"\b(?:was|were|had|did|went|happened|took place|sent|received)\b")
_FUTURE_OR_ASK = re2.compile(r"\b(?:will|shall|can|could|would|let'?s|are you|how about|going to|plan to)\b|\?|'ll\b")
_PROPOSE_TIME = re2.compile(
    r"let'?s (?:shoot for|say|do|aim for|make it|go with|plan on|pencil in)|how about|what about|shall we say"
    r"|(?:can|could) we do|(?:would|does|will) .{0,25}(?:work|suit)|is .{0,20} (?:ok|okay|good|better) for you"
)
_LETS_MEET = re2.compile(
    r"\b(?:let'?s|let us|shall we|we should|why don't we) (?:meet|get together|catch up|have (?:lunch|dinner|coffee)"
    r"|grab (?:a )?(?:coffee|lunch|a drink)|set up a (?:call|meeting))"
)
_BROADCAST_SENDER = re.compile(
    r"^(?:owner-|[\w.]*announce|newsletter|news@|no\.?address|noreply|no-reply|donotreply|do-not-reply|mailing)"
)
_NOT_SCHEDULING = re2.compile(
    r"unsubscribe|view (?:this email )?in (?:your )?browser|manage (?:your )?(?:alerts|subscription|preferences)"
    r"|se désabonner|désinscri|abmelden|darse de baja|uitschrijven|cancella(?:re)? l'iscrizione|wypisz"
)
_AVAILABILITY_ASK = re2.compile(
    r"(?:your|his|her|their) availability"
    r"|when (?:are|would|could|can|is) (?:you|he|she|they|it) (?:free|available|good)"
    r"|what (?:time|day)s? (?:works|suits|would|is good|are good)|when and where"
    r"|set up (?:a |some )?(?:time|call|meeting|chat|interview)"
    r"|arrange (?:a |an |the )?(?:\w+ ){0,2}(?:call|meeting|interview|time)"
    r"|schedule (?:a |an |the )?(?:\w+ ){0,2}(?:call|meeting|interview|time)"
    r"|\d+\s*(?:min|mins|minutes) (?:with|of your time)|time to (?:talk|meet|chat|speak)"
    r"|quand (?:êtes-vous|seriez-vous) disponible|wann (?:haben sie|hast du) zeit|cuándo (?:puede|tiene)"
)
_WINDOW = 140


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


def _recipient(message: MailMessage, body: str) -> str:
    """The address a delivery report is about, as well as it can be read."""
    if message.failed_recipients:
        return message.failed_recipients[0]
    final = _FINAL_RECIPIENT.search(message.delivery_status)
    if final:
        return final.group(1).lower()
    sender = message.from_addr
    for match in _ADDRESS.finditer(body):
        address = match.group(0).lower().strip(".'")
        if address != sender and not _DAEMON.match(address):
            return address
    return ""


def _delivery_report(
    message: MailMessage, subject: str, content_type: str, headers: dict[str, str]
) -> Classification | None:
    """A bounce (failed or only delayed) or a mail-system delivery notice, else None."""
    structural = bool(message.delivery_status) or (
        "multipart/report" in content_type and "delivery-status" in content_type
    )
    failed_header = bool(headers.get("x-failed-recipients"))
    forwarded = bool(_FORWARD.match(subject))
    if not structural and not failed_header:
        if forwarded:
            return None
        daemon = bool(_DAEMON.match(message.from_addr.lower()))
        ndr_subject = bool(_NDR_SUBJECT.search(subject))
        if not daemon and not ndr_subject and not _NOTIFIER.match(message.from_addr):
            return None
        body = message.text[:2000].lower()
        failure = bool(_FAILURE_BODY.search(body)) or bool(_SMTP_CODE.search(body))
        if daemon:
            if not (ndr_subject or failure):
                return None
        elif not (failure and _MACHINE_STYLE.search(body)):
            return None  # a person writing about a failed delivery
    body = message.text[:1500].lower()
    if _CHALLENGE.search(body):
        return Classification(
            Kind.AUTO_REPLY,
            ("a challenge-response message: the recipient's spam filter holds the email until the sender confirms",),
        )
    actions = {a.lower() for a in _ACTION.findall(message.delivery_status)}
    who = _recipient(message, body) or "the recipient"
    if actions and actions <= {"relayed", "delivered", "expanded"}:
        return Classification(
            Kind.OTHER, (f"delivery notice: the message was {sorted(actions)[0]}, not a failure",), human=False
        )
    failure_subject = bool(_FAILURE_SUBJECT.search(subject))
    if actions:
        delayed = actions <= {"delayed"} and not (failure_subject and not _DELAY_SUBJECT.search(subject))
    else:
        delayed = bool(_DELAY_SUBJECT.search(subject) or _DELAY_BODY.search(body)) and not (
            _PERMANENT.search(body) or (failure_subject and not _DELAY_SUBJECT.search(subject))
        )
    how = (
        "a delivery status report"
        if structural
        else "X-Failed-Recipients header"
        if failed_header
        else f"a report from the mail system ({(message.from_addr or 'no sender')[:40]})"
    )
    if delayed:
        return Classification(
            Kind.BOUNCE,
            (f"delivery to {who} delayed: the mail system is still trying, this is not a failure", how),
            human=False,
            delayed=True,
        )
    return Classification(Kind.BOUNCE, (f"delivery to {who} failed: the address did not accept the email", how))


def may_be_delivery_report(message: MailMessage) -> bool:
    """Whether a message read without its text may be a delivery report: by its structure
    (multipart/report, X-Failed-Recipients), a mail system's sender or a non-delivery subject,
    the same markers ``classify`` starts from. Only its text says whom a report is about (the
    failed recipient, the Message-ID it returns), so a two-step sync reads the text of these."""
    headers = dict(message.headers)
    if "multipart/report" in headers.get("content-type", "").lower() or headers.get("x-failed-recipients"):
        return True
    sender = message.from_addr.lower()
    return bool(_DAEMON.match(sender) or _NOTIFIER.match(sender) or _NDR_SUBJECT.search(message.subject.lower()))


def _auto_reason(message: MailMessage, subject: str, headers: dict[str, str]) -> str:
    auto = headers.get("auto-submitted", "").lower()
    if auto.startswith("auto-replied"):
        return f"marked as an automatic reply (Auto-Submitted: {auto[:30]})"
    if headers.get("x-autoreply") or headers.get("x-autorespond"):
        return "marked as an automatic reply (X-Autoreply)"
    precedence = headers.get("precedence", "").lower()
    if precedence == "auto_reply":
        return "marked as an automatic reply (Precedence: auto_reply)"
    if headers.get("x-ms-exchange-generated-message-source"):
        return "an automatic reply generated by Exchange"
    if _AUTO_SUBJECT.match(subject):
        return f"the subject {message.subject[:40]!r} is an automatic reply"
    return ""


def _is_list(headers: dict[str, str]) -> bool:
    return bool(headers.get("list-id") or headers.get("list-unsubscribe") or headers.get("precedence") == "list")


def _machine_mark(message: MailMessage, headers: dict[str, str], generated: str) -> str:
    """Why this message was sent by a program rather than typed by a person, or ""."""
    if generated:
        return f"Auto-Submitted: {generated[:30]}"
    if headers.get("return-path", "").strip() == "<>":
        return "sent with an empty return path, as automatic mail is"
    precedence = headers.get("precedence", "").lower()
    if precedence in ("bulk", "junk"):
        return f"Precedence: {precedence}"
    if headers.get("x-php-originating-script"):
        return "sent by a web form script"
    if _NOTIFIER.match(message.from_addr):
        return f"sent from {message.from_addr[:40]}"
    return ""


CLASSIFIER_VERSION = 3
"""Bump when the rules change: classifications stored by an older version are not reused."""


def to_stored(result: Classification) -> list[object]:
    """A compact form of a full classification, kept beside the message in the store."""
    return [
        CLASSIFIER_VERSION,
        result.kind.value,
        list(result.reasons),
        result.out_of_office,
        result.human,
        result.delayed,
    ]


_KIND_VALUES = frozenset(kind.value for kind in Kind)


def from_stored(stored: Sequence[object]) -> Classification | None:
    """The classification kept by ``to_stored``; None when it came from another version or
    the kept copy is damaged (it is only a cache: the message is classified afresh)."""
    if len(stored) != 6 or stored[0] != CLASSIFIER_VERSION:
        return None
    _, kind, reasons, out_of_office, human, delayed = stored
    if kind not in _KIND_VALUES or not isinstance(reasons, list):
        return None
    return Classification(
        Kind(kind),
        tuple(str(r) for r in reasons),  # type: ignore[attr-defined]
        out_of_office=bool(out_of_office),
        human=bool(human),
        delayed=bool(delayed),
    )


def _valid_unicode(value: str) -> str:
    return value.encode("utf-8", "replace").decode("utf-8")


def classify(message: MailMessage, *, read_dates: bool = True, content: bool = True) -> Classification:
    """Classify one message. Pure, never raises on odd content.

    ``read_dates=False`` skips reading an out-of-office's return date (the engine reads it only
    for the auto-replies that matter, with ``read_return_date``). ``content=False`` stops before
    reading a human message's text: such a message comes back as ``other`` (the engine asks for
    this where scheduling and other count the same, as for a reply).
    """
    try:
        return _classify(message, read_dates=read_dates, content=content)
    except UnicodeEncodeError:  # a lone surrogate: RE2 reads valid UTF-8 only
        clean = replace(
            message,
            subject=_valid_unicode(message.subject),
            from_addr=_valid_unicode(message.from_addr),
            text=_valid_unicode(message.text),
            calendar=_valid_unicode(message.calendar),
            delivery_status=_valid_unicode(message.delivery_status),
            headers=tuple((_valid_unicode(k), _valid_unicode(v)) for k, v in message.headers),
        )
        return _classify(clean, read_dates=read_dates, content=content)


def _classify(message: MailMessage, *, read_dates: bool, content: bool) -> Classification:
    """Classify one message (see ``classify``)."""
    headers = dict(message.headers) if message.headers else {}
    content_type = headers.get("content-type", "").lower()
    subject = message.subject.lower()

    # Delivery reports first: a report that returns an invitation is a bounce, not an invitation.
    report = _delivery_report(message, subject, content_type, headers)
    if report is not None:
        return report

    # Calendar parts next: invitations and replies are often auto-generated.
    if message.calendar:
        method = _calendar_method(message)
        if not method:
            header_method = re.search(r"method=\"?(\w+)", content_type)
            method = header_method.group(1).upper() if header_method else ""
        if method == "REQUEST":
            calendar = message.calendar
            if "VTODO" in calendar and "VEVENT" not in calendar and "vevent" not in calendar.lower():
                return Classification(Kind.OTHER, ("a calendar task (a to-do), not a meeting",))
            return Classification(Kind.SCHEDULING, ("calendar invitation (METHOD:REQUEST)",))
        if method in ("REPLY", "COUNTER"):
            partstat = _PARTSTAT.search(message.calendar)
            state = partstat.group(1).lower() if partstat else "answered"
            what = "counter-proposal" if method == "COUNTER" else f"calendar reply ({state})"
            return Classification(Kind.CALENDAR_RESPONSE, (f"{what} (METHOD:{method})",))
        if method in ("CANCEL", "PUBLISH", "REFRESH", "DECLINECOUNTER"):
            return Classification(Kind.OTHER, (f"calendar {method.lower()}, not an invitation",), human=False)

    if "disposition-notification" in content_type:
        return Classification(Kind.AUTO_REPLY, ("read receipt (disposition notification)",))
    if _READ_RECEIPT_SUBJECT.match(subject) and (
        "ms-tnef" in content_type or not message.text.strip() or _READ_RECEIPT_BODY.search(message.text[:500].lower())
    ):
        return Classification(Kind.AUTO_REPLY, ("read receipt (sent by the mail program when the email was opened)",))

    if _RESPONSE_SUBJECT.match(subject) and not message.calendar:
        return Classification(Kind.CALENDAR_RESPONSE, ("calendar response subject",))

    generated = headers.get("auto-submitted", "").lower()
    generated = "" if generated.startswith("no") else generated
    body = message.text[:2000]
    lowered = body.lower()
    auto = _auto_reason(message, subject, headers)
    if not auto:
        opening = own_text(lowered[:800])[:400]
        mark = _machine_mark(message, headers, generated)
        if _SELF_DESCRIBED_AUTO.search(opening):
            auto = "says it is an automatic message"
        elif generated and (_OOO_WORDS.search(lowered) or _OOO_WORDS.search(subject)):
            auto = f"machine-generated (Auto-Submitted: {generated[:30]}) with out-of-office wording"
        elif generated and _HELPDESK_SUBJECT.search(subject):
            auto = "an automatic acknowledgement from a helpdesk"
        elif mark and _THANKS_FOR_WRITING.search(opening) and _WILL_ANSWER.search(opening):
            auto = f"an automatic acknowledgement: thanks for the message, promises an answer ({mark})"
        elif mark and not _is_list(headers) and _OOO_WORDS.search(opening):
            auto = f"out-of-office wording from a machine ({mark})"
    if auto:
        reasons = [auto]
        return_date = None
        if _OOO_WORDS.search(lowered) or _OOO_WORDS.search(subject):
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
    if generated:
        return Classification(Kind.OTHER, (f"machine-generated (Auto-Submitted: {generated[:30]})",), human=False)
    if precedence in ("bulk", "list", "junk") or headers.get("list-id") or headers.get("list-unsubscribe"):
        return Classification(Kind.OTHER, (f"bulk or list mail (Precedence: {precedence or 'list'})",), human=False)

    if not content:
        return Classification(Kind.OTHER, ("a human message (content not read)",))
    return _scheduling_or_other(message, subject)


_REPLY_PREFIX = re.compile(r"^\s*(?:(?:re|fw|fwd|aw|wg|tr|sv|rv|odp|r)\s*:\s*)+")
_SENTENCE_END = re.compile(r"[.!?]+(?=\s|$)|\n\s*\n|\n(?=\s*[-*•\d])")


def _split_quote(text: str) -> tuple[str, str]:
    """(the author's own text, the quoted history) of a lower-cased body."""
    own = own_text(text)
    if len(own) >= len(text):
        return own, ""
    head = text[: len(own)] if text.startswith(own) else ""
    return own, text[len(head) :]


def _sentences(text: str) -> list[tuple[int, int]]:
    spans, start = [], 0
    for match in _SENTENCE_END.finditer(text):
        if text[start : match.end()].strip(" \t\r\n.!?"):
            spans.append((start, match.end()))
            start = match.end()
    spans.append((start, len(text)))
    return spans


def _find_scheduling(text: str, subject_meeting: bool) -> tuple[str, ...]:
    """Reasons why ``text`` proposes, asks for, confirms or accepts a time to meet, or ()."""
    lets = _LETS_MEET.search(text)
    if lets and not _PAST.search(text[max(0, lets.start() - 60) : lets.end() + 60]):
        return (f"proposes to meet ({lets.group(0).strip()!r})",)
    times = list(_TIME.finditer(text))
    brief = len(text.split()) < 40
    for proposal in _PROPOSE_TIME.finditer(text) if brief or subject_meeting else ():
        time_after = next((t for t in times if 0 <= t.start() - proposal.end() <= 40), None)
        if time_after is None:
            continue
        if not _DEADLINE_BEFORE.search(text[max(0, time_after.start() - 30) : time_after.start()]):
            return (
                f"proposes a time ({proposal.group(0).strip()!r})",
                f"names a time ({time_after.group(0).strip()!r})",
            )
    meetings = [(m.start(), m.end(), m.group(0)) for m in _MEETING.finditer(text)]
    if not meetings and not subject_meeting:
        return ()
    if times:
        spans = _sentences(text)
        starts = [a for a, _ in spans]
        acts = [(m.start(), m.group(0)) for m in _ACT.finditer(text)]
        past = [m.start() for m in _PAST.finditer(text)]
        for match in times:
            before = text[max(0, match.start() - 30) : match.start()]
            if _DEADLINE_BEFORE.search(before):
                continue  # "by Friday": a deadline, not a time to meet
            index = bisect_right(starts, match.start()) - 1
            a, b = spans[index]
            if any(a <= p < b for p in past):
                continue  # a report of a past meeting, a thank-you
            if _WEAK_PAST.search(text, a, b) and not _FUTURE_OR_ASK.search(text, a, b):
                continue  # "the review was on Monday"
            if _OPENING_HOURS.search(text, a, b):
                continue  # a service's opening hours, not a time to meet
            lo, hi = spans[max(0, index - 1)][0], spans[min(len(spans) - 1, index + 1)][1]
            near = [w for x, y, w in meetings if lo <= x < hi]
            in_sentence = [w for x, y, w in meetings if a <= x < b]
            if not near and not subject_meeting:
                continue
            act = next((w for x, w in acts if a <= x < b), None)
            if act is None:  # "Acme can do Tuesday at 10am. Which suits you best?"
                act = next((w for x, w in acts if lo <= x < hi and w.strip() not in ("?", "let me know")), None)
            named = f"names a time ({match.group(0).strip()!r})"
            what = f"a meeting act ({(near or ['(in the subject)'])[0].strip()!r})"
            if act is not None:
                return (what, f"proposes, asks, confirms or accepts ({act.strip()!r})", named)
            if _STRONG_TIME.match(text, match.start()) and (in_sentence or subject_meeting):
                return (what, f"gives a time of day ({match.group(0).strip()!r})")
    held = _HELD.search(text)
    if held and not _PAST.search(held.group(0)):
        return (f"confirms a meeting ({held.group(0)[:60].strip()!r})",)
    ask = _AVAILABILITY_ASK.search(text)
    if ask:
        a = text.rfind(".", 0, ask.start()) + 1
        if not _PAST.search(text[a : ask.end() + 40]):
            return (f"asks for a time to meet ({ask.group(0).strip()!r})",)
    return ()


def _scheduling_or_other(message: MailMessage, lowered_subject: str) -> Classification:
    full = message.text[:3000].lower().replace("\r\n", "\n")
    own, quoted = _split_quote(full)
    subject = _REPLY_PREFIX.sub("", lowered_subject)
    forwarded = bool(_FORWARD.match(lowered_subject))
    bare = len(own.strip()) < 3 or (forwarded and len(own.strip()) < 20)
    text = full if bare else own  # a bare forward: judge what was forwarded
    if _BROADCAST_SENDER.match(message.from_addr) or (
        ("unsubscribe" in full or "browser" in full or "manage" in full or "abonn" in full or "abmelden" in full)
        and _NOT_SCHEDULING.search(full)
    ):
        return Classification(Kind.OTHER, ("a newsletter, announcement or bulk mail",), human=False)
    subject_meeting = bool(subject) and bool(_MEETING.search(subject))
    reasons = _find_scheduling(text, subject_meeting)
    if not reasons and subject_meeting and not lowered_subject.startswith(("re:", "aw:", "sv:", "odp:")):
        subject_clock = _TIME.search(subject)
        if subject_clock and not _PAST.search(subject):
            reasons = (f"the subject names a meeting and a time ({subject_clock.group(0)!r})",)
    if reasons:
        return Classification(Kind.SCHEDULING, reasons)
    stripped = own.strip()
    if quoted and len(stripped.split()) <= 30 and _ACCEPT.search(stripped):
        answered = _find_scheduling(own_text(quoted.lstrip("> \n")) or quoted, subject_meeting)
        if answered or (subject_meeting and (_TIME.search(subject) or "invit" in subject)):
            return Classification(Kind.SCHEDULING, ("accepts the time proposed in the email it answers",))
    if subject_meeting or _MEETING.search(text):
        return Classification(Kind.OTHER, ("mentions a meeting but proposes, asks for or confirms no time",))
    return Classification(Kind.OTHER, ("no meeting or call mentioned",))


# --- out-of-office return dates -------------------------------------------------------------
#
# The return date an out-of-office states, in English, French, German, Spanish, Dutch, Italian,
# Portuguese or Polish. A "back on" date wins over an "until" date. A numeric date that reads two
# ways (7/12) is taken the way that lands soonest after the message: an absence lasts days or
# weeks, not months. A date more than 30 business days after the message is no date at all (the
# engine then pauses for its default), and so is one that lies ahead only because its year rolled
# over (an old out-of-office left switched on).

MAX_RETURN_BUSINESS_DAYS = 30

_MONTH_NAMES: dict[str, int] = {}
for _number, _names in enumerate(
    (
        "january jan janvier januar enero januari gennaio janeiro stycznia styczeń styczen",
        "february feb février fevrier februar febrero februari febbraio fevereiro lutego luty",
        "march mar mars märz maerz marzo maart março marco marca marzec",
        "april apr avril abril aprile kwietnia kwiecień kwiecien",
        "may mai mayo mei maggio maio maja maj",
        "june jun juin juni junio giugno junho czerwca czerwiec",
        "july jul juillet juli julio luglio julho lipca lipiec",
        "august aug août aout agosto augustus sierpnia sierpień sierpien",
        "september sep sept septembre septiembre settembre setembro września wrzesnia wrzesień",
        "october oct octobre oktober octubre ottobre outubro października pazdziernika październik",
        "november nov novembre noviembre novembro listopada listopad",
        "december dec décembre decembre dezember diciembre dicembre dezembro grudnia grudzień grudzien",
    ),
    start=1,
):
    for _name in _names.split():
        _MONTH_NAMES[_name] = _number
_WEEKDAY_NAMES: dict[str, int] = {}
for _number, _names in enumerate(
    (
        "monday mon lundi montag lunes maandag lunedì lunedi segunda poniedziałek poniedzialek",
        "tuesday tue tues mardi dienstag martes dinsdag martedì martedi terça terca wtorek wtorku",
        "wednesday wed mercredi mittwoch miércoles miercoles woensdag mercoledì mercoledi quarta środa środę sroda",
        "thursday thu thur thurs jeudi donnerstag jueves donderdag giovedì giovedi quinta czwartek czwartku",
        "friday fri vendredi freitag viernes vrijdag venerdì venerdi sexta piątek piatek piątku",
        "saturday sat samedi samstag sábado sabado zaterdag sabato sobota sobotę",
        "sunday sun dimanche sonntag domingo zondag domenica niedziela niedzielę",
    )
):
    for _name in _names.split():
        _WEEKDAY_NAMES[_name] = _number
_MONTH_WORD = "|".join(sorted(map(re.escape, _MONTH_NAMES), key=len, reverse=True))
_WEEKDAY_WORD_ANY = "|".join(sorted(map(re.escape, _WEEKDAY_NAMES), key=len, reverse=True))
_NEXT_WEEK = (
    r"next week|la semaine prochaine|nächste[rn]? woche|naechste woche|la (?:semana que viene|próxima semana)"
    r"|la proxima semana|volgende week|la prossima settimana|la settimana prossima|na próxima semana"
    r"|na proxima semana|w przyszłym tygodniu|w przyszlym tygodniu|early next week|after the weekend"
)
_DATE_EXPR = re.compile(
    r"(?P<iso>\b\d{4}-\d{1,2}-\d{1,2}\b)"
    r"|(?P<num>\b\d{1,2}[/.]\d{1,2}(?:[/.]\d{2,4})?\b)(?!\s*(?:am|pm|h\b|uhr|hrs))"
    r"|(?P<dm>\b\d{1,2})(?:st|nd|rd|th|er|e|º|\.)?\s*(?:de\s+|of\s+|th of\s+)?(?P<dm_month>" + _MONTH_WORD + r")\.?\b"
    r"(?:,?\s*(?:de\s+)?(?P<dm_year>\d{4}))?"
    r"|(?P<md_month>\b(?:" + _MONTH_WORD + r"))\.?\s+(?P<md>\d{1,2})(?:st|nd|rd|th)?\b(?:,?\s*(?P<md_year>\d{4}))?"
    r"|(?:\bthe|\ble|\bam|\bel|\bil|\bo|\bdia|\bdnia|\bop|\bden)\s+(?P<day>\d{1,2})(?:st|nd|rd|th|er|e|\.)?(?![\d/.:])"
    r"|(?P<next_week>\b(?:" + _NEXT_WEEK + r"))\b"
    r"|(?P<tomorrow>\b(?:tomorrow|demain|morgen|mañana|manana|domani|amanhã|amanha|jutro))\b"
    r"|(?P<weekday>\b(?:" + _WEEKDAY_WORD_ANY + r"))(?:-feira)?\b",
    re.I,
)
_BACK_CUE = re.compile(
    r"back|return(?:ing|s)?|in the office|reachable|available again|\bab\s*$|zurück|wieder|retour|rentre"
    r"|regreso|regresaré|volver[éa]|vuelvo|de vuelta|terug|weer|rientr|ritorn|di nuovo|regress|volto"
    r"|de volta|wracam|powr[óo]t|będę dostępn|bede dostepn",
    re.I,
)
_BACK_AFTER = re.compile(
    r"\b(?:wieder|weer|back|zurück|di nuovo|de volta|de retour|erreichbar|bereikbaar|joignable|disponible"
    r"|dostępn|reachable|available)\b",
    re.I,
)
_UNTIL_CUE = re.compile(
    r"until|till|\btil\b|through|bis|jusqu|hasta|\btot\b|t/m|fino al|fino a|\baté\b|\bate\b|\bdo\s*$|\bto\s*$",
    re.I,
)


def read_return_date(text: str, sent: datetime) -> date | None:
    """The return date an out-of-office states ("back on Monday 7 December"), or None."""
    base = sent.replace(tzinfo=None).date()
    found: list[tuple[int, date]] = []
    text = text[:1500]
    matches = list(_DATE_EXPR.finditer(text))
    start = -1
    for index, match in enumerate(matches):
        if match.group("weekday") and index + 1 < len(matches):
            following = matches[index + 1]
            if following.start() - match.end() <= 12 and not following.group("weekday"):
                start = match.start()
                continue  # "Monday, the 7th of December": the date that follows says it
        start = match.start() if start < 0 else start
        before = text[max(0, start - 60) : start]
        start = -1
        after = text[match.end() : match.end() + 40].split(".")[0]
        if _BACK_CUE.search(before):
            rank = 0
        elif _BACK_AFTER.search(after):
            rank = 1  # "ab Montag, dem 7. Dezember bin ich wieder erreichbar"
        elif _UNTIL_CUE.search(before):
            rank = 2
        else:
            continue
        result = _read_date(match, base)
        if result is not None:
            found.append((rank, result))
    if not found:
        return None
    return min(found, key=lambda item: item[0])[1]


def _business_days(start: date, end: date) -> int:
    days, day = 0, start
    while day < end and days <= MAX_RETURN_BUSINESS_DAYS:
        day += timedelta(days=1)
        days += day.weekday() < 5
    return days


def _plausible(result: date, base: date, year_given: bool) -> bool:
    if result < base - timedelta(days=1):
        return False
    if not year_given and result.year > base.year:
        # Ahead only because the year rolled over: an old out-of-office left switched on.
        try:
            if timedelta(0) < base - result.replace(year=base.year) <= timedelta(days=60):
                return False
        except ValueError:  # 29 February
            pass
    return _business_days(base, result) <= MAX_RETURN_BUSINESS_DAYS


def _on(year: int | None, month: int, day: int, base: date) -> date | None:
    """The date, in the stated year or else the next occurrence on or after the message."""
    try:
        result = date(year or base.year, month, day)
    except ValueError:
        return None
    if year is None and result < base - timedelta(days=1):
        try:
            result = result.replace(year=result.year + 1)
        except ValueError:
            return None
    return result


def _read_date(match: re.Match[str], base: date) -> date | None:
    from dateutil.relativedelta import MO, relativedelta, weekday

    group = match.groupdict()
    candidates: list[tuple[date | None, bool]] = []
    if group["iso"]:
        y, m, d = (int(x) for x in group["iso"].split("-"))
        candidates.append((_on(y, m, d, base), True))
    elif group["num"]:
        parts = [int(x) for x in re.split(r"[/.]", group["num"])]
        year = parts[2] if len(parts) == 3 else None
        if year is not None and year < 100:
            year += 2000
        a, b = parts[0], parts[1]
        # Both readings (day first, month first); the one that lands soonest wins.
        candidates += [(_on(year, b, a, base), year is not None), (_on(year, a, b, base), year is not None)]
    elif group["dm"]:
        year = int(group["dm_year"]) if group["dm_year"] else None
        month = _MONTH_NAMES[group["dm_month"].lower()]
        candidates.append((_on(year, month, int(group["dm"]), base), year is not None))
    elif group["md"]:
        year = int(group["md_year"]) if group["md_year"] else None
        month = _MONTH_NAMES[group["md_month"].lower()]
        candidates.append((_on(year, month, int(group["md"]), base), year is not None))
    elif group["day"]:
        day = int(group["day"])
        if 1 <= day <= 31:  # "returning on the 14th": the next 14th
            for months in range(0, 3):
                try:
                    result = base + relativedelta(months=months, day=day)
                except ValueError:
                    continue
                if result.day == day and result >= base:
                    candidates.append((result, False))
                    break
    elif group["next_week"]:
        candidates.append((base + relativedelta(days=1, weekday=MO(+1)), False))
    elif group["tomorrow"]:
        candidates.append((base + timedelta(days=1), False))
    elif group["weekday"]:
        index = _WEEKDAY_NAMES.get(group["weekday"].lower())
        if index is not None:
            candidates.append((base + relativedelta(days=1, weekday=weekday(index)(+1)), False))
    valid = [d for d, year_given in candidates if d is not None and _plausible(d, base, year_given)]
    return min(valid) if valid else None
