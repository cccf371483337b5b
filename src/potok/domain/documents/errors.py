"""What documents and legal entities refuse, each saying what to do about it."""

from __future__ import annotations

from potok.domain.errors import Conflict, NotFound, Rejected


class DocumentNotFound(NotFound):
    code = "document-not-found"
    title = "Document not found"
    template = "There is no document {document_id}."


class SellerMissing(Rejected):
    code = "seller-missing"
    title = "The order has no seller to issue documents"
    template = (
        "Order {order_id} of channel '{channel}' has no seller: register a legal entity with "
        "role 'seller' and list '{channel}' in its channels, or make one the default "
        "(is_default), then issue the document again."
    )


class RequisitesMissing(Rejected):
    """A party lacks what this document must print; ``missing`` lists each thing to fill in."""

    code = "requisites-missing"
    title = "Requisites are missing for this document"
    template = "{document} cannot be issued: fill in {listed}."


class DocumentsForCancelledOrder(Conflict):
    code = "order-cancelled"
    title = "The order is cancelled"
    template = "Order {order_id} is cancelled; documents are not issued for it."


class SellerNotVatPayer(Rejected):
    code = "seller-not-vat-payer"
    title = "The seller does not charge VAT"
    template = (
        "Seller '{seller}' does not charge VAT, so its УПД cannot be a счёт-фактура "
        "(status 1); issue status 2."
    )


class FormatNotAvailable(Conflict):
    code = "format-not-available"
    title = "The document has no such form"
    template = "Document {document_id} ({kind}) is not made as {format}; {hint}"


class CorrectionExists(Conflict):
    code = "correction-exists"
    title = "The document was corrected already"
    template = "Document {document_id} was corrected by document {correction_id}; correct that one."


class PaperNotReady(Conflict):
    """A warehouse paper asked for before the shipment has what it prints."""

    code = "paper-not-ready"
    title = "The shipment is not ready for this paper"
    template = "{paper} of shipment {shipment} ({status}) cannot be printed yet: {step}."


class ParcelNotFound(NotFound):
    code = "parcel-not-found"
    title = "Parcel not found"
    template = "Shipment {shipment} has no parcel {parcel_no}."


class NoShipmentYet(Rejected):
    """Why an order is left out of a bundle of warehouse papers."""

    code = "no-shipment-yet"
    title = "The order has no shipment yet"
    template = "Order {order_id} has not been sent to a warehouse yet: there is nothing to print."


class NothingToPrint(Rejected):
    """A bundle of warehouse papers in which not one paper could be drawn."""

    code = "nothing-to-print"
    title = "None of the chosen orders has this paper to print"
    template = (
        "Of the {orders} orders chosen, none has a shipment whose {kind} can be printed now; "
        "'left_out' says why for each."
    )
