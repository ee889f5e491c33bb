"""A Babel extractor for Kivy ``.kv`` files: the words a layout shows through the app.

In a ``.kv`` file the kiosk's words are ``app._("...")`` and ``app.ngettext("...", "...", n)``
calls with literal strings. A ``# Translators: ...`` comment block on the lines just above a call
becomes a note for the translator, as it does in Python.

Babel calls :func:`extract_kv` for every ``.kv`` file the method map of
``kiosk.locale.catalogues`` (or a ``pybabel extract -F`` mapping) names with
``kiosk.locale.kv:extract_kv``.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Collection, Iterator, Mapping
from typing import IO, Any

_STRING = r"""(?:"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')"""
_CALL = re.compile(
    rf"app\.(?P<fn>_|ngettext)\(\s*(?P<one>{_STRING})(?:\s*,\s*(?P<many>{_STRING}))?"
)


def _notes_above(lines: list[str], index: int, tags: Collection[str]) -> list[str]:
    """The comment block directly above ``lines[index]``, from its first tagged line on."""
    block: list[str] = []
    at = index - 1
    while at >= 0 and lines[at].strip().startswith("#"):
        block.insert(0, lines[at].strip().lstrip("#").strip())
        at -= 1
    for start, text in enumerate(block):
        if any(text.startswith(tag) for tag in tags):
            return [t for t in block[start:] if t]
    return []


def extract_kv(
    fileobj: IO[bytes],
    keywords: Mapping[str, Any],
    comment_tags: Collection[str],
    options: Mapping[str, Any],
) -> Iterator[tuple[int, str, str | tuple[str, str], list[str]]]:
    """Yield ``(line, function, message, comments)`` for each translatable call, as Babel wants.

    >>> import io
    >>> kv = b'# Translators: the button that ends a session.\\ntext: app._("Finish")\\n'
    >>> list(extract_kv(io.BytesIO(kv), {}, ["Translators:"], {}))
    [(2, '_', 'Finish', ['Translators: the button that ends a session.'])]
    """
    lines = fileobj.read().decode(options.get("encoding", "utf-8")).splitlines()
    for index, line in enumerate(lines):
        for match in _CALL.finditer(line):
            one = ast.literal_eval(match["one"])
            notes = _notes_above(lines, index, comment_tags)
            if match["fn"] == "_":
                yield index + 1, "_", one, notes
                continue
            if not match["many"]:
                raise SyntaxError(f"line {index + 1}: ngettext needs two literal strings")
            yield index + 1, "ngettext", (one, ast.literal_eval(match["many"])), notes
