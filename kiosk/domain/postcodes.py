"""UK postcodes, sectors and districts: normalise what people type, and refuse what cannot exist.

A family's postcode decides whether their attendance qualifies for the incentive (DESIGN.md, "Risk
postcodes"), so a mistyped postcode silently misses the risk list. We therefore check every
postcode against the published UK format at the door and at risk-list import, and say exactly
what is wrong, rather than storing text that can never match.

The rules (Royal Mail's postcode format, as restated in the UK government's "Bulk Data Transfer"
standard and Wikipedia's "Postcodes in the United Kingdom"):

- the outward part is ``A9``, ``A99``, ``AA9``, ``AA99``, ``A9A`` or ``AA9A`` (``M1``, ``B33``,
  ``CR2``, ``DN55``, ``W1A``, ``EC1A``); the inward part is always ``9AA`` (``1AE``);
- Q, V and X are never the first letter; I, J and Z are never the second letter;
- the final letter of an ``A9A`` outward is one of A B C D E F G H J K P S T U W (older copies of
  the rule omit P; we accept it, since refusing a real postcode costs a family more than
  accepting an unused one);
- the final letter of an ``AA9A`` outward is one of A B E H M N P R V W X Y;
- the two inward letters are never C, I, K, M, O or V;
- ``GIR 0AA`` (the old Girobank postcode) is the one exception to the letter rules.

Decisions, on purpose:

- This is a *format* check, not a look-up: ``AA1 1AA`` has the right shape and is accepted,
  though there is no AA area. (The NHS "no fixed abode" pseudo-postcodes, ``ZZ99 3VZ``, break
  the letter rules and are refused.)
  We do not enforce which London areas have ``A9A``/``AA9A`` districts; real data has them.
- British Forces (BFPO) postcodes (``BF1 3AD``) fit the ordinary rules, so they are accepted
  without special handling.
- Postcodes of the British Overseas Territories (``ASCN 1ZZ``, ``STHL 1ZZ``, ``TKCA 1ZZ``...) are
  not UK postcodes and are refused: no family at a UK kiosk lives at one, and no UK risk list
  names one. (``GX11 1AA``, Gibraltar, happens to fit the UK shape and is accepted, as any
  well-shaped postcode is.)
- Only case and spacing are forgiven. Letters and digits are never swapped for the user (``O``
  for ``0``, ``I`` for ``1``): that could turn a typo into someone else's postcode. When a swap
  would give a valid postcode, the error *suggests* it instead.
- The district of ``EC1A 1BB`` is the whole outward part, ``EC1A`` (strictly a sub-district), as
  that is how risk lists name it; the area is its leading letters, ``EC``.

>>> pc = parse_postcode(" ws7  1aa ")
>>> str(pc), pc.sector, pc.district, pc.area
('WS7 1AA', 'WS7 1', 'WS7', 'WS')
>>> parse_risk_area("ws7 1")
RiskArea(kind='sector', value='WS7 1')
"""

from __future__ import annotations

import itertools
import string
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from kiosk.domain.errors import ValidationError

__all__ = [
    "Postcode",
    "PostcodeError",
    "RiskArea",
    "RiskKind",
    "is_valid_postcode",
    "normalise_postcode",
    "parse_postcode",
    "parse_risk_area",
]

_LETTERS = frozenset(string.ascii_uppercase)
_DIGITS = frozenset(string.digits)
#: What a person may type (before upper-casing; checked first so that e.g. "ß" is not read as SS).
_TYPABLE = frozenset(string.ascii_letters + string.digits)

#: Letters that never start a postcode.
_NOT_FIRST = frozenset("QVX")
#: Letters never used second (in the ``AA9``, ``AA99`` and ``AA9A`` outward formats).
_NOT_SECOND = frozenset("IJZ")
#: The only letters that end an ``A9A`` outward code (``W1A``).
_A9A_LAST = frozenset("ABCDEFGHJKPSTUW")
#: The only letters that end an ``AA9A`` outward code (``EC1A``).
_AA9A_LAST = frozenset("ABEHMNPRVWXY")
#: Letters never used in the inward part (they look like digits or each other when handwritten).
_NOT_INWARD = frozenset("CIKMOV")

#: The one postcode exempt from the letter rules.
_GIROBANK = ("GIR", "0AA")

