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


PAPERS = {RenderKind.PICK_LIST, RenderKind.PACKING_SLIP}


DOCUMENT_COLUMNS = [
    Column("id", right=True),
    Column("kind"),
    Column("number", right=True),
    Column("correction_no", "correction", right=True),
    Column("issued_on", "issued"),
    Column("order_id", "order", right=True),
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
        ..., help="invoice, torg12, upd (of an order); pick-list, packing-slip (of a shipment)."
    ),
    ref: int = typer.Argument(
        ..., min=1, max=MAX_ID, help="The order's number, or the shipment's id for its papers."
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
) -> None:
    """Write an order's document (issued now if it has none of this kind, else the one
    issued before, byte for byte) or a shipment's warehouse paper (drawn as it stands)."""
    from potok.domain.documents import DocumentKind, FileFormat, UpdStatus
    from potok.services import documents

    as_xml = xml or (output is not None and output.suffix.lower() == ".xml")
    if as_xml and kind is not RenderKind.UPD:
        errors.print("[bold red]error:[/] only an УПД is made as XML", highlight=False)
        raise typer.Exit(3)
    if kind in PAPERS:
        _render_paper(kind, ref, output)
        return
    potok = open_potok()
    try:
        issued = documents.issue_document(
            cli_uow(potok),
            ref,
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
        f"{kind.value} № {issued.document.display_number} of order {ref} ({state}) "
        f"written to {target} ({len(stored.content)} bytes, sha256 {stored.sha256[:12]}…)",
        highlight=False,
    )


def _render_paper(kind: RenderKind, shipment_id: int, output: Path | None) -> None:
    from potok.services import warehouse_papers

    draw = {
        RenderKind.PICK_LIST: warehouse_papers.pick_list_pdf,
        RenderKind.PACKING_SLIP: warehouse_papers.packing_slip_pdf,
    }[kind]
    potok = open_potok()
    try:
        paper = draw(cli_uow(potok), shipment_id)
    finally:
        potok.close()
    target = output or Path(paper.name)
    target.write_bytes(paper.content)
    console.print(
        f"{kind.value} of shipment {shipment_id} written to {target} ({len(paper.content)} bytes)",
        highlight=False,
    )


@app.command("list")
@handles_errors
def list_documents(
    order_id: int | None = typer.Option(
        None, "--order", min=1, max=MAX_ID, metavar="ID", help="Only this order's."
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
