"""``potok documents`` and ``potok legal-entities``: render, list and correct documents;
register sellers and buyers; sell an order to a buyer."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Any

import typer

from potok.cli.common import (
    MAX_ID,
    OUTPUT,
    Column,
    Output,
    cli_actor,
    cli_uow,
    console,
    errors,
    handles_errors,
    open_potok,
    print_listing,
)

app = typer.Typer(
    help="Documents of orders: invoice, ТОРГ-12, УПД (PDF, and XML for ЭДО).",
    no_args_is_help=True,
)
entities = typer.Typer(
    help="Legal entities: the seller(s) and B2B buyers, with checked requisites.",
    no_args_is_help=True,
)


class IssuedKind(StrEnum):
    INVOICE = "invoice"
    TORG12 = "torg12"
    UPD = "upd"


class RenderKind(StrEnum):
    INVOICE = "invoice"
    TORG12 = "torg12"
    UPD = "upd"
    PICK_LIST = "pick-list"
    PACKING_SLIP = "packing-slip"
    LABEL = "label"
    WAVE_SHEET = "wave-sheet"


PAPERS = {RenderKind.PICK_LIST, RenderKind.PACKING_SLIP, RenderKind.LABEL}


class LabelSizeOption(StrEnum):
    LARGE = "100x150"
    SMALL = "58x60"


DOCUMENT_COLUMNS = [
    Column("id", right=True),
    Column("kind"),
    Column("number", right=True),
    Column("correction_no", "correction", right=True),
    Column("issued_on", "issued"),
    Column("order_id", "order", right=True),
    Column("shipment_id", "shipment", right=True),
    Column("seller"),
    Column("buyer"),
    Column("total", right=True),
    Column("corrected_by", "replaced by", right=True),
]
ENTITY_COLUMNS = [
    Column("code"),
    Column("role"),
    Column("name"),
    Column("inn", "ИНН"),
    Column("kpp", "КПП"),
    Column("vat_payer", "VAT"),
    Column("is_default", "default"),
    Column("channels"),
    Column("edo_id", "ЭДО id"),
]


# ---------------------------------------------------------------------- documents


@app.command("render")
@handles_errors
def render(
    kind: RenderKind = typer.Argument(
        ...,
        help="invoice, torg12, upd (of an order); pick-list, packing-slip, label (of a "
        "shipment); wave-sheet (of a wave).",
    ),
    ref: str = typer.Argument(
        ...,
        help="The order's number; the shipment's id for its papers; the wave's number "
        "(W-000012) for its sheet.",
    ),
    output: Path | None = typer.Option(
        None, "--output", "-o", help="Where to write the file (default: its own name here)."
    ),
    xml: bool = typer.Option(
        False, "--xml", help="The УПД's XML exchange file (also chosen by an -o ending in .xml)."
    ),
    upd_status: int | None = typer.Option(
        None, "--status", min=1, max=2, help="УПД: 1 with счёт-фактура, 2 transfer only."
    ),
    parcel: int | None = typer.Option(
        None, "--parcel", min=1, max=10_000, help="label: this parcel's only (default: every one)."
    ),
    size: LabelSizeOption = typer.Option(
        LabelSizeOption.LARGE, "--size", help="label: 100x150 or 58x60 (mm)."
    ),
    shipment: bool = typer.Option(
        False, "--shipment", help="torg12, upd: of shipment REF (what it packed), not of an order."
    ),
) -> None:
    """Write an order's document (issued now if it has none of this kind, else the one
    issued before, byte for byte) or a shipment's warehouse paper (drawn as it stands)."""
    from potok.domain.documents import DocumentKind, FileFormat, UpdStatus
    from potok.services import documents

    as_xml = xml or (output is not None and output.suffix.lower() == ".xml")
    if as_xml and kind is not RenderKind.UPD:
        errors.print("[bold red]error:[/] only an УПД is made as XML", highlight=False)
        raise typer.Exit(3)
    if kind is RenderKind.WAVE_SHEET:
        _render_wave_sheet(ref, output)
        return
    number = _number(ref)
    if kind in PAPERS:
        _render_paper(kind, number, output, parcel=parcel, size=size)
        return
    if shipment and kind is RenderKind.INVOICE:
        errors.print(
            "[bold red]error:[/] an invoice is the order's; a shipment has a torg12 or an upd",
            highlight=False,
        )
        raise typer.Exit(3)
    issue = documents.issue_shipment_document if shipment else documents.issue_document
    potok = open_potok()
    try:
        issued = issue(
            cli_uow(potok),
            number,
            DocumentKind(kind.value),
            cli_actor(),
            upd_status=UpdStatus(upd_status) if upd_status else None,
        )
        fmt = FileFormat.XML if as_xml else FileFormat.PDF
        stored = documents.document_file(cli_uow(potok), issued.document.id, fmt)
    finally:
        potok.close()
    target = output or Path(stored.name)
    target.write_bytes(stored.content)
    state = "issued" if issued.created else "already issued"
    console.print(
        f"{kind.value} № {issued.document.display_number} of {'shipment' if shipment else 'order'}"
        f" {ref} ({state}) "
        f"written to {target} ({len(stored.content)} bytes, sha256 {stored.sha256[:12]}…)",
        highlight=False,
    )