#: Lengths of a full postcode without its space (``M11AE`` to ``DN551PT``).
_MIN_LEN, _MAX_LEN = 5, 7
_INWARD_LEN = 3
#: How much of a long bad input to quote back in a message.
_QUOTE_LIMIT = 24

#: Look-alike characters we never swap silently but do suggest swapping.
_LOOKALIKES = {"O": "0", "0": "O", "I": "1", "1": "I"}

_OUTWARD_HELP = (
    "one or two letters, a digit, then optionally one more digit or letter "
    "(like M1, B33, WS7, DN55, W1A or EC1A)"
)
_INWARD_HELP = "the inward part must be a digit and two letters (like 1AA)"
_GIR_ONLY = "GIR is used only by GIR 0AA (the old Girobank postcode)"


class PostcodeError(ValidationError):
    """Text that is not a valid UK postcode, sector or district.

    The message names the text and says what was wrong with it, so a volunteer at the door or an
    admin importing a risk list can fix it in one go, e.g. ``'WS7 1AAA' is not a UK postcode: the
    inward part must be a digit and two letters (like 1AA)``. It is a ``ValidationError`` (and so a
    ``ValueError``) so that callers validating a whole registration catch it with the rest.
    """


@dataclass(frozen=True)
class Postcode:
    """A valid, normalised UK postcode, split where the postal system splits it.

    Construct one with :func:`parse_postcode`; building it directly checks the parts too, so no
    invalid ``Postcode`` can exist.

    >>> pc = Postcode("EC1A", "1BB")
    >>> str(pc), pc.sector, pc.district, pc.area
    ('EC1A 1BB', 'EC1A 1', 'EC1A', 'EC')
    """

    outward: str
    inward: str

    def __post_init__(self) -> None:
        if not (isinstance(self.outward, str) and isinstance(self.inward, str)):
            raise PostcodeError(f"a postcode's parts must be text, not {self!r}")
        text = f"{self.outward} {self.inward}"
        if (self.outward, self.inward) == _GIROBANK:
            return
        problem = _inward_problem(self.inward) or _outward_problem(self.outward)
        if problem:
            raise PostcodeError(f"{_quote(text)} is not a UK postcode: {problem}")

    def __str__(self) -> str:
        """The postcode as Royal Mail writes it: capitals, one space (``WS7 1AA``)."""
        return f"{self.outward} {self.inward}"

    @property
    def sector(self) -> str:
        """The outward part and the inward digit (``WS7 1``): a few thousand addresses."""
        return f"{self.outward} {self.inward[0]}"

    @property
    def district(self) -> str:
        """The outward part (``WS7``; ``EC1A`` for ``EC1A 1BB``)."""
        return self.outward

    @property
    def area(self) -> str:
        """The leading letters of the outward part (``WS``, ``EC``, ``M``; ``GIR`` for GIR 0AA)."""
        return _leading_letters(self.outward)


RiskKind = Literal["postcode", "sector", "district"]


@dataclass(frozen=True, slots=True)
class RiskArea:
    """One entry of the risk list: a full postcode, a sector or a district, normalised.

    ``value`` is written as the postal system writes it (``WS7 1AA``, ``WS7 1``, ``WS7``) so that
    it compares equal to the matching part of a family's parsed postcode.
    """

    kind: RiskKind
    value: str


def parse_postcode(text: str) -> Postcode:
    """The :class:`Postcode` in ``text``, forgiving case and spacing only.

    Raises :class:`PostcodeError` naming the text and what is wrong with it.

    >>> parse_postcode("dn551pt")
    Postcode(outward='DN55', inward='1PT')
    """
    compact = _compact(text, "UK postcode")
    problem = _full_postcode_problem(compact)
    if problem:
        raise PostcodeError(f"{_quote(text)} is not a UK postcode: {problem}")
    return Postcode(compact[:-_INWARD_LEN], compact[-_INWARD_LEN:])


def normalise_postcode(text: str) -> str:
    """``text`` as a postcode in the standard form (``" ws7  1aa "`` -> ``"WS7 1AA"``).

    Upper-cases, drops every space, then puts one space before the last three characters; raises
    :class:`PostcodeError` if the result is not a valid UK postcode.
    """
    return str(parse_postcode(text))


