"""Extract, update, compile and check the kiosk's gettext catalogues, with Babel.

    python -m kiosk.locale.catalogues update    # words from kiosk/ui into kiosk.pot and every .po
    python -m kiosk.locale.catalogues compile   # every .po to its .mo (committed, tested fresh)
    python -m kiosk.locale.catalogues check     # what is missing, stale or inconsistent

Babel (in the ``dev`` extra) reads and writes the files: its Python extractor finds ``_("...")``,
``N_("...")`` and ``ngettext("...", "...", n)`` (also as methods: ``self.app._("...")``) in
``kiosk/ui``; :mod:`kiosk.locale.kv` finds ``app._`` and ``app.ngettext`` in ``.kv`` files. A
``# Translators: ...`` comment just above a call becomes a note for the translator. The kiosk
itself reads the ``.mo`` files with the standard library's :mod:`gettext`, so the Pi needs no
Babel.

What this module adds to Babel: the catalogue headers (a fixed set with no dates, so an update
that changes no word changes no file, and the ``X-Review-Status`` mark a reviewer sets); English
filled in from the code; merges without fuzzy matching, because gettext skips fuzzy entries and
the kiosk would show English; and the checks a test and ``check`` run.
"""

from __future__ import annotations

import io
import re
import sys
from collections.abc import Iterable
from pathlib import Path

try:
    from babel.messages.catalog import Catalog, Message
    from babel.messages.extract import extract_from_file
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import PoFileParser, write_po
except ImportError as missing:  # the Pi's install: it reads .mo files and needs none of this
    raise SystemExit(
        f"{missing}: the catalogue tools need Babel; install the dev extra: "
        '.venv/bin/pip install -e ".[dev]"'
    ) from missing

from kiosk.i18n import DEFAULT_LANGUAGE, DOMAIN, LANGUAGES, LOCALE_DIR

PACKAGE = LOCALE_DIR.parent  # kiosk/
REPO = PACKAGE.parent
SOURCES = PACKAGE / "ui"
TEMPLATE = LOCALE_DIR / f"{DOMAIN}.pot"
PROJECT = "doorstep-kiosk"

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

#: How Babel finds the words: which extractor reads which files under ``kiosk/ui``.
METHODS = {".py": "python", ".kv": "kiosk.locale.kv:extract_kv"}
KEYWORDS = {"_": None, "N_": None, "ngettext": (1, 2)}
COMMENT_TAGS = ("Translators:",)
PLACEHOLDER = re.compile(r"(?<!\{)\{([A-Za-z_][A-Za-z0-9_]*)[^{}]*\}(?!\})")


class KioskCatalog(Catalog):
    """Babel's catalogue with the kiosk's headers: the fields below, any ``X-`` field, no dates."""

    def __init__(self, *args, **kwargs) -> None:
        self.extra_headers: dict[str, str] = {}
        super().__init__(*args, **kwargs)

    def _set_mime_headers(self, headers: Iterable[tuple[str, str]]) -> None:
        headers = list(headers)
        super()._set_mime_headers(headers)
        for name, value in headers:
            if name.lower().startswith("x-"):
                self.extra_headers[name] = value.strip()

    def _get_mime_headers(self) -> list[tuple[str, str]]:
        fields = [
            ("Project-Id-Version", PROJECT),
            ("Language", str(self.locale_identifier)),
            ("MIME-Version", "1.0"),
            ("Content-Type", "text/plain; charset=UTF-8"),
            ("Content-Transfer-Encoding", "8bit"),
            ("Plural-Forms", self.plural_forms),
            *self.extra_headers.items(),
        ]
        # Babel joins the fields with newlines; gettext's tools end the last one too.
        name, value = fields[-1]
        fields[-1] = (name, value + "\n")
        return fields


# -- messages in the code --------------------------------------------------------------------------
def source_files(root: Path = SOURCES) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.suffix in METHODS and p.is_file())


def _new_catalog(code: str) -> KioskCatalog:
    catalog = KioskCatalog(locale=code, domain=DOMAIN, project=PROJECT, fuzzy=False)
    review = "source language, complete" if code == DEFAULT_LANGUAGE else NEEDS_REVIEW
    catalog.mime_headers = [("Plural-Forms", PLURAL_FORMS[code]), (REVIEW_FIELD, review)]
    return catalog


def extract(root: Path = SOURCES) -> KioskCatalog:
    """The template: every message marked for translation under ``root``, in order of appearance."""
    template = _new_catalog(DEFAULT_LANGUAGE)
    template.header_comment = (
        "# Doorstep kiosk: the words to translate (made by kiosk.locale.catalogues)."
    )
    for path in source_files(root):
        place = path.relative_to(REPO).as_posix()
        found = extract_from_file(
            METHODS[path.suffix],
            path,
            keywords=KEYWORDS,
            comment_tags=COMMENT_TAGS,
            strip_comment_tags=True,
        )
        for line, message, notes, _context in found:
            template.add(message, "", locations=[(place, line)], auto_comments=notes)
    return template


# -- the catalogues on disk ------------------------------------------------------------------------
def po_path(code: str) -> Path:
    return LOCALE_DIR / code / "LC_MESSAGES" / f"{DOMAIN}.po"


def mo_path(code: str) -> Path:
    return po_path(code).with_suffix(".mo")


def parse_po(text: str, where: str = "<po>") -> KioskCatalog:
    """A ``.po`` file's text as a catalogue; a malformed file is an error naming its line."""
    catalog = KioskCatalog(fuzzy=False)
    parser = PoFileParser(catalog, abort_invalid=True)
    try:
        parser.parse(io.StringIO(text))
    except Exception as error:
        raise ValueError(f"{where}: {error}") from error
    return catalog


