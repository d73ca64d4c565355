"""Made-up but valid identities for the demo and the benchmark: names, codici fiscali, partite IVA.

The codice fiscale is built as the Agenzia delle Entrate does (surname, name, birth date and
sex, place code, check character), optionally with omocodia; the partita IVA has a valid office
code and Luhn check digit. python-stdnum accepts every one of them.
"""

from __future__ import annotations

import logging
import random
import unicodedata
from datetime import date

from stdnum import luhn
from stdnum.it import codicefiscale

logger = logging.getLogger(__name__)


def _words(text: str) -> tuple[str, ...]:
    return tuple(word.replace("_", " ") for word in text.split())


MALE_NAMES = _words(
    "Mario Luca Marco Giuseppe Francesco Alessandro Andrea Matteo Lorenzo Davide Niccolò Stefano"
)
FEMALE_NAMES = _words(
    "Maria Anna Giulia Francesca Chiara Sara Laura Elena Valentina Alessia Federica Lucia"
)
SURNAMES = _words(
    "Rossi Russo Ferrari Esposito Bianchi Romano Colombo Ricci Marino Greco Bruno Gallo Conti"
    " De_Luca Mancini Costa Giordano Rizzo Lombardi Moretti Barbieri Fontana Santoro Mariani"
    " Rinaldi Caruso Ferrara Galli Martini Leone Longo Gentile Martinelli Vitale Serra Coppola"
    " D'Angelo Fabbri Bianco Marchetti"
)
COMPANY_WORDS = _words(
    "Trasporti Logistica Costruzioni Meccanica Alimentari Servizi Impianti Edilizia Tessile"
    " Agricola Farmaceutica Ceramiche Arredamenti Elettronica"
)
COMPANY_FORMS = ("S.r.l.", "S.p.A.", "S.n.c.", "S.a.s.", "S.r.l.s.")
# Belfiore codes of a few comuni: Roma, Milano, Torino, Napoli, Bologna, Firenze, Palermo,
# Venezia, Bari, Genova, Verona, Brescia.
PLACE_CODES = _words("H501 F205 L219 F839 A944 D612 G273 L736 A662 D969 L781 B157")
_MONTHS = "ABCDEHLMPRST"
_OMOCODIA = "LMNPQRSTUV"
_OMOCODIA_POSITIONS = (14, 13, 12, 10, 9, 7, 6)  # digits replaced first to last


def _letters(text: str) -> tuple[str, str]:
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().upper()
    letters = [c for c in plain if c.isalpha()]
    consonants = "".join(c for c in letters if c not in "AEIOU")
    vowels = "".join(c for c in letters if c in "AEIOU")
    return consonants, vowels


def _surname_code(surname: str) -> str:
    consonants, vowels = _letters(surname)
    return (consonants + vowels + "XXX")[:3]


def _name_code(name: str) -> str:
    consonants, vowels = _letters(name)
    if len(consonants) >= 4:
        return consonants[0] + consonants[2] + consonants[3]
    return (consonants + vowels + "XXX")[:3]


def codice_fiscale(
    surname: str, name: str, born: date, female: bool, place: str, omocodia: int = 0
) -> str:
    """A valid codice fiscale; ``omocodia`` digits replaced by letters (0 to 7)."""
    day = born.day + (40 if female else 0)
    body = f"{_surname_code(surname)}{_name_code(name)}{born.year % 100:02d}"
    body += f"{_MONTHS[born.month - 1]}{day:02d}{place}"
    chars = list(body)
    for position in _OMOCODIA_POSITIONS[:omocodia]:
        chars[position] = _OMOCODIA[int(chars[position])]
    body = "".join(chars)
    return body + codicefiscale.calc_check_digit(body)


def partita_iva(rng: random.Random) -> str:
    """A valid partita IVA (11 digits: company number, office code 001-100, Luhn check)."""
    body = f"{rng.randrange(1, 10_000_000):07d}{rng.randrange(1, 101):03d}"
    return body + luhn.calc_check_digit(body)


def person(rng: random.Random, omocodia: int = 0) -> tuple[str, str]:
    """(full name, codice fiscale) of a made-up person."""
    female = rng.random() < 0.5
    name = rng.choice(FEMALE_NAMES if female else MALE_NAMES)
    surname = rng.choice(SURNAMES)
    born = date(rng.randrange(1940, 2000), rng.randrange(1, 13), rng.randrange(1, 29))
    code = codice_fiscale(surname, name, born, female, rng.choice(PLACE_CODES), omocodia)
    return f"{name} {surname}", code


def company(rng: random.Random) -> tuple[str, str]:
    """(name, partita IVA) of a made-up company."""
    name = f"{rng.choice(COMPANY_WORDS)} {rng.choice(SURNAMES)} {rng.choice(COMPANY_FORMS)}"
    return name, partita_iva(rng)
