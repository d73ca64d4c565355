"""Word lists of the FAQ matcher: stopwords, phrases, synonyms, greetings, other banking topics.

Every word is written folded (lower case, no accents, apostrophes split), as the analyser sees it.
Synonym groups are stemmed when the matcher loads: each member maps to the first one.
"""

from __future__ import annotations

import logging

logger = logging.getLogger(__name__)


def words(text: str) -> frozenset[str]:
    """The whitespace-separated words of ``text``."""
    return frozenset(text.split())


# Function words only: question words (quando, quali, chi, dove, when, which, who...) are kept,
# because they tell "when are invoices available" from "which invoices can I see".
STOPWORDS_IT = words(
    """
    il lo la i gli le l un uno una un di del dello della dei degli delle d a al allo alla ai agli
    alle ad da dal dallo dalla dai dagli dalle in nel nello nella nei negli nelle con col coi su
    sul sullo sulla sui sugli sulle per tra fra e ed o od ma pero anche pure gia ancora
    sono sei siamo siete ho hai ha abbiamo avete hanno avere essere stato stata stati era
    mi ti si ci vi me te se ne lo lei lui io tu noi voi loro mio mia miei mie tuo tua suo sua
    nostro nostra vostro vostra questo questa questi queste quello quella quelli c e
    che non piu molto poi cosi qui qua li la solo sempre mai ecco allora quindi
    vorrei voglio volevo posso puo possono potrei devo deve dovrei bisogna
    faccio fa fare fate
    per favore gentilmente salve scusate scusi buongiorno buonasera ciao grazie
    """
)

STOPWORDS_EN = words(
    """
    the a an of to in on at for from with by and or but also too is are am was were be been
    being do does did doing i me my mine myself we our you your it its this that these those
    there here they them their he she his her can could will would shall should may might must
    have has had having just so very really please kindly still yet any some anything something
    hello hi hey thanks thank dear sir madam ok okay want wanted need needs like would
    """
)

# Question words and vague verbs: kept for matching, but a question made only of them ("come
# faccio?", "what now?") names no topic and is never answered outright.
QUESTION_WORDS = words(
    """
    quando quali quale quanto quanta quanti quante chi dove come cosa che perche cos qual
    faccio fare fa succede posso puoi serve servono devo
    when which what who whom where how why now happens get do
    """
)

# Tokens that mark a language (besides the vocabulary each language's examples use alone).
MARKERS_IT = STOPWORDS_IT | words(
    "quando quali quale quanto chi dove come cosa perche anche fattura fatture"
)
MARKERS_EN = STOPWORDS_EN | words(
    "when which what who where how why invoice invoices good morning evening thx cheers"
)

# Multi-word expressions rewritten to one token before anything else.
PHRASES: dict[tuple[str, ...], str] = {
    ("e", "mail"): "email",
    ("posta", "elettronica"): "email",
    ("indirizzo", "mail"): "email",
    ("indirizzo", "email"): "email",
    ("indirizzo", "di", "residenza"): "residenza",
    ("indirizzo", "postale"): "residenza",
    ("indirizzo", "di", "casa"): "residenza",
    ("sede", "legale"): "residenza",
    ("postal", "address"): "residenza",
    ("home", "address"): "residenza",
    ("registered", "office"): "residenza",
    ("area", "clienti"): "areaclienti",
    ("area", "cliente"): "areaclienti",
    ("area", "riservata"): "areaclienti",
    ("customer", "area"): "areaclienti",
    ("client", "area"): "areaclienti",
    ("customer", "portal"): "areaclienti",
    ("customers", "area"): "areaclienti",
    ("codice", "fiscale"): "codicefiscale",
    ("fiscal", "code"): "codicefiscale",
    ("tax", "code"): "codicefiscale",
    ("note", "di", "credito"): "notacredito",
    ("nota", "di", "credito"): "notacredito",
    ("note", "credito"): "notacredito",
    ("nota", "credito"): "notacredito",
    ("credit", "note"): "notacredito",
    ("credit", "notes"): "notacredito",
    ("carta", "di", "credito"): "cartacredito",
    ("carte", "di", "credito"): "cartacredito",
    ("credit", "card"): "cartacredito",
    ("debit", "card"): "cartacredito",
    ("a", "reddito"): "areddito",
    ("home", "banking"): "homebanking",
    ("online", "banking"): "homebanking",
    ("internet", "banking"): "homebanking",
    ("nome", "utente"): "username",
    ("user", "name"): "username",
    ("user", "id"): "username",
    ("help", "desk"): "helpdesk",
    ("passo", "passo"): "passopasso",
    ("step", "by", "step"): "passopasso",
    ("far", "back"): "old",
    ("sign", "up"): "signup",
    ("log", "in"): "login",
    ("persone", "giuridiche"): "societa",
    ("persona", "giuridica"): "societa",
    ("legal", "entity"): "company",
    ("legal", "entities"): "company",
    ("asset", "italease"): "italease",
    # "does not work" is a fault, "how does it work" is a request for the guide
    ("non", "funziona"): "guasto",
    ("non", "va"): "guasto",
    ("non", "si", "apre"): "guasto",
    ("non", "si", "carica"): "guasto",
    ("non", "carica"): "guasto",
    ("not", "working"): "broken",
    ("doesn", "t", "work"): "broken",
    ("does", "not", "work"): "broken",
    ("isn", "t", "working"): "broken",
    ("is", "down"): "broken",
    ("won", "t", "load"): "broken",
    ("doesn", "t", "load"): "broken",
    ("does", "not", "load"): "broken",
    ("conto", "corrente"): "contocorrente",
    ("bank", "account"): "contocorrente",
    ("current", "account"): "contocorrente",
    ("estinzione", "anticipata"): "estinzioneanticipata",
    ("early", "termination"): "estinzioneanticipata",
    ("fine", "leasing"): "fineleasing",
    ("end", "of", "the", "lease"): "fineleasing",
}

