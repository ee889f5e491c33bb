"""Make the kiosk's Urdu font, Doorstep Naskh, from Noto Naskh Arabic (SIL Open Font License 1.1).

    apt-get install fonts-noto-core          # Debian's Noto fonts (20201225-1 was used)
    .venv/bin/python kiosk/ui/fonts/make_fonts.py [/usr/share/fonts/truetype/noto]

Only two things change, so the letters are Noto Naskh Arabic 2.004's own:

- the vertical metrics: Noto Naskh keeps 1.07 em above and 0.63 em below the baseline for
  stacked vowel marks that Urdu words here do not use. SDL draws every line of text into a
  box that tall and lays each line's box over the line above, so a letter's tail below the
  baseline (ی ں ے) was wiped out by the next line. The box here is 0.85 em up and 0.40 em down,
  which holds every letter the catalogues use (``tests/i18n`` checks it with fontTools);
- the names: a Modified Version under the OFL is not presented under the original's name, so
  it is "Doorstep Naskh" (Noto is also a trademark of Google LLC). The copyright and licence
  entries are kept, and the licence is in ``OFL.txt`` beside the fonts.

Needs fontTools (a dev dependency; the kiosk itself only reads the .ttf files).
"""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
SOURCE = Path("/usr/share/fonts/truetype/noto")
FAMILY = "Doorstep Naskh"
#: The line box, in em: what SDL reserves above and below the baseline.
ASCENT = 0.85
DESCENT = 0.40
STYLES = ("Regular", "Bold")


def target(style: str) -> Path:
    return HERE / f"DoorstepNaskh-{style}.ttf"


def make(source: Path, style: str) -> Path:
    from fontTools.ttLib import TTFont

    font = TTFont(source / f"NotoNaskhArabic-{style}.ttf")
    upem = font["head"].unitsPerEm
    up, down = round(ASCENT * upem), round(DESCENT * upem)
    hhea, os2 = font["hhea"], font["OS/2"]
    hhea.ascent, hhea.descent, hhea.lineGap = up, -down, 0
    os2.sTypoAscender, os2.sTypoDescender, os2.sTypoLineGap = up, -down, 0
    os2.usWinAscent, os2.usWinDescent = up, down
    original = font["name"].getDebugName(5) or ""
    names = {
        1: FAMILY,
        2: style,
        3: f"{original.split(';')[0]};DOORSTEP;DoorstepNaskh-{style}",
        4: f"{FAMILY} {style}" if style != "Regular" else FAMILY,
        6: f"DoorstepNaskh-{style}",
        10: (
            f"Noto Naskh Arabic {style} with a tighter line box ({ASCENT} em up, {DESCENT} em "
            "down) for the Doorstep kiosk; the glyphs are unchanged. Licensed under the SIL "
            "Open Font License 1.1."
        ),
        16: FAMILY,
        17: style,
    }
    table = font["name"]
    for record in list(table.names):
        if record.nameID in (16, 17, 21, 22):
            table.removeNames(nameID=record.nameID)
    for name_id, text in names.items():
        table.setName(text, name_id, 3, 1, 0x409)
        table.setName(text, name_id, 1, 0, 0)
    path = target(style)
    font.save(path)
    return path


def main(argv: list[str]) -> int:
    source = Path(argv[0]) if argv else SOURCE
    for style in STYLES:
        if not (source / f"NotoNaskhArabic-{style}.ttf").exists():
            print(f"{source}: no NotoNaskhArabic-{style}.ttf (apt-get install fonts-noto-core)")
            return 1
    for style in STYLES:
        print(f"wrote {make(source, style)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
