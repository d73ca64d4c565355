"""The words a request is recognised by, Italian and English, folded as ``faq.analysis.fold`` does.

Month names come from Babel's CLDR data (``get_month_names`` for 'it' and 'en'), not from a list
of our own; everything else here is the parser's own vocabulary: what names a document, a
contract or a communication, what asks for one, and what marks a question about the service
(the FAQ's business) rather than about the customer's own data. Multi-word expressions the FAQ
lexicon already joins ("nota di credito" → ``notacredito``, "area clienti" → ``areaclienti``)
arrive here joined.
"""

from __future__ import annotations

from typing import Literal

from babel.dates import get_month_names

from assistant.faq import lexicon
from assistant.faq.analysis import fold


def words(text: str) -> frozenset[str]:
    """The whitespace-separated words of ``text``."""
    return frozenset(text.split())


def _months(width: Literal["abbreviated", "wide"]) -> dict[str, int]:
    """Folded month names of both languages → month number (CLDR, through Babel)."""
    names: dict[str, int] = {}
    for locale in ("it", "en"):
        for number, name in get_month_names(width, locale=locale).items():
            names[fold(name)] = int(number)
    return names


MONTHS = _months("wide")  # gennaio, january...
# "mar", "ago", "set", "may" are also words: a short name counts only before a year.
MONTHS_SHORT = {name: n for name, n in _months("abbreviated").items() if name not in MONTHS}

INVOICE = words("fattura fatture fatt ft fatturina invoice invoices bill bills")
CREDIT_NOTE = words("notacredito nc")
ANY_DOCUMENT = words("documento documenti doc docs document documents")
DOCUMENT = INVOICE | CREDIT_NOTE | ANY_DOCUMENT
# Plural document nouns: "le ultime fatture" is a list, not the newest one.
PLURAL_DOCUMENT = words("fatture documenti docs invoices bills documents")

CONTRACT = words("contratto contratti contract contracts leasing lease leases")
COMMUNICATION = words(
    """
    comunicazione comunicazioni messaggio messaggi avviso avvisi lettera lettere
    communication communications message messages notice notices letter letters
    """
)

# "l'ultima fattura", "the latest invoice"; plural forms ("le ultime") are a list.
LATEST = words("ultima ultimo latest last newest recente recent")
# "le ultime fatture": the newest few, a list (asks, but not for one document)
RECENT_ONES = words("ultime ultimi recenti")
UNREAD = words("unread nuove nuovi nuova nuovo new")
# "non lette", "da leggere": handled as pairs in parse.py
READ_WORDS = words("lette letti letta letto leggere")

# Asking for something: these make a bare "fatture" a request, and cancel a weak how-to word.
REQUEST_VERBS = words(
    """
    mandami mandatemi mandi mandare manda mandate inviami inviatemi invii inviare invia
    spediscimi spedisci dammi datemi mostrami mostra mostrare fammi fatemi vorrei voglio
    volevo serve servirebbe bisogno elenco elenca elencami lista scarica scaricami recuperami avere
    send show give need want list download have get
    """
)
POSSESSIVE = words("mia mie mio miei my mine")

# The whole year in one file.
WHOLE_YEAR = words(
    """
    tutte tutti tutto intero intera zip file commercialista contabile all every everything
    whole entire accountant bookkeeper
    """
)

# Words that make a line a question about how the service works (the FAQ's business):
# strong ones always, weak ones unless the line also asks for something (REQUEST_VERBS).
HOW_TO_STRONG = words(
    """
    come cm dove perche significa significato differenza funziona capisco riesco intende
    intendete diventa diventano considerato considerata comprende comprendono includono
    how where why mean means meaning difference understand considered becomes appear appears
    include includes
    """
)
HOW_TO_WEAK = words(
    """
    posso possibile puo possono vedere vedo vedi vede vedono trovare trovo trova consultare
    consultabili consultabile visualizzare visibili visibile anche pure solo ci trovano
    can could see view find check too also only visible shown there
    """
)
# A document question that starts with "quando" is about when they are published (FAQ).
WHEN = words("quando qnd qndo when")

# Topics of the FAQ and of other banking products: with one of these, a line naming no
# concrete document is not a request, and one naming a document is asked about (confident=False).
FAQ_TOPICS = words(
    """
    cartacea cartacee cartaceo cartaccee carta posta postale paper post mailed printed stampa
    stampare stampata valida valido validita vale valore fiscale fiscalmente fisco fini legale
    contabilita conservare conservata valid legally legal tax accepted notifica notifiche
    avvisate avvisa avvisato notified notify notification notifications email pec password
    codice username registrazione registrarsi registrandomi registro iscrizione iscritti register
    registering registration signup login accedere accesso areaclienti online portale sito app
    pubblicata pubblicate pubblicata pubblicate pubblicate pubblicazione pubblicate escono esce
    uscita caricate carica compare compaiono disponibile disponibili available published publish
    storico history sbagliata sbagliato errato errata wrong incorrect contestare contesto
    dispute intestata intestare iva vat twice volte detrarre deducibile deductible guasto broken
    errore error problema problem copia copy firmato signed riscatto riscattare buyout
    incidente accident preventivo quote assicurazione insurance polizza multa ticket furto
    vendere sell cedere subentro disdire disdetta rescindo estinguere anticipatamente early
    interessi interest tassi rates ricevo ricevere riceverò ricevero ricevuto arriva arrivano
    arrivata arrivato arrivi receive received arrive getting stop smetto riattivare riattivo
    tornare switch servono occorrono apply aprire richiedo immobiliare
    real estate costa costo cost fusa liberatoria residuo saldo balance outstanding mancano
    left addebitato addebito charged moratoria sospendere bollo someone else over significa
    cambiare cambio change modify aggiornare spedizione elencati elencate listed mean
    differenza tipo type estinzioneanticipata fineleasing use usare utilizzare
    iban bonifico sdd rid coordinate anticipo chiudere renew rinnovare rinnovo insoluta insoluto
    unpaid pagato pagata paid haven torna deducibilita modalita traffic speeding print
    downloaded archive archivio older vecchie vecchi
    """
)
# "ancora" ("ricevo ancora la fattura per posta?") marks a service question for documents,
# but "ho contratti ancora attivi?" asks for the customer's own contracts.
DOCUMENT_ONLY_TOPICS = words("ancora still nuova nuove new tempo")
CONTRACT_ONLY_TOPICS = words("ce sono anche pure solo only too also numero number nuovo new")