# Chat shorthand and spelling variants, applied to single tokens before stemming.
SHORTHAND: dict[str, str] = {
    "x": "per",
    "nn": "non",
    "ke": "che",
    "k": "che",
    "cm": "come",
    "qnd": "quando",
    "qndo": "quando",
    "xke": "perche",
    "xche": "perche",
    "perke": "perche",
    "pwd": "password",
    "psw": "password",
    "pw": "password",
    "passw": "password",
    "pass": "password",
    "passwd": "password",
    "mail": "email",
    "emails": "email",
    "assistente": "areaclienti",
    "assistant": "areaclienti",
    "portale": "areaclienti",
    "sito": "areaclienti",
    "portal": "areaclienti",
    "website": "areaclienti",
    "pls": "please",
    "plz": "please",
    "u": "you",
    "ur": "your",
    "cant": "cannot",
    "dont": "not",
    "didnt": "not",
    "doesnt": "not",
    "havent": "not",
    "wont": "not",
    "t": "not",
    "utenza": "username",
    "userid": "username",
    "user": "username",
    "account": "username",
}

# Synonym groups (per language), stemmed at load; every member counts as the first one.
SYNONYMS_IT: tuple[tuple[str, ...], ...] = (
    (
        "registrazione",
        "registrarsi",
        "registrato",
        "registrandomi",
        "iscriversi",
        "iscrizione",
        "iscritto",
        "iscrivo",
        "iscrivermi",
        "iscritti",
        "adesione",
    ),
    ("cambiare", "modificare", "modifica", "aggiornare", "sostituire", "variare", "cambio"),
    ("dimenticato", "scordato", "smarrito", "smarrimento", "perso", "ricordo", "ricordare"),
    ("ricevuto", "arrivata", "arriva", "arrivato", "pervenuta", "ricevere", "ricevo"),
    ("fattura", "fatture", "fatturazione", "bolletta", "bollette"),
    (
        "estinto",
        "estinti",
        "chiuso",
        "chiusi",
        "terminato",
        "terminati",
        "concluso",
        "conclusi",
        "finito",
        "finiti",
        "scaduto",
        "scaduti",
        "cessato",
        "cessati",
    ),
    (
        "vedere",
        "visualizzare",
        "visualizzabili",
        "visibili",
        "visibile",
        "consultare",
        "consultabili",
        "consultabile",
        "vedo",
        "vede",
        "vedono",
    ),
    ("guida", "manuale", "istruzioni", "tutorial", "manualetto"),
    (
        "assistenza",
        "supporto",
        "aiuto",
        "helpdesk",
        "operatore",
        "aiutarmi",
        "aiuta",
        "persona",
        "umano",
    ),
    ("problema", "errore", "malfunzionamento", "guasto", "problemi", "errori", "bug"),
    ("informazioni", "chiarimenti", "spiegazioni", "informazione", "info"),
    ("valida", "valido", "validita", "valore", "valenza", "vale"),
    ("fiscale", "fiscalmente", "legale", "fisco", "fiscali"),
    ("disponibile", "disponibili", "disponibilita", "pronta", "pronte"),
    (
        "pubblicata",
        "pubblicazione",
        "pubblicate",
        "caricate",
        "caricata",
        "esce",
        "escono",
        "uscita",
        "compare",
        "compaiono",
    ),
    ("notifica", "avviso", "avvisato", "avvisate", "avvisa", "notifiche"),
    ("filiale", "agenzia"),
    ("bloccato", "bloccata", "blocco", "sbloccare", "sblocco"),
    ("societa", "azienda", "impresa", "ditta", "aziendale"),
    ("vecchie", "vecchi", "passate", "precedenti", "storico", "archivio", "passato", "indietro"),
    ("cartacea", "cartaceo", "cartacee"),
    ("anno", "anni", "yyyy"),
    ("sbagliato", "sbagliata", "errato", "errata", "sbagliati", "errati", "erroneamente"),
    ("ripetere", "rifare", "ripetizione", "nuovamente", "riprovare"),
    ("recuperare", "recupero", "reimpostare", "resettare", "reset", "ripristinare", "ripristino"),
)