def _number(ref: str) -> int:
    """An order's number or a shipment's id, as typed; a plain message when it is not one."""
    if not (ref.isascii() and ref.isdigit() and 1 <= int(ref) <= MAX_ID):
        errors.print(
            f"[bold red]error:[/] '{ref}' is not an order number or a shipment id (1-{MAX_ID})",
            highlight=False,
        )
        raise typer.Exit(3)
    return int(ref)


def _render_paper(
    kind: RenderKind,
    shipment_id: int,
    output: Path | None,
    *,
    parcel: int | None,
    size: LabelSizeOption,
) -> None:
    from potok.domain.documents.papers import LabelSize
    from potok.services import warehouse_papers

    potok = open_potok()
    try:
        uow = cli_uow(potok)
        if kind is RenderKind.LABEL:
            paper = warehouse_papers.labels_pdf(uow, shipment_id, LabelSize(size.value), parcel)
        elif kind is RenderKind.PACKING_SLIP:
            paper = warehouse_papers.packing_slip_pdf(uow, shipment_id)
        else:
            paper = warehouse_papers.pick_list_pdf(uow, shipment_id)
    finally:
        potok.close()
    _write(paper.name, paper.content, output, f"{kind.value} of shipment {shipment_id}")


def _render_wave_sheet(number: str, output: Path | None) -> None:
    from potok.services import warehouse_papers

    potok = open_potok()
    try:
        paper = warehouse_papers.wave_sheet_pdf(cli_uow(potok), number)
    finally:
        potok.close()
    _write(paper.name, paper.content, output, f"sheet of wave {number}")


def _write(name: str, content: bytes, output: Path | None, what: str) -> None:
    target = output or Path(name)
    target.write_bytes(content)
    console.print(f"{what} written to {target} ({len(content)} bytes)", highlight=False)


@app.command("list")
@handles_errors
def list_documents(
    order_id: int | None = typer.Option(
        None, "--order", min=1, max=MAX_ID, metavar="ID", help="Only this order's."
    ),
    shipment_id: int | None = typer.Option(
        None, "--shipment", min=1, max=MAX_ID, metavar="ID", help="Only this shipment's."
    ),
    kind: IssuedKind | None = typer.Option(None, "--kind", help="invoice, torg12 or upd."),
    seller: str | None = typer.Option(None, "--seller", help="A seller's code."),
    limit: int = typer.Option(50, min=1, max=500, help="At most this many, newest first."),
    output: Output = OUTPUT,
) -> None:
    """Issued documents, newest first."""
    from potok.domain.documents import DocumentKind
    from potok.services import documents

    potok = open_potok()
    try:
        page = documents.list_documents(
            cli_uow(potok),
            order_id=order_id,
            shipment_id=shipment_id,
            kind=DocumentKind(kind.value) if kind else None,
            seller=seller,
            limit=limit,
        )
    finally:
        potok.close()
    rows = [
        {
            "id": d.id,
            "kind": d.kind,
            "number": d.number,
            "correction_no": d.correction_no,
            "issued_on": d.issued_on,
            "order_id": d.order_id,
            "shipment_id": d.shipment_id,
            "seller": d.seller_code,
            "buyer": d.subject.buyer.display_name,
            "total": d.total,
            "corrected_by": d.corrected_by,
        }
        for d in page.items
    ]
    print_listing(
        rows,
        DOCUMENT_COLUMNS,
        output,
        empty="no documents",
        more="more documents exist; raise --limit" if page.next_cursor else None,
    )


