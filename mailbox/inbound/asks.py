"""Which sentences of a letter ask something, the core of what they ask, and the topics that
only a person handles: the word patterns ``mailbox.inbound.question`` reads sentences with.

The FAQ matcher knows short questions ("come cambio l'indirizzo e-mail?"); customers write
"Vorremmo quindi sapere come modificare l'indirizzo e-mail registrato nell'Area Clienti, in
modo che le notifiche arrivino al nostro nuovo indirizzo." ``core`` keeps the clauses that ask
and drops the rest: the request's preamble ("vorremmo sapere", "could you please tell me"),
reason and purpose clauses (", perché ...", ", in modo che ...", ", because ..."), clauses
that ask nothing. What it drops is never lost: the question keeps the whole sentence beside
its core, and both are judged; where one sentence asks several things (``clauses``), each is
judged on its own too.

The word patterns read lower-case text (a third of the time of case-blind ones); ``leans_back``,
``core_clauses`` and ``clauses`` are memoized, because a request's parts read them again.
"""

from __future__ import annotations

import re
from functools import lru_cache

from assistant.faq.lexicon import QUESTION_WORDS, STOPWORDS_EN, STOPWORDS_IT, words
from assistant.policy import FIRST_INVOICE_YEAR
from mailbox.inbound.letter import plain

ASK = re.compile(
    r"\?|\b(vorrei|vorremmo|volevo|volevamo|desider\w+|chiedo|chiediamo|chiedere|chiedervi"
    r"|chiedevo|richied\w*|(vi |le )?domando|domandarvi|una domanda|alcune domande|gradire\w*"
    r"|sapere|capire|non ho capito|non abbiamo capito|non capisco|potete|potreste|può|potrebbe"
    r"|puoi|potresti|possiamo|posso|si possono|è possibile|e' possibile|sarebbe possibile"
    r"|si può|come (si fa|faccio|fare|posso|devo|dobbiamo|possiamo)|dove (trovo|si trova|posso)"
    r"|vi prego|vi preghiamo|prego di|gentilmente|cortesemente|per favore|per cortesia"
    r"|inviatemi|mandatemi|fatemi sapere|indicarmi|indicarci|spiegarmi|spiegarci|aiutarmi"
    r"|aiutarci|ho bisogno|abbiamo bisogno|esiste|c'è|ci sono"
    r"|would like|i'd like|we'd like|could you|can you|would you|please|kindly|how (can|do"
    r"|should|to)|where (can|do|is)|is it possible|is there|are there|(i|we) need (to|help"
    r"|your)|let me know|let us know|tell me|tell us|advise|confirm|wonder|want to)\b"
)
PROBLEM = re.compile(
    r"\b(non riesc\w+|non ho (ancora |più )?ricevut\w+|non abbiamo (ancora )?ricevut\w+"
    r"|non (mi |ci )?(è|e') (ancora |mai )*arrivat\w+|non (mi |ci )?(sono )?arriv\w+"
    r"|non ricev\w+|non funzion\w+|non ricordo|non trovo|non vedo|non compar\w+|non si apr\w+"
    r"|bloccat\w+|scadut\w+|errore|sbagliat\w+|smarrit\w+|dimenticat\w+|perso"
    r"|never (arrived|received|came)|did ?n[o']t (receive|get|arrive)|have ?n[o']t"
    r"|can'?t|cannot|unable|not able|locked|forgot|forgotten|lost|does ?n[o']t work)\b"
)
# Words that name no topic: an ask made of them and at most one other word leans on the
# sentence before it ("Cosa devo fare?", "Potete verificare?", "what should I do to get access?").
VAGUE = (
    STOPWORDS_IT
    | STOPWORDS_EN
    | QUESTION_WORDS
    | words(
        """
        possibile fatto procedere risolvere aiutare aiutarmi aiutarci aiuto controllare
        verificare sapere capire dire indicare spiegare rispondere risposta grazie cortesemente
        chiarire chiarirci chiarirmi chiarimento punto aspetto dubbio domanda questione
        informazione informazioni indicazioni riscontro conferma confermare cortese gentile
        gentilmente potete potreste puo potrebbe dovrei dobbiamo devo dovete fa farlo farla
        farli fare cosa help check tell know let advise should could what something anything
        thing problema problem modo way grazie thanks please dirmi dirci richiesta richieste
        request question questions info urgente
        """
    )
)
WEAK_WORDS = 1  # an ask naming at most this many words outside VAGUE leans back
THANKS = re.compile(
    r"^(grazie|vi ringrazio|la ringrazio|ti ringrazio|ringrazio|thanks|thank you|many thanks)\b"
)
POINTS_BACK = re.compile(  # "farlo", "rifarla", "aggiornarlo", "riceverle", "questo punto"
    r"\b(farlo|farla|farli|farle|farne|averlo|averla|averle|averli|ciò)\b"
    r"|questo (punto|aspetto)|questa (cosa|questione)|this (point|matter)"
    r"|\b\w{3,}(ar|er|ir)(lo|la|li|le|ne)\b"
)

# --- the core of a request ------------------------------------------------------------------

