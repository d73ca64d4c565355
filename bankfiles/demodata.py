"""The demo's made-up data: valid identities (names, codici fiscali, partite IVA), customers and
their contracts. Pure: the same seed and customer number give the same customer.

The codice fiscale is built as the Agenzia delle Entrate does (surname, name, birth date and
sex, place code, check character), optionally with omocodia; the partita IVA has a valid office
code and Luhn check digit. python-stdnum accepts every one of them.
"""

from __future__ import annotations

import logging
import random
import unicodedata
from dataclasses import dataclass, field
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


def company_identity(rng: random.Random) -> tuple[str, str]:
    """(name, partita IVA) of a made-up company."""
    name = f"{rng.choice(COMPANY_WORDS)} {rng.choice(SURNAMES)} {rng.choice(COMPANY_FORMS)}"
    return name, partita_iva(rng)


# --- the demo dataset ---------------------------------------------------------------------

FLEET_CONTRACTS = 150
CREDIT_NOTE_RATE = 0.03
VEHICLES = ("Fiat Panda 1.2", "Volkswagen Golf 2.0 TDI", "Iveco Daily 35C14", "Ford Transit")
EQUIPMENT = (
    "Tornio CNC Mazak QT-200",
    "Impianto fotovoltaico 50 kW",
    "Ecografo Esaote MyLab",
    "Carrello elevatore Linde H25",
    "Pressa piegatrice Amada HG-1303",
)
BUILDINGS = ("Capannone industriale, Modena", "Ufficio in via Roma 10, Bergamo")


@dataclass
class DemoContract:
    number: str
    module: str
    description: str
    start: date
    months: int  # length of the lease
    fee_cents: int
    open_ended: bool = False  # active with no end date in the file

    def end(self) -> date:
        """The lease's last month."""
        return add_months(self.start, self.months)


@dataclass
class DemoCustomer:
    code: str
    kind: str
    name: str
    fiscal_code: str
    contracts: list[DemoContract] = field(default_factory=list)


def add_months(day: date, months: int) -> date:
    """The same day of the month ``months`` later (a day after the 28th becomes the 28th)."""
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, min(day.day, 28))


def month_start(rng: random.Random, first: date, last: date) -> date:
    """A random date (day 1 to 28) between two months."""
    span = (last.year - first.year) * 12 + last.month - first.month
    return add_months(date(first.year, first.month, rng.randrange(1, 29)), rng.randrange(span + 1))


def make_customer(seed: int, n: int, today: date) -> DemoCustomer:
    """Customer ``n`` (1-based) of the dataset of ``seed``."""
    rng = random.Random(f"areaclienti-demo-{seed}-{n}")
    company = n == 2 or n % 4 == 0
    name, fiscal_code = (
        company_identity(rng) if company else person(rng, omocodia=3 if n == 3 else 0)
    )
    customer = DemoCustomer(f"D{n:05d}", "company" if company else "person", name, fiscal_code)
    base = 1_000_000 + n * 1_000
    recent = add_months(today, -6)
    if n == 1:  # a building leased since 2008: an invoice every month to today
        start = date(2008, 3, 10)
        customer.contracts.append(
            DemoContract(str(base + 1), "01", BUILDINGS[0], start, 240, 285_000)
        )
        customer.contracts.append(
            DemoContract(str(base + 2), "01", VEHICLES[0], date(2012, 5, 3), 48, 32_500)
        )
    elif n == 2:  # a fleet: 130 vehicle leases of the last months, 20 short old ones
        for k in range(1, FLEET_CONTRACTS + 1):
            old = k > FLEET_CONTRACTS - 20
            start = (
                month_start(rng, date(2009, 1, 1), date(2018, 12, 1))
                if old
                else month_start(rng, add_months(today, -5), today)
            )
            months = rng.choice((12, 15, 18)) if old else rng.choice((36, 48))
            fee = rng.randrange(30_000, 90_000, 50)
            description = f"{rng.choice(VEHICLES)} targa {_plate(rng)}"
            customer.contracts.append(
                DemoContract(str(base + k), "01", description, start, months, fee)
            )
    else:  # an old terminated lease (most of them), one to three recent ones
        kinds = EQUIPMENT if company else VEHICLES
        first = 1 if rng.random() < 0.7 else 2
        for k in range(first, rng.randrange(2, 5 if company else 3) + 1):
            old = k == 1
            start = (
                month_start(rng, date(2008, 1, 1), date(2016, 12, 1))
                if old
                else month_start(rng, date(2022, 1, 1), recent)
            )
            months = rng.choice((36, 48, 60))
            fee = rng.randrange(15_000, 250_000 if company else 60_000, 50)
            modules = 2 if k == 2 and rng.random() < 0.3 else 1
            for module in range(1, modules + 1):
                customer.contracts.append(
                    DemoContract(
                        str(base + k),
                        f"{module:02d}",
                        rng.choice(kinds),
                        start,
                        months,
                        fee,
                        open_ended=not old and rng.random() < 0.3,
                    )
                )
    return customer


def _plate(rng: random.Random) -> str:
    letters = "ABCDEFGHJKLMNPRSTVWXYZ"
    pick = "".join(rng.choice(letters) for _ in range(4))
    return f"{pick[:2]}{rng.randrange(100, 1000)}{pick[2:]}"