@app.command("correct")
@handles_errors
def correct(
    document_id: int = typer.Argument(..., min=1, max=MAX_ID, help="The document's id."),
) -> None:
    """Issue a correction of a document from the order and requisites as they are now."""
    from potok.services import documents

    potok = open_potok()
    try:
        fixed = documents.correct_document(cli_uow(potok), document_id, cli_actor())
    finally:
        potok.close()
    console.print(
        f"document {fixed.id}: {fixed.kind.value} № {fixed.display_number}, correction "
        f"{fixed.correction_no} of document {document_id}",
        highlight=False,
    )


@app.command("buyer")
@handles_errors
def set_buyer(
    order_id: int = typer.Argument(..., min=1, max=MAX_ID, help="The order's number."),
    code: str | None = typer.Argument(None, help="A buyer's code; leave out to clear it."),
) -> None:
    """Sell a B2B order to a registered buyer (documents name it as the buyer)."""
    from potok.services import documents

    potok = open_potok()
    try:
        view = documents.set_order_buyer(cli_uow(potok), order_id, code, cli_actor())
    finally:
        potok.close()
    console.print(
        f"order {order_id} is sold to {code or 'its customer'} (version {view.order.version})",
        highlight=False,
    )


# ---------------------------------------------------------------------- legal entities


def _draft_from(path: Path) -> Any:
    """A legal entity from a JSON file shaped like the API's body."""
    from pydantic import ValidationError

    from potok.api.schemas.documents import LegalEntityIn
    from potok.domain.errors import FieldError, InvalidInput

    try:
        return LegalEntityIn.model_validate_json(path.read_bytes()).draft()
    except OSError as error:
        raise InvalidInput([FieldError("file", str(error), "unreadable")]) from None
    except ValidationError as error:
        raise InvalidInput(
            [
                FieldError(".".join(str(p) for p in e["loc"]) or "body", e["msg"], e["type"])
                for e in error.errors()
            ]
        ) from None


@entities.command("add")
@handles_errors
def add_entity(
    file: Path = typer.Argument(..., help="JSON with the entity, as POST /api/v1/legal-entities"),
) -> None:
    """Register a seller or a buyer; wrong requisites are refused, each one named."""
    from potok.services import legal_entities

    draft = _draft_from(file)
    potok = open_potok()
    try:
        entity = legal_entities.create_legal_entity(cli_uow(potok), draft)
    finally:
        potok.close()
    console.print(f"{entity.role.value} '{entity.code}' registered: {entity.name}", highlight=False)


@entities.command("replace")
@handles_errors
def replace_entity(
    code: str = typer.Argument(..., help="The entity's code."),
    file: Path = typer.Argument(..., help="JSON with the entity's new requisites."),
) -> None:
    """Replace an entity's requisites (issued documents keep theirs)."""
    from potok.services import legal_entities

    draft = _draft_from(file)
    potok = open_potok()
    try:
        entity = legal_entities.replace_legal_entity(cli_uow(potok), code, draft)
    finally:
        potok.close()
    console.print(f"{entity.role.value} '{entity.code}' replaced", highlight=False)


@entities.command("list")
@handles_errors
def list_entities(
    role: str | None = typer.Option(None, "--role", help="seller or buyer."),
    limit: int = typer.Option(100, min=1, max=500, help="At most this many."),
    output: Output = OUTPUT,
) -> None:
    """Sellers and buyers with their tax numbers."""
    from potok.domain.documents import EntityRole
    from potok.domain.errors import FieldError, InvalidInput
    from potok.services import legal_entities

    if role is not None and role not in {r.value for r in EntityRole}:
        raise InvalidInput([FieldError("--role", "must be seller or buyer", "bad-role")])
    potok = open_potok()
    try:
        page = legal_entities.list_legal_entities(
            cli_uow(potok), role=EntityRole(role) if role else None, limit=limit
        )
    finally:
        potok.close()
    rows = [
        {
            "code": e.code,
            "role": e.role,
            "name": e.display_name,
            "inn": e.inn,
            "kpp": e.kpp,
            "vat_payer": e.vat_payer,
            "is_default": e.is_default,
            "channels": list(e.channels),
            "edo_id": e.edo_id,
        }
        for e in page.items
    ]
    print_listing(
        rows,
        ENTITY_COLUMNS,
        output,
        empty="no legal entities",
        more="more exist; raise --limit" if page.next_cursor else None,
    )
