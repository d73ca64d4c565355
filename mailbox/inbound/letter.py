"""What a mail body is made of besides the customer's own words: the patterns ``question`` uses.

Quoted history (attribution lines, Outlook header blocks, separators), mobile footers, legal
disclaimers, greetings, closings and signature lines, in Italian and English. Pure data and
small predicates; the steps that use them are in ``mailbox.inbound.question``.
"""

from __future__ import annotations

import re

from assistant.faq.lexicon import words

# --- quoted history ------------------------------------------------------------------------

# "Il giorno lun 2 feb 2026 alle ore 09:15 X <x@y> ha scritto:" (Gmail wraps it over two
# lines), "Il 28/01/2026 09:12, X ha scritto:", "On Tue, 13 Jan 2026 at 10:15, X wrote:".
ATTRIBUTION_START = re.compile(r"^(il giorno|il|in data|on|am|le|el|op)\b", re.IGNORECASE)
ATTRIBUTION_END = re.compile(
    r"(ha scritto|hanno scritto|scrive|wrote|writes|schrieb|a écrit|escribió)\s*:\s*$",
    re.IGNORECASE,
)
ATTRIBUTION_LINES = 3  # an attribution wrapped over at most this many lines
SEPARATOR = re.compile(
    r"^[-_=*\s]*(messaggio originale|original message|messaggio inoltrato|forwarded message"
    r"|inizio messaggio inoltrato|begin forwarded message|e-?mail originale|mail originale"
    r"|risposta originale)[-_=*\s:]*$",
    re.IGNORECASE,
)
RULE = re.compile(r"^\s*_{8,}\s*$")  # Outlook's line above the quoted header
# Outlook's quoted header: "Da: ... / Inviato: ... / A: ... / Oggetto: ..." ("*Da:*" in plain
# text made from bold HTML, "Da :" in Libero), a "Da:"/"From:" line and another field after it.
HEADER_FROM = re.compile(r"^[*\s]*(da|from|von|de)\s?:[*\s]*\S", re.IGNORECASE)
HEADER_FIELD = re.compile(
    r"^[*\s]*(inviato|sent|data|date|a|to|cc|oggetto|subject|ogg|gesendet|betreff|an)\s?:",
    re.IGNORECASE,
)
HEADER_SPAN = 5  # the other field follows within this many lines

# --- footers, disclaimers, signatures ------------------------------------------------------

MOBILE_FOOTER = re.compile(
    r"^(inviato|inviata|spedito)\s+(da|dal|dalla|con)\s.{1,60}"
    r"|^sent\s+(from|with|via)\s.{1,60}"
    r"|^(get|scarica|ottieni|download)\s+outlook\s+(for|per)\s.{1,80}",
    re.IGNORECASE,
)
DISCLAIMER_START = re.compile(
    r"^(le informazioni contenute|l'informazione contenuta|questo messaggio|questa e-?mail"
    r"|questa comunicazione|il presente messaggio|la presente (e-?mail|comunicazione)"
    r"|il contenuto (di|del)|ai sensi d|avvertenz\w* ai sensi|informativa|riservatezza"
    r"|clausola di riservatezza|nota di riservatezza|avviso di riservatezza|confidenzial"
    r"|prima di stampare|rispetta l'ambiente|pensa all'ambiente|proteggi l'ambiente"
    r"|this (e-?mail|message|communication)|the (information|content) (contained|in this)"
    r"|confidentiality|disclaimer|caution:|important( notice)?:|notice:|privileged"
    r"|please consider the environment|think before you print|if you (have )?received this"
    r"|attenzione:|avviso:)",
    re.IGNORECASE,
)
DISCLAIMER_MARK = re.compile(
    r"riservat|confidenzial|destinatar|per errore|d\.\s?lgs|2016/679|gdpr|196/2003|privacy"
    r"|stampa|ambiente|divulga|vietat|confidential|privileged|intended|in error|environment"
    r"|print|unauthori[sz]ed|prohibited|addressee|recipient|originated from outside"
    r"|mittente esterno|external sender",
    re.IGNORECASE,
)
DISCLAIMER_SPAN = 8  # lines of one plain-text paragraph read to find its mark
SIGNATURE_RULE = re.compile(r"^\s*(--|__|-- )\s*$")
SIGNATURE_LINE = re.compile(  # of lower-case text
    r"\b(tel|telefono|cell|cellulare|mob|mobile|fax|phone|ph|t|m)\b\.?\s*[:.]?\s*\+?\d"
    r"|\+\d{2}[\s\d]{6,}|\b\d{2,4}[ .-]?\d{3,4}[ .-]?\d{3,5}\b"
    r"|\b(p\.?\s?iva|partita iva|c\.?\s?f\.|cod(ice)?\.? fisc\w*|vat( no| number)?|rea"
    r"|cap\.? soc\w*|reg\.? imprese)\b"
    r"|^(via|viale|v\.le|corso|c\.so|piazza|p\.zza|piazzale|strada|largo|vicolo|località|loc\.)\s"
    r"|\b\d{5}\s+[a-zà-ü]"
    r"|\b(s\.?r\.?l\.?s?|s\.p\.a\.?|spa|s\.n\.c\.?|snc|s\.a\.s\.?|sas|s\.s\.|ltd|gmbh|inc|llc"
    r"|coop)(\s|$|\W)"
    r"|www\.|https?://|\S@\S"
    r"|^(dott|dott\.ssa|dr|rag|avv|geom|ing|arch|sig|sig\.ra|prof)\.?\s"
    r"|\b(amministrazione|ufficio|responsabile|direttore|director|manager|titolare"
    r"|legale rappresentante|amministratore|controller|consulente|studio|finance|accounts"
    r"|dottori commercialisti|revisori)\b"
)
SIGNATURE_CHARS = 90  # a signature line is shorter than this