# Contracts: what the question asks.
FEE = words("canone canoni rata rate fee fees instalment installment instalments installments")
# "monthly payment", "lease payment", "my payment": the fee in English
FEE_QUALIFIERS = words("monthly lease leasing my mensile")
# Without a document word, these and a year still ask for the year's documents.
WHOLE_YEAR_STRONG = words("zip commercialista accountant bookkeeper everything")
HOW_MUCH = words("quanto quanta much")
PAY = words("pago paghiamo pagare pay payment payments")
STARTED = words(
    """
    iniziato iniziata inizia inizio iniziale cominciato cominciata partito partita
    decorrenza stipulato stipulata attivato attivata start started starts begin began begins
    beginning commenced
    """
)
ENDS = words(
    "scade scadra scadenza finisce finira fine termina terminera end ends expire expires expiry"
)
ENDED_OR_STATUS_TERMINATED = words(
    """
    finito finita finiti terminato terminata terminati estinto estinta estinti concluso conclusa
    conclusi chiuso chiusa chiusi scaduto scaduta scaduti cessato cessati ended finished
    terminated closed expired extinguished
    """
)
ACTIVE = words("attivo attiva attivi attive active current running open ongoing")
ACTIVE_PHRASES = (("in", "corso"), ("in", "essere"))
LIST_WORDS = words("quali quale quanti which elenco list ho have")

# Asset words a customer may use for what the contract's description names in other words.
ASSET_SYNONYMS: dict[str, str] = {
    "van": "furgone",
    "furgoncino": "furgone",
    "lathe": "tornio",
    "forklift": "carrello",
    "muletto": "carrello",
    "excavator": "escavatore",
    "digger": "escavatore",
    "scavatore": "escavatore",
    "truck": "camion",
    "milling": "fresatrice",
    "fresa": "fresatrice",
}

# Numbers written as words, for "due anni fa", "two years ago".
NUMBER_WORDS = {
    "un": 1, "uno": 1, "una": 1, "one": 1, "a": 1, "due": 2, "two": 2, "tre": 3, "three": 3,
    "quattro": 4, "four": 4, "cinque": 5, "five": 5,
}  # fmt: skip

# Relative periods.
MONTH_WORD = words("mese mesi month months")
YEAR_WORD = words("anno anni year years")
SINGULAR_PERIOD = words("mese month anno year")
PREVIOUS = words("scorso scorsa passato passata precedente last previous past")
CURRENT = words("questo questa quest corrente attuale this current")
AGO = words("fa ago")

# Everything the parser knows: typo correction aims at these, and never "corrects" one of them.
KEYWORDS = (
    DOCUMENT
    | CONTRACT
    | COMMUNICATION
    | LATEST
    | UNREAD
    | READ_WORDS
    | REQUEST_VERBS
    | POSSESSIVE
    | WHOLE_YEAR
    | HOW_TO_STRONG
    | HOW_TO_WEAK
    | WHEN
    | FAQ_TOPICS
    | DOCUMENT_ONLY_TOPICS
    | CONTRACT_ONLY_TOPICS
    | FEE
    | HOW_MUCH
    | PAY
    | STARTED
    | ENDS
    | ENDED_OR_STATUS_TERMINATED
    | ACTIVE
    | LIST_WORDS
    | frozenset(ASSET_SYNONYMS)
    | RECENT_ONES
    | frozenset(MONTHS)
    | MONTH_WORD
    | YEAR_WORD
    | PREVIOUS
    | CURRENT
    | AGO
    | words("corso essere favore piacere grazie euro eur euros banca bank recente piu most")
)
# Known words that are not keywords: left as they are ("aprire" is not a typo of "aprile").
KNOWN = (
    lexicon.STOPWORDS_IT
    | lexicon.STOPWORDS_EN
    | lexicon.QUESTION_WORDS
    | lexicon.GREETING_WORDS
    | lexicon.THANKS_WORDS
    | lexicon.SOCIAL_FILLERS
    | frozenset(lexicon.SHORTHAND)
    | frozenset(lexicon.SHORTHAND.values())
    | lexicon.OFF_TOPIC_IT
    | lexicon.OFF_TOPIC_EN
    | frozenset(MONTHS_SHORT)
    | words(
        """
        dell nell sull dall coll quell quest all contact contacts information contatto contatti
        contattare contattato leased presente presenti
        aprire aperto marco mesi anni note nota vota fatto fatta fatti data date dati mese tempo
        sapere scaricare scarico scarica scaricata scaricate dammela mandamela inviamela leggo
        cosa dire detto letto lento mandato mando invio inviato pagato pagata stato state
        """
    )
)
# Words that fill a line without changing what it asks ("ciao, per favore, grazie").
FILLERS = (
    lexicon.STOPWORDS_IT
    | lexicon.STOPWORDS_EN
    | lexicon.GREETING_WORDS
    | lexicon.THANKS_WORDS
    | lexicon.SOCIAL_FILLERS
    | words("please pls plz favore piacere cortesia")
)
