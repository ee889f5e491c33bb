"""Extract, update, compile and check the kiosk's gettext catalogues (standard library only).

    python -m kiosk.locale.catalogues update    # words from kiosk/ui into kiosk.pot and every .po
    python -m kiosk.locale.catalogues compile   # every .po to its .mo (committed, tested fresh)
    python -m kiosk.locale.catalogues check     # what is missing, stale or inconsistent

What is extracted: in ``kiosk/ui`` Python files, calls ``_("...")``, ``N_("...")`` and
``ngettext("...", "...", n)`` (also as methods: ``self.app._("...")``); in ``.kv`` files,
``app._("...")`` and ``app.ngettext("...", "...", n)``. A ``# Translators: ...`` comment on the
lines just above becomes a note for the translator in the ``.po`` file.

A ``.po`` file here is the usual GNU format: ``msgid``/``msgstr`` (``msgid_plural`` and
``msgstr[n]`` for counts), ``#.`` notes, ``#:`` places, ``#,`` flags and ``#~`` obsolete entries.
Entries are never marked ``fuzzy``: gettext skips fuzzy entries, so their words would not be
shown. The ``.mo`` writer follows CPython's ``Tools/i18n/msgfmt.py`` and is deterministic, so a
test can compare the committed ``.mo`` files with a fresh compilation.
"""

from __future__ import annotations

import ast
import io
import re
import struct
import sys
import tokenize
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from kiosk.i18n import DEFAULT_LANGUAGE, DOMAIN, LANGUAGES, LOCALE_DIR

PACKAGE = LOCALE_DIR.parent  # kiosk/
REPO = PACKAGE.parent
SOURCES = PACKAGE / "ui"
TEMPLATE = LOCALE_DIR / f"{DOMAIN}.pot"

PLURAL_FORMS = {
    "en": "nplurals=2; plural=(n != 1);",
    "ur": "nplurals=2; plural=(n != 1);",
    "pl": (
        "nplurals=3; plural=(n==1 ? 0 : n%10>=2 && n%10<=4 && (n%100<10 || n%100>=20) ? 1 : 2);"
    ),
    "ro": "nplurals=3; plural=(n==1 ? 0 : (n==0 || (n%100 > 0 && n%100 < 20)) ? 1 : 2);",
}
REVIEW_FIELD = "X-Review-Status"
NEEDS_REVIEW = "needs native review"
NEEDS_REVIEW_NOTE = "NEEDS REVIEW by a native speaker"

_TRANSLATE_FUNCTIONS = {"_": 1, "N_": 1, "ngettext": 2}
_KV_CALL = re.compile(
    r"""app\.(?P<fn>_|ngettext)\(\s*(?P<one>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')"""
    r"""(?:\s*,\s*(?P<many>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'))?"""
)
PLACEHOLDER = re.compile(r"(?<!\{)\{([A-Za-z_][A-Za-z0-9_]*)[^{}]*\}(?!\})")


# -- messages found in the code --------------------------------------------------------------------
@dataclass
class Message:
    msgid: str
    plural: str | None = None
    places: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def key(self) -> tuple[str, str | None]:
        return (self.msgid, self.plural)


def _comments_by_line(source: str) -> dict[int, str]:
    found: dict[int, str] = {}
    for tok in tokenize.generate_tokens(io.StringIO(source).readline):
        if tok.type == tokenize.COMMENT:
            found[tok.start[0]] = tok.string.lstrip("#").strip()
    return found


def _notes_above(comments: dict[int, str], line: int) -> list[str]:
    """``# Translators:`` comment lines directly above ``line`` (a block of comments)."""
    block: list[str] = []
    at = line - 1
    while at in comments:
        block.insert(0, comments[at])
        at -= 1
    notes, keep = [], False
    for text in block:
        if text.startswith("Translators:"):
            keep = True
            text = text[len("Translators:") :].strip()
        if keep and text:
            notes.append(text)
    return notes


