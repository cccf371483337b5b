"""The typefaces every PDF uses: PT Sans and PT Sans Narrow, from their PyPI packages.

ParaType made PT Sans for the Russian public-use font project, so it has every Cyrillic
letter and the ₽ sign; the narrow cut fits the many columns of ТОРГ-12 and УПД. The files
come with the declared dependencies ``fontpkg-pt-sans`` and ``fontpkg-pt-sans-narrow``,
never from whatever the machine happens to have installed. Each PDF embeds the subset it
uses.

The web cuts carry TrueType hinting (bytecode per glyph and its tables), which ReportLab
copies into every subset although PDF readers scale outlines without it: it is stripped
once per process with fontTools, which makes each PDF about half the size and its
rendering about three times faster. The outlines are the same.
"""

from __future__ import annotations

import io
import threading
from pathlib import Path

import fontpkg
from fontTools.ttLib import TTFont as FontFile
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont

REGULAR = "PTSans"
BOLD = "PTSans-Bold"
NARROW = "PTSansNarrow"
NARROW_BOLD = "PTSansNarrow-Bold"

_FACES = {
    REGULAR: ("PT Sans", 400),
    BOLD: ("PT Sans", 700),
    NARROW: ("PT Sans Narrow", 400),
    NARROW_BOLD: ("PT Sans Narrow", 700),
}
_lock = threading.Lock()
_registered = False


def register_fonts() -> None:
    """Make the faces known to ReportLab, once per process."""
    global _registered
    if _registered:
        return
    with _lock:
        if _registered:
            return
        for name, (family, weight) in _FACES.items():
            pdfmetrics.registerFont(TTFont(name, _without_hinting(fontpkg.path(family, weight))))
        _registered = True


_HINTING_TABLES = ("fpgm", "prep", "cvt ", "hdmx", "LTSH", "VDMX", "DSIG")


def _without_hinting(path: Path) -> io.BytesIO:
    """The font with its hinting (and the signature that covered it) taken out."""
    font = FontFile(str(path))
    for table in _HINTING_TABLES:
        if table in font:
            del font[table]
    glyphs = font["glyf"]
    for name in font.getGlyphOrder():
        glyph = glyphs[name]
        glyph.expand(glyphs)
        glyph.removeHinting()
    data = io.BytesIO()
    font.save(data)
    data.seek(0)
    return data
