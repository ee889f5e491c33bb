"""Every word a person reads on the kiosk goes through the translation function.

The Python files of ``kiosk/ui`` are read as syntax trees and the ``.kv`` files as property
lines: any string that looks like words (a few words with a space, or one capitalised word
such as "Done") must be the argument of ``_()``, ``N_()`` or ``ngettext()`` (``app._()`` and
``app.ngettext()`` in .kv), or be one of the few strings below that are data, not words.
Which msgids the catalogues must hold is ``test_catalogues``' job.
"""

from __future__ import annotations

import ast
import io
import re
import tokenize
from pathlib import Path

import pytest

from kiosk.locale.catalogues import REPO, SOURCES

#: Strings in kiosk/ui that look like words but are not shown to be read as words.
NOT_WORDS = {
    # The default name of a session started at the door: data for the records and reports.
    "kiosk/ui/screens/start_session.py": {"Drop-in session"},
    # The app's window title (not shown on the kiosk's full screen) and a font's name.
    "kiosk/ui/kioskapp.py": {"Doorstep"},
    "kiosk/ui/keyboard.py": {"Roboto", "Aa"},  # "Aa": the shift key's symbol
    # What the domain calls the field in its (English) messages; a developer's error.
    "kiosk/ui/draft.py": {"greeting name", "child's name", "unknown criterion {}"},
    # A setting of arabic_reshaper.
    "kiosk/ui/bidi.py": {"ARABIC LIGATURE ALLAH"},
}
#: Files whose strings are for developers only: why a label overflows (tests print it), and
#: the tool that makes the Urdu font.
DEVELOPER_FILES = {"kiosk/ui/fit.py", "kiosk/ui/fonts/make_fonts.py"}

TRANSLATING = {"_", "N_", "ngettext"}
LOGGING = {"debug", "info", "warning", "error", "exception", "critical"}
MARKUP = re.compile(r"\[/?[a-z_]+(=[^\]]*)?\]|\\n|\{[^{}]*\}")
WORD = re.compile(r"[^\W\d_]{2,}")


def looks_like_words(text: str) -> bool:
    """A few words with a space ("Tap your card"), or one capitalised word ("Done")."""
    plain = MARKUP.sub(" ", text).strip()
    words = WORD.findall(plain)
    if not words:
        return False
    if len(words) >= 2 and " " in plain:
        return True
    bare = re.sub(r"[^\w\s]", "", plain).strip()
    return len(words) == 1 and re.fullmatch(r"[A-Z][a-z]+", bare) is not None


def _name(func: ast.expr) -> str:
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        return func.attr
    return ""


def _literal_text(node: ast.expr) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return "".join(v.value if isinstance(v, ast.Constant) else "{}" for v in node.values)
    return None


def untranslated_python(source: str) -> list[tuple[int, str]]:
    """(line, text) of every word-like string literal not passed to a translation function."""
    tree = ast.parse(source)
    skip: set[int] = set()
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if isinstance(body, list) and body and isinstance(body[0], ast.Expr):
            skip.add(id(body[0].value))  # docstrings
        if isinstance(node, ast.Call):
            name = _name(node.func)
            is_log = name in LOGGING and _name(getattr(node.func, "value", node.func)) == "log"
            if name in TRANSLATING or is_log:
                skip.update(id(n) for arg in node.args for n in ast.walk(arg))
        if isinstance(node, ast.Raise) and node.exc is not None:
            exc = node.exc.func if isinstance(node.exc, ast.Call) else node.exc
            if _name(exc) in dir(__builtins__) or _name(exc) in {"KeyError", "ValueError"}:
                skip.update(id(n) for n in ast.walk(node.exc))
        if isinstance(node, ast.Assert) and node.msg is not None:
            skip.update(id(n) for n in ast.walk(node.msg))
    found = []
    for node in ast.walk(tree):
        if id(node) in skip or not isinstance(node, ast.Constant | ast.JoinedStr):
            continue
        text = _literal_text(node)
        if text is not None and looks_like_words(text):
            found.append((node.lineno, text))
            skip.update(id(n) for n in ast.walk(node))  # an f-string's parts once
    return sorted(found)


_KV_TRANSLATED = re.compile(
    r"""app\.(?:_|ngettext)\(\s*(?:"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')"""
    r"""(?:\s*,\s*(?:"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'))?"""
)
_KV_STRING = re.compile(r""""(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'""")
_KV_PROPERTY = re.compile(r"^\s*[A-Za-z_][A-Za-z0-9_]*\s*:\s*(?P<value>\S.*)$")


def untranslated_kv(source: str) -> list[tuple[int, str]]:
    """(line, text) of every word-like string in a .kv property value not in app._()."""
    found = []
    for number, line in enumerate(source.splitlines(), start=1):
        if line.lstrip().startswith("#"):
            continue
        match = _KV_PROPERTY.match(line)
        if not match:
            continue
        # The translated strings become "" (the call stays, so the line still parses).
        value = _KV_TRANSLATED.sub(lambda m: _KV_STRING.sub('""', m.group()), match["value"])
        tokens = tokenize.generate_tokens(io.StringIO(value).readline)
        try:
            strings = [t.string for t in tokens if t.type == tokenize.STRING]
        except tokenize.TokenError:
            continue
        for literal in strings:
            text = ast.literal_eval(literal)
            if looks_like_words(text):
                found.append((number, text))
    return found


def sources(suffix: str) -> list[Path]:
    found = sorted(p for p in SOURCES.rglob(f"*{suffix}") if p.is_file())
    return [p for p in found if where(p) not in DEVELOPER_FILES]


def where(path: Path) -> str:
    return path.relative_to(REPO).as_posix()


@pytest.mark.parametrize("path", sources(".py"), ids=where)
def test_python_words_are_translatable(path):
    allowed = NOT_WORDS.get(where(path), set())
    found = [
        f"{where(path)}:{line}: {text!r}"
        for line, text in untranslated_python(path.read_text(encoding="utf-8"))
        if text not in allowed
    ]
    assert found == [], "wrap these in _() (or add them to NOT_WORDS if they are data)"


@pytest.mark.parametrize("path", sources(".kv"), ids=where)
def test_kv_words_are_translatable(path):
    found = [
        f"{where(path)}:{line}: {text!r}"
        for line, text in untranslated_kv(path.read_text(encoding="utf-8"))
    ]
    assert found == [], 'write these as app._("...")'


def test_the_python_scan_finds_words_left_untranslated():
    source = '''
"""A docstring is not on screen."""
log.info("a log line is for developers")
title = "Sign a family in"
button = KioskButton(text="Done", style="primary", halign="left")
message = f"Welcome, {name}!"
fine = _("Tap your card") + N_("Health visitor") + ngettext("{n} hour", "{n} hours", n)
markup = f"[b]{name}[/b]   {kids}\\n"
raise KeyError(f"no key {key!r} on the keyboard")
'''
    assert [text for _, text in untranslated_python(source)] == [
        "Sign a family in",
        "Done",
        "Welcome, {}!",
    ]


def test_the_kv_scan_finds_words_left_untranslated():
    source = """
#:import theme kiosk.ui.theme
<Screen>:
    Label:
        text: "Tap your card"
        halign: "left"
    KioskButton:
        text: app._("Done") if root.ok else "Cancel"
        style: "secondary"
        on_release: app.volunteer_go("start_session")
    Label:
        text: app.ngettext("{n} hour", "{n} hours", 2).format(n=2)
"""
    assert [text for _, text in untranslated_kv(source)] == ["Tap your card", "Cancel"]