def is_valid_postcode(text: str) -> bool:
    """Whether ``text`` is a valid UK postcode once case and spacing are normalised."""
    try:
        parse_postcode(text)
    except PostcodeError:
        return False
    return True


def parse_risk_area(text: str) -> RiskArea:
    """A risk-list entry: a full postcode, a sector (``WS7 1``) or a district (``WS7``, ``EC1A``).

    A full postcode may be spaced any way (as in :func:`parse_postcode`). A sector must be
    written with its space, ``WS7 1``, because unspaced ``WS71`` is itself a well-formed district
    and guessing which was meant would put the wrong families on the list; so ``WS71`` is read as
    the district ``WS71``. So that every valid postcode's sector and district are valid entries,
    ``GIR 0`` and ``GIR`` (from GIR 0AA) are accepted too. Raises :class:`PostcodeError` naming
    the text.

    >>> parse_risk_area("WS71")
    RiskArea(kind='district', value='WS71')
    """
    what = "UK postcode, sector or district"
    compact = _compact(text, what)
    if _full_postcode_problem(compact) is None:
        return RiskArea("postcode", str(Postcode(compact[:-_INWARD_LEN], compact[-_INWARD_LEN:])))
    parts = text.upper().split()
    if len(parts) == 2 and len(parts[1]) == 1:
        district, digit = parts
        if district == _GIROBANK[0]:
            problem = None if digit == _GIROBANK[1][0] else _GIR_ONLY
        else:
            problem = _outward_problem(district)
        if problem is None and digit not in _DIGITS:
            problem = f"a sector ends in one digit after the district (like WS7 1), not {digit!r}"
        if problem:
            hint = _suggestion(compact, _is_sector, tail=1)
            raise PostcodeError(f"{_quote(text)} is not a UK sector: {problem}{hint}")
        return RiskArea("sector", f"{district} {digit}")
    if len(parts) == 1 and len(compact) < _MIN_LEN:
        problem = None if compact == _GIROBANK[0] else _outward_problem(compact)
        if problem:
            hint = _suggestion(compact, _is_district)
            raise PostcodeError(f"{_quote(text)} is not a UK district: {problem}{hint}")
        return RiskArea("district", compact)
    if len(compact) < _MIN_LEN:
        problem = (
            "write a district without spaces (like WS7 or EC1A) and a sector with one space "
            "before its last digit (like WS7 1)"
        )
    else:
        problem = _full_postcode_problem(compact) or ""
    raise PostcodeError(f"{_quote(text)} is not a {what}: {problem}")


# --- the rules, as functions that say what is wrong (None when nothing is) ---------------------


def _compact(text: str, what: str) -> str:
    """``text`` upper-cased with all whitespace removed, after checking it is usable at all."""
    if not isinstance(text, str):
        raise PostcodeError(f"a {what} must be text, not {type(text).__name__} {text!r}")
    compact = "".join(text.split())
    if not compact:
        raise PostcodeError(f"{_quote(text)} is not a {what}: it is empty")
    odd = next((ch for ch in compact if ch not in _TYPABLE), None)
    if odd is not None:
        raise PostcodeError(
            f"{_quote(text)} is not a {what}: it contains {odd!r}; use only the letters A to Z, "
            "the digits 0 to 9 and a space"
        )
    return compact.upper()


def _full_postcode_problem(compact: str, *, suggest: bool = True) -> str | None:
    """What stops ``compact`` (upper-case, no spaces) being a full postcode, or None."""
    if len(compact) > _MAX_LEN:
        return (
            f"it is too long ({len(compact)} letters and digits; "
            f"a postcode has {_MIN_LEN} to {_MAX_LEN}, like M1 1AE or DN55 1PT)"
        )
    if len(compact) < _MIN_LEN:
        if _outward_problem(compact) is None:
            return (
                f"it is only the outward part (the district {compact}); a full postcode also has "
                "a digit and two letters after the space, like WS7 1AA"
            )
        return (
            f"it is too short ({len(compact)} letters and digits; "
            f"a postcode has {_MIN_LEN} to {_MAX_LEN}, like M1 1AE or DN55 1PT)"
        )
    outward, inward = compact[:-_INWARD_LEN], compact[-_INWARD_LEN:]
    if (outward, inward) == _GIROBANK:
        return None
    # The inward part first: its place (the last three characters) is fixed, while where the
    # outward part ends depends on the inward part being right.
    problem = _inward_problem(inward)
    if problem is None and outward == _GIROBANK[0]:
        problem = _GIR_ONLY
    problem = problem or _outward_problem(outward)
    if problem and suggest:
        problem += _suggestion(compact, _is_full_postcode, tail=_INWARD_LEN)
    return problem