def extract_python(path: Path) -> Iterator[tuple[Message, int]]:
    source = path.read_text(encoding="utf-8")
    comments = _comments_by_line(source)
    calls = [n for n in ast.walk(ast.parse(source, str(path))) if isinstance(n, ast.Call)]
    for node in sorted(calls, key=lambda n: (n.lineno, n.col_offset)):
        func = node.func
        name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)
        literals = _TRANSLATE_FUNCTIONS.get(name or "")
        if literals is None or len(node.args) < literals:
            continue
        args = node.args[:literals]
        if not all(isinstance(a, ast.Constant) and isinstance(a.value, str) for a in args):
            continue  # a word chosen at run time: its table marks it with N_()
        message = Message(args[0].value, args[1].value if literals == 2 else None)
        message.notes = _notes_above(comments, node.lineno)
        yield message, node.lineno


def extract_kv(path: Path) -> Iterator[tuple[Message, int]]:
    lines = path.read_text(encoding="utf-8").splitlines()
    comments = {i + 1: ln.strip().lstrip("#").strip() for i, ln in enumerate(lines)}
    comments = {n: c for n, c in comments.items() if lines[n - 1].strip().startswith("#")}
    for number, line in enumerate(lines, start=1):
        for match in _KV_CALL.finditer(line):
            one = ast.literal_eval(match["one"])
            many = ast.literal_eval(match["many"]) if match["many"] else None
            if match["fn"] == "ngettext" and many is None:
                raise SyntaxError(f"{path}:{number}: ngettext needs two literal strings")
            message = Message(one, many if match["fn"] == "ngettext" else None)
            message.notes = _notes_above(comments, number)
            yield message, number


def source_files(root: Path = SOURCES) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.suffix in (".py", ".kv") and p.is_file())


def extract(root: Path = SOURCES) -> list[Message]:
    """Every message marked for translation under ``root``, in order of first appearance."""
    found: dict[tuple[str, str | None], Message] = {}
    for path in source_files(root):
        extractor = extract_python if path.suffix == ".py" else extract_kv
        for message, line in extractor(path):
            place = f"{path.relative_to(REPO).as_posix()}:{line}"
            known = found.setdefault(message.key, Message(message.msgid, message.plural))
            known.places.append(place)
            known.notes.extend(n for n in message.notes if n not in known.notes)
    return list(found.values())


# -- .po files -------------------------------------------------------------------------------------
@dataclass
class Entry:
    msgid: str
    plural: str | None = None
    msgstr: list[str] = field(default_factory=lambda: [""])
    comments: list[str] = field(default_factory=list)  # "# " lines (translators', header)
    notes: list[str] = field(default_factory=list)  # "#." lines (from the code)
    places: list[str] = field(default_factory=list)  # "#:" lines
    flags: list[str] = field(default_factory=list)  # "#," lines
    obsolete: bool = False

    @property
    def key(self) -> tuple[str, str | None]:
        return (self.msgid, self.plural)

    @property
    def fuzzy(self) -> bool:
        return "fuzzy" in self.flags

    @property
    def translated(self) -> bool:
        return all(self.msgstr) and bool(self.msgstr)


@dataclass
class PoFile:
    header: Entry
    entries: list[Entry]

    @property
    def headers(self) -> dict[str, str]:
        fields = {}
        for line in self.header.msgstr[0].splitlines():
            name, _, value = line.partition(":")
            if name.strip():
                fields[name.strip()] = value.strip()
        return fields

    def find(self, key: tuple[str, str | None]) -> Entry | None:
        return next((e for e in self.entries if e.key == key and not e.obsolete), None)


def _unquote(text: str, where: str) -> str:
    text = text.strip()
    if len(text) < 2 or text[0] != '"' or text[-1] != '"':
        raise ValueError(f"{where}: expected a quoted string, found {text!r}")
    return ast.literal_eval(text)