_SEGMENTS = re.compile(r"\s*[:;]\s+|(?<=[.?!])\s+")  # introductions, sentences
_CLAUSES = re.compile(r",\s+|\s+(?=(?:ma|però|but)\s)", re.IGNORECASE)
_AREA = re.compile(  # every mail is about the customer area: naming it tells no topic
    r"\s*\b((in|nel|dal|sul|al|del)l['’]\s?|in |on |from |to )(the )?(area clienti|area riservata"
    r"|customer area)\b",
    re.IGNORECASE,
)
_ALTERNATIVE = re.compile(r"\s+(?:oppure|or)\s+", re.IGNORECASE)
_ADDRESS = re.compile(r"\S+@\S+|https?://\S+|www\.\S+")
_PREAMBLE = re.compile(
    r"^((e|ed|ma|inoltre|quindi|pertanto|anche|allora|and|but|also|so)\s+)*("
    r"([\w'’]+\s+){0,5}?(io |noi )?(vorrei|vorremmo|volevo|volevamo|desidero|desideriamo"
    r"|desideravo|gradirei|gradiremmo)( pertanto| quindi| anche)? (sapere|capire|chiedere"
    r"|chiedervi|domandare|domandarvi|conoscere|avere conferma)( se)?"
    r"|(io |noi )?(vorrei|vorremmo|volevo|volevamo|desidero|desideriamo)( pertanto| quindi"
    r"| anche)?(?= \w+(are|ere|ire)\b)"
    r"|(mi |ci )?(potete|potreste|può|potrebbe|potresti|puoi|sapete|sapreste) (dirmi|dirci"
    r"|indicarmi|indicarci|spiegarmi|spiegarci|confermarmi|confermarci|chiarirmi|chiarirci"
    r"|farmi sapere|farci sapere|informarmi|informarci)( se)?"
    r"|(vi )?(chiedo|chiediamo|domando) (cortesemente |gentilmente )?(se|di sapere( se)?)"
    r"|approfitto per chiedere\w*( una cosa)?|premetto che|non (ho|abbiamo) capito( bene)?( se)?"
    r"|non capisco( bene)?( se)?"
    r"|(i|we) (would like|'d like|want|wanted|wish) to (know|ask|understand|check)( if"
    r"| whether)?|(could|can|would) you (please |kindly )?(tell|let|advise|confirm|clarify"
    r"|explain|inform|help)( me| us)?( know| understand)?( if| whether| on)?"
    r"|please (tell|let|advise|confirm)( me| us)?( know)?( if| whether)?"
    r"|(i|we) (am|are|was|were) wondering( if| whether)?|kindly (tell|advise|confirm)( me"
    r"| us)?( if| whether)?)\b[\s:,]*",
    re.IGNORECASE,
)
_QUESTION_START = re.compile(  # "..., e quando ...", "..., and when is ..."
    r"^((e|ed|o|oppure|and|or)\s+)?(quando|come|dove|quale|quali|quanto|quanti|perché|chi|cosa"
    r"|che cosa|when|what|how|where|which|who|why)\b"
)
_REASON = re.compile(
    r"^(perché|perchè|poiché|in quanto|visto che|dato che|siccome|dal momento che|in modo che"
    r"|così che|affinché|because|since|as|so that|in order to|given that)\b"
)


def is_ask(sentence: str) -> bool:
    """Whether the sentence asks something ("?", "vorrei sapere", "could you", ...)."""
    return ASK.search(sentence.lower()) is not None


def is_problem(sentence: str) -> bool:
    """Whether the sentence tells of a problem ("non ho ricevuto", "never arrived", ...)."""
    return PROBLEM.search(sentence.lower()) is not None


def thanks(sentence: str) -> bool:
    """Whether the sentence opens with thanks ("Grazie per l'avviso, ...")."""
    return THANKS.match(sentence.lower()) is not None


@lru_cache(maxsize=1024)
def leans_back(sentence: str) -> bool:
    """An ask too vague to stand alone, or pointing back to the sentence before it."""
    content = [w for w in re.findall(r"[a-z]+", plain(sentence)) if w not in VAGUE]
    return len(content) <= WEAK_WORDS or POINTS_BACK.search(sentence.lower()) is not None


def core(request: str) -> str:
    """The clauses of ``request`` that ask or tell a problem, without their preamble and
    without addresses; the request itself when nothing is left."""
    found = " ".join(core_clauses(request))
    return found or request


def _asking(clause: str) -> bool:
    """A clause that asks by its own words (its "?" may belong to the whole sentence), opens
    like a question, or tells a problem."""
    lowered = clause.strip().lower()
    return bool(
        ASK.search(lowered.replace("?", ""))
        or _QUESTION_START.match(lowered)
        or PROBLEM.search(lowered)
    )


