"""The typefaces every PDF uses: PT Sans and PT Sans Narrow, from their PyPI packages.

ParaType made PT Sans for the Russian public-use font project, so it has every Cyrillic
letter and the ₽ sign; the narrow cut fits the many columns of ТОРГ-12 and УПД. The files
come with the declared dependencies ``fontpkg-pt-sans`` and ``fontpkg-pt-sans-narrow``,
never from whatever the machine happens to have installed. Each PDF embeds the subset it
uses.
"""

from __future__ import annotations

import threading

import fontpkg
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
            pdfmetrics.registerFont(TTFont(name, str(fontpkg.path(family, weight))))
        _registered = True
