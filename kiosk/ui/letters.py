"""The letters a family's name may need beyond A-Z, and how they are cased (plain Python, no Kivy).

The name keyboard shows A-Z; holding a letter down opens its accented forms (``ACCENTS``), as a
phone keyboard does. Each plain letter's accents are listed with the kiosk's own languages first
(Polish, Romanian), then those of the languages families bring most often (French, German,
Spanish, Portuguese, Italian, Czech, Slovak, Hungarian, Turkish, the Nordic languages): Łucja,
Ștefan, Zoë and Bogdán can all be typed as they are written.

    >>> ACCENTS["L"]
    'Ł'
    >>> base_letter("ș")
    'S'
    >>> cased("ß", capital=True), cased("ą", capital=True), cased("Ș", capital=False)
    ('ß', 'Ą', 'ș')
"""

from __future__ import annotations

from functools import cache

#: A plain key's accented letters (capitals), in the order its pop-up shows them.
ACCENTS: dict[str, str] = {
    "A": "ĄĂÂÁÀÄÅÆÃ",
    "C": "ĆÇČ",
    "D": "ĎĐ",
    "E": "ĘÉÈÊËĚ",
    "G": "Ğ",
    "I": "ÎÍÌÏ",
    "L": "Ł",
    "N": "ŃÑŇ",
    "O": "ÓÖÔÒÕŐØ",
    "R": "Ř",
    # ß has no capital in names (it never starts one): it is typed as it is.
    "S": "ŚȘŠŞß",
    "T": "ȚŤ",
    "U": "ÜÚÙÛŮŰ",
    "Y": "Ý",
    "Z": "ŹŻŽ",
}


def accents(key: str) -> str:
    """The accented letters held under ``key`` (``""`` for a key without any)."""
    return ACCENTS.get(key.upper(), "") if len(key) == 1 else ""


@cache
def base_letter(letter: str) -> str | None:
    """The plain key an accented ``letter`` (either case) is held under, or None."""
    capital = cased(letter, capital=True)
    return next((key for key, held in ACCENTS.items() if capital in held), None)


def cased(letter: str, capital: bool) -> str:
    """``letter`` as a capital or a small letter; a letter whose capital is not one letter
    (ß, whose ``upper()`` is "SS") stays as it is, so one key always types one letter."""
    changed = letter.upper() if capital else letter.lower()
    return changed if len(changed) == 1 else letter


def every_letter() -> str:
    """Every accented letter the keyboard can type, capitals and small letters."""
    held = "".join(ACCENTS.values())
    return held + "".join(cased(ch, capital=False) for ch in held if ch != "ß")
