"""Renderers: a document's subject in, PDF or XML bytes out (ReportLab, segno, ElementTree).

Each takes the same two things - a :class:`~potok.domain.documents.Heading` and a
:class:`~potok.domain.documents.Subject` - and nothing else, so the same inputs always give
the same bytes.
"""

from __future__ import annotations

from collections.abc import Callable

from potok.domain.documents import DocumentKind, Heading, Subject

Renderer = Callable[[Heading, Subject], bytes]


def pdf_renderer(kind: DocumentKind) -> Renderer:
    """The PDF renderer of a kind (imported when first needed: ReportLab is large)."""
    if kind is DocumentKind.INVOICE:
        from potok.renderers.invoice import render_invoice

        return render_invoice
    if kind is DocumentKind.TORG12:
        from potok.renderers.torg12 import render_torg12

        return render_torg12
    from potok.renderers.upd import render_upd

    return render_upd


def render_pdf(heading: Heading, subject: Subject) -> bytes:
    return pdf_renderer(heading.kind)(heading, subject)


def render_xml(heading: Heading, subject: Subject) -> tuple[str, bytes]:
    """The УПД's exchange file: its name and its windows-1251 bytes."""
    from potok.renderers.upd_xml import file_name, render_upd_xml

    return file_name(heading, subject), render_upd_xml(heading, subject)