@lru_cache(maxsize=256)  # a request's parts, clauses and core all read its clauses
def core_clauses(request: str) -> tuple[str, ...]:
    """The clauses of ``request`` that ask or tell a problem, each without its preamble. A
    question with no asking word in it ("troveremo anche le fatture del 2024?") is one clause."""
    kept: list[str] = []
    for segment in _SEGMENTS.split(request):
        clauses = [c for c in _CLAUSES.split(segment) if c.strip() and not _REASON.match(c.lower())]
        asking = [c for c in clauses if _asking(c)]
        if not asking and segment.rstrip().endswith("?"):
            asking = [", ".join(clauses)]
        for clause in asking:
            bare = _ADDRESS.sub("", _PREAMBLE.sub("", clause.strip())).strip(" ,:;")
            if bare:
                kept.append(" ".join(bare.split()))
    return tuple(kept)


@lru_cache(maxsize=256)
def clauses(request: str) -> tuple[str, ...]:
    """The clauses of ``request`` that ask (or tell a problem) and stand alone, where it has
    several: each is its own ask, and must lean to the same answer as the rest."""
    found = [c for c in core_clauses(request) if not leans_back(c)]
    return tuple(dict.fromkeys(found)) if len(found) > 1 else ()


def parts(request: str, head: str) -> tuple[str, ...]:
    """More of one request the matcher judges beside it: its core, the first half of an asking
    clause offering an alternative ("... le note di credito oppure soltanto le fatture?"), the
    core of its first sentence (``head``) where later sentences lean on it, and its core
    without "nell'area clienti" (every mail is about the customer area)."""
    whole = core(request)
    found = [whole]
    for clause in core_clauses(request):
        first = _ALTERNATIVE.split(clause, maxsplit=1)[0]
        if first != clause and is_ask(first):
            found.append(first)
    if head != request:
        found.append(core(head))
    bare = _AREA.sub("", whole)
    if bare != whole and not leans_back(bare):
        found.append(bare)
    own = {request, head, *clauses(request)}
    return tuple(p for p in dict.fromkeys(found) if p and p not in own)


# --- topics only a person handles -----------------------------------------------------------

_STAFF_TOPICS = (
    (
        "bank details",
        r"\biban\b|coordinate bancarie|conto (corrente )?di addebito|bank details"
        r"|bank account|direct debit|addebito diretto|\bsdd\b|\brid\b|mandato sepa",
    ),
    (
        "early payoff",
        r"riscatt\w+|estinzion\w+ anticipat\w+|estinguere|chiusura anticipata"
        r"|chiudere (il contratto|il leasing) in anticipo|early (payoff|termination|repayment)"
        r"|pay ?off|buy ?out|terminate the (lease|contract) early",
    ),
    (
        "insurance",
        r"\bsinistr[oi]\b|\bincident[ei]\b|\bfurt[oi]\b|\brubat\w+|assicurazion\w+"
        r"|assicurativ\w+|polizz\w+|insurance|accident|stolen|theft|\bclaim\b",
    ),
    (
        "dispute",
        r"contest(iamo|are|azione|ata|ato|ate)\b|\bcontesto (la|il|l')"
        r"|addebit\w+ (due volte|doppi\w*|in eccesso|non dovut\w+|errat\w+)|due volte"
        r"|doppio addebito|rimbors\w+|importo (errato|sbagliato|diverso)|dispute|overcharg\w+"
        r"|charged twice|refund|wrong amount",
    ),
    ("complaint", r"reclam\w+|complaint|arbitro bancario|\babf\b|diffida|mio assistito"),
    (
        "personal data",
        r"\bgdpr\b|2016/679|dati personali|trattamento dei (miei )?dati"
        r"|cancellazione dei (miei )?dati|diritto all'oblio|personal data|data subject|erasure",
    ),
    (
        "contract change",
        r"subentr\w+|cession\w+ del contratto|voltura|ragione sociale"
        r"|sede legale|registered office|disdett\w+|recess\w+|takeover",
    ),
    (
        "amounts due",
        r"debito residuo|rate residue|quante rate|rata non|insolut\w+|sollecit\w+"
        r"|\bmora\b|outstanding balance|late payment|how many instalments",
    ),
    (
        "invoice correction",
        r"partita iva (errata|sbagliata)|vat number|fattura corretta"
        r"|corrected invoice|correct the address",
    ),
    (
        "call back",
        r"chiamarmi|richiamarmi|telefonarmi|contattarmi telefonicamente|call me"
        r"|phone me",
    ),
)
_STAFF = [(name, re.compile(pattern)) for name, pattern in _STAFF_TOPICS]  # lower-case text
_YEAR = re.compile(r"\b(19[5-9]\d|20[0-2]\d)\b")


def staff_topic(text: str) -> str | None:
    """The first subject of ``text`` that only a person handles (IBAN, early payoff, insurance,
    a dispute, a complaint, personal data, a change of contract, amounts due, a correction, a
    call back, a document from before 2008), or None."""
    lowered = text.lower()
    for name, pattern in _STAFF:
        if pattern.search(lowered):
            return name
    for year in _YEAR.findall(text):
        if int(year) < FIRST_INVOICE_YEAR:
            return "documents before 2008"
    return None


__all__ = [
    "ASK",
    "PROBLEM",
    "clauses",
    "core",
    "core_clauses",
    "is_ask",
    "is_problem",
    "leans_back",
    "parts",
    "staff_topic",
    "thanks",
]