def parse_po(text: str, where: str = "<po>") -> PoFile:
    """Read a ``.po`` file's text (the subset of the GNU format that gettext tools write)."""
    entries: list[Entry] = []
    entry = Entry("")
    section: str | None = None
    started = False

    def finish() -> None:
        nonlocal entry, section, started
        if started:
            entries.append(entry)
        entry, section, started = Entry(""), None, False

    for number, raw in enumerate(text.splitlines(), start=1):
        here = f"{where}:{number}"
        line = raw.strip()
        obsolete = line.startswith("#~")
        if obsolete:
            line = line[2:].strip()
            entry.obsolete = True
        if not line:
            if started:
                finish()
            continue
        if line.startswith("#"):
            if started and section is not None and not obsolete:
                finish()
            kind, body = line[:2], line[2:].strip()
            if kind == "#.":
                entry.notes.append(body)
            elif kind == "#:":
                entry.places.extend(body.split())
            elif kind == "#,":
                entry.flags.extend(f.strip() for f in body.split(",") if f.strip())
            elif kind == "#|":
                pass  # a previous msgid: not kept
            else:
                entry.comments.append(line[1:].strip() if line != "#" else "")
            continue
        if line.startswith("msgctxt"):
            raise ValueError(f"{here}: msgctxt is not used by the kiosk's catalogues")
        if line.startswith("msgid_plural"):
            section, entry.plural = "plural", _unquote(line[12:], here)
        elif line.startswith("msgid"):
            if section is not None and section != "comment":
                finish()
            started, section, entry.msgid = True, "msgid", _unquote(line[5:], here)
        elif line.startswith("msgstr["):
            if section != "msgstr":
                entry.msgstr = []
            section = "msgstr"
            entry.msgstr.append(_unquote(line[line.index("]") + 1 :], here))
        elif line.startswith("msgstr"):
            section, entry.msgstr = "msgstr", [_unquote(line[6:], here)]
        elif line.startswith('"'):
            piece = _unquote(line, here)
            if section == "msgid":
                entry.msgid += piece
            elif section == "plural":
                entry.plural = (entry.plural or "") + piece
            elif section == "msgstr":
                entry.msgstr[-1] += piece
            else:
                raise ValueError(f"{here}: a string outside any entry")
        else:
            raise ValueError(f"{here}: cannot read {raw!r}")
    finish()
    headers = [e for e in entries if e.msgid == "" and not e.obsolete]
    if not headers:
        raise ValueError(f'{where}: no header entry (msgid "")')
    return PoFile(headers[0], [e for e in entries if e is not headers[0]])


def read_po(path: Path) -> PoFile:
    return parse_po(path.read_text(encoding="utf-8"), str(path))


def _quote(text: str) -> str:
    escaped = (
        text.replace("\\", "\\\\").replace('"', '\\"').replace("\t", "\\t").replace("\n", "\\n")
    )
    return f'"{escaped}"'


def _field(keyword: str, text: str, prefix: str = "") -> list[str]:
    if "\n" in text[:-1]:
        pieces = text.splitlines(keepends=True)
        return [f'{prefix}{keyword} ""'] + [f"{prefix}{_quote(p)}" for p in pieces]
    return [f"{prefix}{keyword} {_quote(text)}"]


def _entry_lines(entry: Entry) -> list[str]:
    prefix = "#~ " if entry.obsolete else ""
    lines = [f"# {c}".rstrip() for c in entry.comments]
    lines += [f"#. {n}" for n in entry.notes]
    if entry.places and not entry.obsolete:
        lines.append("#: " + " ".join(entry.places))
    if entry.flags:
        lines.append("#, " + ", ".join(entry.flags))
    lines += _field("msgid", entry.msgid, prefix)
    if entry.plural is not None:
        lines += _field("msgid_plural", entry.plural, prefix)
        for i, form in enumerate(entry.msgstr):
            lines += _field(f"msgstr[{i}]", form, prefix)
    else:
        lines += _field("msgstr", entry.msgstr[0] if entry.msgstr else "", prefix)
    return lines


def format_po(po: PoFile) -> str:
    blocks = [_entry_lines(po.header)] + [_entry_lines(e) for e in po.entries]
    return "\n\n".join("\n".join(block) for block in blocks) + "\n"