# --- greetings and closings ----------------------------------------------------------------

GREETING = re.compile(
    r"^(buon\s?giorno|buona\s?sera|buon\s?pomeriggio|salve|ciao|hello|hi|hey|greetings"
    r"|good (morning|afternoon|evening)|gentil\w*|egregi\w*|spett\w*\.?\w*|alla c\.?a\.?"
    r"|alla cortese attenzione|dear|to whom it may concern)\b",
    re.IGNORECASE,
)
GREETING_LINE_WORDS = 10  # a whole line that opens with a greeting and is this short
GREETING_WORD = re.compile(
    r"^(buon\s?giorno|buona\s?sera|buon\s?pomeriggio|salve|ciao|hello|hi|hey"
    r"|good (morning|afternoon|evening))\b[\s,;:.!]*",
    re.IGNORECASE,
)
CLOSING = re.compile(
    r"cordiali saluti|distinti saluti|cordialmente|cordialità|saluti cordiali|saluti"
    r"|un (cordiale )?saluto|buona (giornata|serata|domenica|settimana|continuazione)"
    r"|buon (lavoro|pomeriggio|proseguimento|fine settimana|weekend)"
    r"|grazie|ringrazi\w*|porg\w*|invio|nell'attesa|in attesa|resto|rimango|restiamo|rimaniamo"
    r"|a (vostra|sua|completa) disposizione|a disposizione|a presto"
    r"|best regards|kind regards|warm regards|best wishes|regards|many thanks|thanks|thank you"
    r"|cheers|sincerely|yours faithfully|yours sincerely|yours truly|best|looking forward"
    r"|have a (nice|good|great) (day|weekend)|all the best|with thanks",
    re.IGNORECASE,
)
CLOSING_FILLERS = words(
    """
    e ed a ad per la il lo le l i di d del della dello dei delle un una uno in con da anticipo
    anticipatamente fin d ora ancora mille tante infinite cuore davvero molto tanto vostra vostro
    vostri vostre sua suo cortese gentile gentilissimi celere pronta attenzione disponibilita
    collaborazione risposta riscontro cortesia aiuto pazienza tempo notizie chiarimento
    chiarimenti eventuali ogni qualsiasi informazione informazioni necessita porgo porgiamo
    distinti cordiali saluti tutti voi lei ti vi la mi ci
    and for your you the in advance again very much all of to a help time assistance support
    attention reply hearing from soon it hear
    """
)
CLOSING_NAME_WORDS = 7  # a closing may be followed on its line by a name this long
CLOSING_CHARS = 200  # a closing is shorter than this


CLOSING_HINTS = (  # a closing holds one of these (a cheap test before the pattern)
    "salut", "grazie", "ringrazi", "cordial", "distint", "buon", "attesa", "disposizione",
    "porg", "presto", "regard", "thank", "best", "cheers", "sincerely", "yours", "looking",
    "have a", "wishes",
)  # fmt: skip


def is_closing(sentence: str) -> bool:
    """A sentence made of thanks, regards and fillers, perhaps followed by a name."""
    lowered = sentence.lower()
    if len(sentence) > CLOSING_CHARS or not any(hint in lowered for hint in CLOSING_HINTS):
        return False
    rest = CLOSING.sub(" ", sentence)
    if rest == sentence:
        return False
    words = re.findall(r"[\w']+", rest)
    content = [w for w in words if plain(w).strip() not in CLOSING_FILLERS]
    if not content:
        return True
    return len(content) <= CLOSING_NAME_WORDS and all(w[:1].isupper() for w in content)


_PLAIN = str.maketrans({**dict(zip("àáèéìíòóùú", "aaeeiioouu", strict=True)), "'": " ", "’": " "})


def plain(text: str) -> str:
    """Lower case, Italian accents dropped, apostrophes made spaces: how the word lists here
    and in ``asks`` are written (a cheap cousin of the FAQ analyser's ``fold``)."""
    return text.lower().translate(_PLAIN)


__all__ = [
    "ATTRIBUTION_END",
    "ATTRIBUTION_LINES",
    "ATTRIBUTION_START",
    "DISCLAIMER_MARK",
    "DISCLAIMER_SPAN",
    "DISCLAIMER_START",
    "GREETING",
    "GREETING_LINE_WORDS",
    "GREETING_WORD",
    "HEADER_FIELD",
    "HEADER_FROM",
    "HEADER_SPAN",
    "MOBILE_FOOTER",
    "RULE",
    "SEPARATOR",
    "SIGNATURE_CHARS",
    "SIGNATURE_LINE",
    "SIGNATURE_RULE",
    "is_closing",
    "plain",
]