def read_po(path: Path) -> KioskCatalog:
    return parse_po(path.read_text(encoding="utf-8"), str(path))


def format_po(catalog: Catalog) -> str:
    out = io.BytesIO()
    write_po(out, catalog, width=0)
    return out.getvalue().decode("utf-8")


def write_catalog(catalog: Catalog, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(format_po(catalog), encoding="utf-8")


def compile_mo(catalog: Catalog) -> bytes:
    """The ``.mo`` bytes of a catalogue: translated, non-fuzzy entries and the header."""
    out = io.BytesIO()
    write_mo(out, catalog, use_fuzzy=False)
    return out.getvalue()


# -- reading entries -------------------------------------------------------------------------------
def entries(catalog: Catalog) -> list[Message]:
    """The catalogue's messages, without the header."""
    return [m for m in catalog if m.id]


def msgid(message: Message) -> str:
    return message.id[0] if isinstance(message.id, (list, tuple)) else message.id


def plural(message: Message) -> str | None:
    return message.id[1] if isinstance(message.id, (list, tuple)) else None


def forms(message: Message) -> list[str]:
    """The translation: one string, or one per plural form."""
    if isinstance(message.string, (list, tuple)):
        return list(message.string)
    return [message.string]


def translated(message: Message) -> bool:
    return all(forms(message))


def nplurals(code: str) -> int:
    return int(re.search(r"nplurals=(\d+)", PLURAL_FORMS[code]).group(1))


def placeholders(text: str) -> set[str]:
    return set(PLACEHOLDER.findall(text))


# -- update and compile ----------------------------------------------------------------------------
def merge(code: str, template: Catalog, old: KioskCatalog | None) -> KioskCatalog:
    """The catalogue of ``code`` for ``template``, keeping every translation in ``old``."""
    catalog = old if old is not None else _new_catalog(code)
    if old is None and code != DEFAULT_LANGUAGE:
        lang = next(lang for lang in LANGUAGES if lang.code == code)
        catalog.header_comment = "\n".join(
            f"# {line}"
            for line in (
                f"Doorstep kiosk: the words on the touchscreen in {lang.english_name} ({code}).",
                f"{NEEDS_REVIEW_NOTE}: a draft translation started by the project (machine-",
                "assisted), not yet checked by a native speaker. Please correct anything that",
                "reads wrongly, then set X-Review-Status to who reviewed it and when.",
                'Never mark an entry "fuzzy": gettext skips fuzzy entries and the kiosk would',
                "show English instead. Keep every {placeholder} exactly as it is (a test checks).",
            )
        )
    catalog.update(template, no_fuzzy_matching=True, update_creation_date=False)
    for message in entries(catalog):
        message.flags.discard("fuzzy")
        if code == DEFAULT_LANGUAGE:
            message.string = message.id
        elif plural(message) is not None:
            message.string = tuple((forms(message) + [""] * nplurals(code))[: nplurals(code)])
    for stale in [key for key, message in catalog.obsolete.items() if not translated(message)]:
        del catalog.obsolete[stale]
    return catalog


def update() -> list[Path]:
    template = extract()
    write_catalog(template, TEMPLATE)
    written = [TEMPLATE]
    for lang in LANGUAGES:
        path = po_path(lang.code)
        old = read_po(path) if path.exists() else None
        write_catalog(merge(lang.code, template, old), path)
        written.append(path)
    return written


def compile_all() -> list[Path]:
    written = []
    for lang in LANGUAGES:
        path = mo_path(lang.code)
        path.write_bytes(compile_mo(read_po(po_path(lang.code))))
        written.append(path)
    return written


# -- check -----------------------------------------------------------------------------------------
def problems(
    template: Catalog | None = None, override: dict[str, KioskCatalog] | None = None
) -> list[str]:
    """Everything wrong with the catalogues, one sentence each (empty when all is well).

    ``override`` checks a catalogue held in memory instead of the one on disk (tests).
    """
    template = extract() if template is None else template
    wanted = {msgid(m): m for m in entries(template)}
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
        if po.plural_forms != PLURAL_FORMS[lang.code]:
            found.append(f"{where}: Plural-Forms should be {PLURAL_FORMS[lang.code]!r}")
        if lang.code != DEFAULT_LANGUAGE:
            review = po.extra_headers.get(REVIEW_FIELD)
            if review is None:
                found.append(f"{where}: no {REVIEW_FIELD} header")
            if NEEDS_REVIEW_NOTE not in po.header_comment and review == NEEDS_REVIEW:
                found.append(f"{where}: the header comment must say {NEEDS_REVIEW_NOTE!r}")
        for key, message in wanted.items():
            entry = po.get(key)
            if entry is None or plural(entry) != plural(message):
                found.append(f"{where}: no entry for {key!r} (run update)")
        for entry in entries(po):
            name = f"{where}: {msgid(entry)!r}"
            if msgid(entry) not in wanted:
                found.append(f"{name} is no longer used (run update)")
            if entry.fuzzy:
                found.append(f"{name} is marked fuzzy, so gettext would not show it")
            count = nplurals(lang.code) if plural(entry) is not None else 1
            if len(forms(entry)) != count:
                found.append(f"{name} has {len(forms(entry))} forms, not {count}")
            if not translated(entry):
                found.append(f"{name} is not translated")
                continue
            expected = placeholders(msgid(entry)) | placeholders(plural(entry) or "")
            for form in forms(entry):
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
