"""Words for numbers in reports: "1 organisation", "2 organisations"."""

from __future__ import annotations


def plural(count: int, word: str, words: str | None = None) -> str:
    """``count`` and ``word``, in the plural unless it is one (``words`` for an irregular one).

    >>> plural(1, "organisation"), plural(2, "session"), plural(3, "family", "families")
    ('1 organisation', '2 sessions', '3 families')
    """
    return f"{count:,} {word if count == 1 else (words or word + 's')}"