def write_po(po: PoFile, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(format_po(po), encoding="utf-8")


# -- .mo files -------------------------------------------------------------------------------------
def compile_mo(po: PoFile) -> bytes:
    """The ``.mo`` bytes of a catalogue: translated, non-fuzzy entries and the header."""
    messages: dict[bytes, bytes] = {b"": po.header.msgstr[0].encode("utf-8")}
    for entry in po.entries:
        if entry.obsolete or entry.fuzzy or not entry.translated:
            continue
        key = entry.msgid.encode("utf-8")
        if entry.plural is not None:
            key += b"\0" + entry.plural.encode("utf-8")
        messages[key] = b"\0".join(s.encode("utf-8") for s in entry.msgstr)
    keys = sorted(messages)
    ids = strs = b""
    table = []
    for key in keys:
        table.append((len(ids), len(key), len(strs), len(messages[key])))
        ids += key + b"\0"
        strs += messages[key] + b"\0"
    key_start = 7 * 4 + 16 * len(keys)
    value_start = key_start + len(ids)
    key_offsets: list[int] = []
    value_offsets: list[int] = []
    for id_at, id_len, str_at, str_len in table:
        key_offsets += [id_len, id_at + key_start]
        value_offsets += [str_len, str_at + value_start]
    header = struct.pack("<Iiiiiii", 0x950412DE, 0, len(keys), 7 * 4, 7 * 4 + len(keys) * 8, 0, 0)
    offsets = key_offsets + value_offsets
    return header + struct.pack(f"<{len(offsets)}i", *offsets) + ids + strs


# -- the catalogues on disk ------------------------------------------------------------------------
def po_path(code: str) -> Path:
    return LOCALE_DIR / code / "LC_MESSAGES" / f"{DOMAIN}.po"


def mo_path(code: str) -> Path:
    return po_path(code).with_suffix(".mo")


def _header(code: str) -> Entry:
    lang = next(lang for lang in LANGUAGES if lang.code == code)
    review = "source language, complete" if code == DEFAULT_LANGUAGE else NEEDS_REVIEW
    fields = [
        "Project-Id-Version: doorstep-kiosk",
        f"Language: {code}",
        "MIME-Version: 1.0",
        "Content-Type: text/plain; charset=UTF-8",
        "Content-Transfer-Encoding: 8bit",
        f"Plural-Forms: {PLURAL_FORMS[code]}",
        f"{REVIEW_FIELD}: {review}",
    ]
    if code == DEFAULT_LANGUAGE:
        comments = [
            "Doorstep kiosk: the words on the touchscreen, in English (the source language).",
            "Every msgstr repeats its msgid, so the catalogue is complete; an edit here changes",
            "the English on screen without touching the code.",
        ]
    else:
        comments = [
            f"Doorstep kiosk: the words on the touchscreen in {lang.english_name} ({code}).",
            f"{NEEDS_REVIEW_NOTE}: a draft translation started by the project (machine-",
            "assisted), not yet checked by a native speaker. Please correct anything that reads",
            "wrongly, then set X-Review-Status to who reviewed it and when.",
            'Never mark an entry "fuzzy": gettext skips fuzzy entries and the kiosk would show',
            "English instead. Keep every {placeholder} exactly as it is (a test checks them).",
        ]
    text = "".join(f"{f}\n" for f in fields)
    return Entry("", msgstr=[text], comments=comments)


def template(messages: Iterable[Message]) -> PoFile:
    header = _header(DEFAULT_LANGUAGE)
    header.comments = ["Doorstep kiosk: the words to translate (made by kiosk.locale.catalogues)."]
    entries = [
        Entry(
            m.msgid,
            m.plural,
            msgstr=["", ""] if m.plural is not None else [""],
            notes=list(m.notes),
            places=list(m.places),
            flags=["python-brace-format"] if PLACEHOLDER.search(m.msgid) else [],
        )
        for m in messages
    ]
    return PoFile(header, entries)


def nplurals(code: str) -> int:
    return int(re.search(r"nplurals=(\d+)", PLURAL_FORMS[code]).group(1))


def merge(code: str, pot: PoFile, old: PoFile | None) -> PoFile:
    """The catalogue of ``code`` for the template ``pot``, keeping the translations in ``old``."""
    header = old.header if old is not None else _header(code)
    entries: list[Entry] = []
    for new in pot.entries:
        previous = old.find(new.key) if old is not None else None
        forms = nplurals(code) if new.plural is not None else 1
        if previous is not None:
            msgstr = (previous.msgstr + [""] * forms)[:forms]
            comments = previous.comments
        else:
            msgstr, comments = [""] * forms, []
        if code == DEFAULT_LANGUAGE:
            msgstr = [new.msgid] if new.plural is None else [new.msgid, new.plural]
        flags = [f for f in new.flags if f != "fuzzy"]
        entries.append(Entry(new.msgid, new.plural, msgstr, comments, new.notes, new.places, flags))
    if old is not None:
        known = {e.key for e in pot.entries}
        for stale in old.entries:
            if stale.key not in known and stale.translated:
                entries.append(
                    Entry(stale.msgid, stale.plural, stale.msgstr, stale.comments, obsolete=True)
                )
    return PoFile(header, entries)


def update() -> list[Path]:
    pot = template(extract())
    write_po(pot, TEMPLATE)
    written = [TEMPLATE]
    for lang in LANGUAGES:
        path = po_path(lang.code)
        old = read_po(path) if path.exists() else None
        write_po(merge(lang.code, pot, old), path)
        written.append(path)
    return written


def compile_all() -> list[Path]:
    written = []
    for lang in LANGUAGES:
        path = mo_path(lang.code)
        path.write_bytes(compile_mo(read_po(po_path(lang.code))))
        written.append(path)
    return written


def placeholders(text: str) -> set[str]:
    return set(PLACEHOLDER.findall(text))


def problems(
    messages: list[Message] | None = None, override: dict[str, PoFile] | None = None
) -> list[str]:
    """Everything wrong with the catalogues, one sentence each (empty when all is well).

    ``override`` checks a catalogue held in memory instead of the one on disk (tests).
    """
    messages = extract() if messages is None else messages
    wanted = {m.key: m for m in messages}
    found: list[str] = []
    for lang in LANGUAGES:
        path = po_path(lang.code)
        where = path.relative_to(REPO).as_posix()
        if override and lang.code in override:
            po = override[lang.code]
        elif not path.exists():
            found.append(f"{where}: missing (run: python -m kiosk.locale.catalogues update)")
            continue
        else:
            po = read_po(path)
        headers = po.headers
        if headers.get("Plural-Forms") != PLURAL_FORMS[lang.code]:
            found.append(f"{where}: Plural-Forms should be {PLURAL_FORMS[lang.code]!r}")
        if lang.code != DEFAULT_LANGUAGE:
            if headers.get(REVIEW_FIELD) is None:
                found.append(f"{where}: no {REVIEW_FIELD} header")
            if (
                not any(NEEDS_REVIEW_NOTE in c for c in po.header.comments)
                and headers.get(REVIEW_FIELD) == NEEDS_REVIEW
            ):
                found.append(f"{where}: the header comment must say {NEEDS_REVIEW_NOTE!r}")
        for key, message in wanted.items():
            entry = po.find(key)
            if entry is None:
                found.append(f"{where}: no entry for {message.msgid!r} (run update)")
        for entry in po.entries:
            if entry.obsolete:
                continue
            name = f"{where}: {entry.msgid!r}"
            if entry.key not in wanted:
                found.append(f"{name} is no longer used (run update)")
            if entry.fuzzy:
                found.append(f"{name} is marked fuzzy, so gettext would not show it")
            forms = nplurals(lang.code) if entry.plural is not None else 1
            if len(entry.msgstr) != forms:
                found.append(f"{name} has {len(entry.msgstr)} forms, not {forms}")
            if not entry.translated:
                found.append(f"{name} is not translated")
                continue
            expected = placeholders(entry.msgid) | placeholders(entry.plural or "")
            for form in entry.msgstr:
                if placeholders(form) != expected:
                    found.append(
                        f"{name}: placeholders {sorted(placeholders(form))} in {form!r} "
                        f"should be {sorted(expected)}"
                    )
        mo = mo_path(lang.code)
        if not mo.exists() or mo.read_bytes() != compile_mo(po):
            found.append(f"{mo.relative_to(REPO).as_posix()} is out of date (run compile)")
    return found


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    command = args[0] if args else ""
    if command == "update":
        for path in update():
            print(f"wrote {path.relative_to(REPO)}")
        return 0
    if command == "compile":
        for path in compile_all():
            print(f"wrote {path.relative_to(REPO)}")
        return 0
    if command == "check":
        found = problems()
        for problem in found:
            print(problem)
        print("catalogues: " + ("all well" if not found else f"{len(found)} problems"))
        return 1 if found else 0
    print("usage: python -m kiosk.locale.catalogues update|compile|check", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