SYNONYMS_EN: tuple[tuple[str, ...], ...] = (
    (
        "register",
        "registration",
        "registered",
        "registering",
        "signup",
        "enrol",
        "enroll",
        "enrolment",
        "subscribe",
    ),
    ("change", "update", "modify", "edit", "replace", "changed"),
    ("forgot", "forgotten", "lost", "remember", "misplaced", "forget"),
    ("receive", "received", "arrive", "arrived", "came", "come"),
    ("invoice", "invoices", "bill", "bills", "billing", "invoicing"),
    ("terminated", "closed", "expired", "finished", "extinguished"),
    ("see", "view", "visible", "shown", "show", "display", "displayed", "listed"),
    ("guide", "manual", "instructions", "tutorial", "handbook"),
    ("support", "help", "assistance", "helpdesk", "assist", "operator", "human", "person", "agent"),
    (
        "problem",
        "error",
        "issue",
        "broken",
        "fault",
        "problems",
        "errors",
        "bug",
        "bugs",
        "malfunction",
    ),
    ("information", "informations", "details", "info", "infos"),
    ("valid", "validity", "legal", "legally", "value"),
    ("tax", "fiscal", "fiscally"),
    ("available", "ready", "availability"),
    ("published", "publish", "uploaded", "appear", "appears"),
    ("notify", "notification", "notified", "alert", "notifications"),
    ("locked", "blocked", "lockout", "unlock", "block"),
    ("company", "business", "firm", "companies"),
    ("old", "older", "past", "previous", "history", "archive", "earlier"),
    ("paper", "post"),
    ("year", "years", "yyyy"),
    ("wrong", "mistyped", "incorrect", "typo", "misspelled", "wrongly"),
    ("again", "repeat", "redo", "retry"),
    ("recover", "recovery", "reset", "restore", "retrieve"),
)

# Whole messages made only of these words (plus fillers) are greetings or thanks.
GREETING_WORDS = words(
    """
    ciao salve buongiorno buonasera buon giorno pomeriggio sera notte buonanotte ehi ehila hey
    hello hi hiya morning evening afternoon good hallo hola salut yo greetings there
    """
)
THANKS_WORDS = words(
    """
    grazie mille tante infinite ringrazio ringraziamo ringraziamenti gentilissimo gentilissima
    gentile perfetto ottimo thanks thank thx ty cheers much many great perfect appreciated
    """
)
# The English ones, to answer a greeting in its language.
GREETINGS_EN = words(
    "hello hi hey hiya morning evening afternoon good greetings thanks thank thx ty cheers"
)
SOCIAL_FILLERS = words(
    """
    a tutti voi ti vi molto davvero ok okay va bene si you very so all everyone there again
    lot da parte mia e and dear buona giornata day nice have
    """
)

# Other banking and leasing topics: a question naming one is about something this FAQ does
# not cover unless the rest of it matches a FAQ example closely.
OFF_TOPIC_IT = words(
    """
    mutuo mutui contocorrente bancomat cartacredito riscatto riscattare subentro subentrare
    cessione cedere assicurazione assicurativa polizza sinistro incidente furto rubato multa
    multe bollo iban rata rate canone canoni importo saldo residuo debito prestito
    finanziamento tasso tassi interessi mora sollecito anticipata anticipatamente
    estinzioneanticipata penale deducibile deducibilita iva bilancio preventivo noleggio
    immobiliare reclamo contestare moratoria bonifico pin homebanking addebito addebitato
    pagare pagato pagamento costa costo prezzo rimborso dichiarazione redditi residenza
    anagrafici scadenza
    """
)
OFF_TOPIC_EN = words(
    """
    mortgage contocorrente cartacredito card cards atm buyout purchase takeover insurance
    accident stolen theft fine ticket iban instalment instalments installment payment payments
    amount balance outstanding loan rate rates interest reminder late deductible vat quote
    rental complaint dispute pin homebanking debit charged pay paid cost price refund owe
    estinzioneanticipata residenza
    """
)


__all__ = [
    "GREETINGS_EN",
    "GREETING_WORDS",
    "MARKERS_EN",
    "MARKERS_IT",
    "OFF_TOPIC_EN",
    "OFF_TOPIC_IT",
    "PHRASES",
    "QUESTION_WORDS",
    "SHORTHAND",
    "SOCIAL_FILLERS",
    "STOPWORDS_EN",
    "STOPWORDS_IT",
    "SYNONYMS_EN",
    "SYNONYMS_IT",
    "THANKS_WORDS",
]