def _outward_problem(outward: str) -> str | None:
    """What stops ``outward`` being an outward code (a district), or None."""
    shape = "".join("A" if ch in _LETTERS else "9" if ch in _DIGITS else "?" for ch in outward)
    if shape not in ("A9", "A99", "AA9", "AA99", "A9A", "AA9A"):
        return f"the outward part {_quote(outward)} must be {_OUTWARD_HELP}"  # may be long
    first = outward[0]
    if first in _NOT_FIRST:
        return f"no postcode starts with {first!r} (Q, V and X are never the first letter)"
    if shape.startswith("AA") and outward[1] in _NOT_SECOND:
        return (
            f"{outward!r} has {outward[1]!r} as its second letter, and I, J and Z are never "
            "used there"
        )
    last = outward[-1]
    if shape == "A9A" and last not in _A9A_LAST:
        allowed = " ".join(sorted(_A9A_LAST))
        return f"{outward!r} ends in {last!r}, but a district like W1A ends in one of {allowed}"
    if shape == "AA9A" and last not in _AA9A_LAST:
        allowed = " ".join(sorted(_AA9A_LAST))
        return f"{outward!r} ends in {last!r}, but a district like EC1A ends in one of {allowed}"
    return None


def _inward_problem(inward: str) -> str | None:
    """What stops ``inward`` being the inward part (``1AA``), or None."""
    if len(inward) != _INWARD_LEN or inward[0] not in _DIGITS:
        return _INWARD_HELP
    if not all(ch in _LETTERS for ch in inward[1:]):
        return _INWARD_HELP
    bad = next((ch for ch in inward[1:] if ch in _NOT_INWARD), None)
    if bad is not None:
        return (
            f"the inward part {inward!r} uses the letter {bad!r}, but C, I, K, M, O and V are "
            "never used there"
        )
    return None


def _is_full_postcode(compact: str) -> bool:
    return _full_postcode_problem(compact, suggest=False) is None


def _is_district(compact: str) -> bool:
    return _outward_problem(compact) is None


def _is_sector(compact: str) -> bool:
    return compact[-1:] in _DIGITS and _outward_problem(compact[:-1]) is None


def _suggestion(compact: str, is_valid: Callable[[str], bool], tail: int = 0) -> str:
    """`` (did you mean 'X'?)`` when swapping look-alikes (O/0, I/1) gives one clear valid X.

    The fewest swaps win (``SO1 OAA`` suggests ``SO1 0AA``, not ``S01 0AA``); if two candidates
    need equally few, nothing is suggested. ``tail`` is how many characters follow the space
    when the suggestion is written out (3 for a postcode, 1 for a sector, 0 for a district).

    We suggest rather than fix: a swap the person did not intend would file them under someone
    else's postcode, and they are the only one who knows which they meant.
    """
    slots = [i for i, ch in enumerate(compact) if ch in _LOOKALIKES]
    if len(compact) > _MAX_LEN:  # too many swaps to try, and no swap fixes a length
        return ""
    for count in range(1, len(slots) + 1):
        found = set()
        for chosen in itertools.combinations(slots, count):
            chars = list(compact)
            for i in chosen:
                chars[i] = _LOOKALIKES[chars[i]]
            candidate = "".join(chars)
            if is_valid(candidate):
                found.add(candidate)
        if len(found) > 1:
            return ""
        if found:
            (candidate,) = found
            if tail:
                candidate = f"{candidate[:-tail]} {candidate[-tail:]}"
            return f" (did you mean {candidate!r}?)"
    return ""


def _leading_letters(outward: str) -> str:
    letters = itertools.takewhile(lambda ch: ch in _LETTERS, outward)
    return "".join(letters)


def _quote(text: object) -> str:
    """``text`` as the person typed it (trimmed, and cut short if long), quoted for a message."""
    shown = str(text).strip()
    if len(shown) > _QUOTE_LIMIT:
        shown = shown[:_QUOTE_LIMIT] + "..."
    return repr(shown)
