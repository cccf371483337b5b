"""Names people read for the codes the API speaks (statuses, roles, kinds), marked for
translation; templates show them through gettext, so they follow the chosen language."""

from __future__ import annotations


def N_(text: str) -> str:  # noqa: N802 - the conventional name of a translation marker
    """Marks ``text`` for the catalogue; it is translated where it is shown."""
    return text


STATUS = {
    "new": N_("New"),
    "confirmed": N_("Confirmed"),
    "on_hold": N_("On hold"),
    "backordered": N_("Backordered"),
    "reserved": N_("Reserved"),
    "in_fulfilment": N_("In fulfilment"),
    "partially_shipped": N_("Partially shipped"),
    "shipped": N_("Shipped"),
    "delivered": N_("Delivered"),
    "failed_delivery": N_("Failed delivery"),
    "returned_to_sender": N_("Returned to sender"),
    "partially_returned": N_("Partially returned"),
    "returned": N_("Returned"),
    "cancelled": N_("Cancelled"),
}

PAYMENT = {
    "not_required": N_("Not required"),
    "pending": N_("Pending"),
    "authorized": N_("Authorised"),
    "paid": N_("Paid"),
    "partially_refunded": N_("Partially refunded"),
    "refunded": N_("Refunded"),
    "failed": N_("Failed"),
}

PAYMENT_METHOD = {
    "online": N_("Paid online"),
    "cash_on_delivery": N_("Cash on delivery"),
    "card_on_delivery": N_("Card on delivery"),
    "invoice": N_("By invoice"),
    "marketplace": N_("Paid to the marketplace"),
    "in_store": N_("At the till"),
}

HOLD = {
    "payment": N_("Payment"),
    "fraud": N_("Fraud check"),
    "address": N_("Address check"),
    "manual": N_("Manual"),
}

HOLD_STATE = {"active": N_("Active"), "released": N_("Released"), "expired": N_("Expired")}

RESERVATION = {
    "open": N_("Open"),
    "released": N_("Released"),
    "consumed": N_("Consumed"),
    "expired": N_("Expired"),
    "moved": N_("Moved"),
}

DELIVERY = {"courier": N_("Courier"), "pickup": N_("Pickup point")}

ROLE = {
    "admin": N_("Administrator"),
    "manager": N_("Manager"),
    "operator": N_("Operator"),
    "warehouse": N_("Warehouse staff"),
    "analyst": N_("Analyst"),
    "integration": N_("Integration"),
}

LOCATION_TYPE = {
    "warehouse": N_("Warehouse"),
    "store": N_("Store"),
    "pickup_point": N_("Pickup point"),
}

TRANSFER = {
    "requested": N_("Requested"),
    "shipped": N_("Shipped"),
    "received": N_("Received"),
    "cancelled": N_("Cancelled"),
}

PURCHASE_ORDER = {
    "open": N_("Open"),
    "partially_received": N_("Partially received"),
    "received": N_("Received"),
    "cancelled": N_("Cancelled"),
}

HISTORY = {
    "created": N_("Order taken"),
    "confirmed": N_("Confirmed"),
    "cancelled": N_("Cancelled"),
    "expired": N_("Expired unpaid"),
    "reserved": N_("Stock reserved"),
    "backordered": N_("Backordered"),
    "replanned": N_("Sourced again"),
    "released": N_("Reservations released"),
    "reservation_released": N_("Reservation released"),
    "transfer_received": N_("Transfer arrived"),
    "hold_placed": N_("Put on hold"),
    "hold_released": N_("Hold released"),
    "hold_expired": N_("Hold expired"),
    "payment": N_("Payment changed"),
    "payment_changed": N_("Payment changed"),
    "shortage": N_("Short at the shelf"),
    "transfer_requested": N_("Transfer requested"),
    "transfer_shipped": N_("Transfer shipped"),
    "transfer_cancelled": N_("Transfer cancelled"),
    "transfer_skipped": N_("Transfer not needed"),
    "buyer_set": N_("Buyer set"),
    "buyer_removed": N_("Buyer removed"),
    "edited": N_("Order edited"),
    "shipment_released": N_("Sent to the warehouse"),
    "picking_started": N_("Picking started"),
    "short_picked": N_("Short at the shelf"),
    "handed_over": N_("Handed over"),
    "shipment_in_transit": N_("In transit"),
    "shipment_ready_for_pickup": N_("At the pickup point"),
    "shipment_delivered": N_("Delivered"),
    "shipment_failed_delivery": N_("Delivery failed"),
    "shipment_returning": N_("Returning to the sender"),
    "shipment_returned_to_sender": N_("Back at the warehouse"),
    "shipment_cancelled": N_("Shipment cancelled"),
    "return_requested": N_("Return asked"),
    "return_approved": N_("Return approved"),
    "return_declined": N_("Return declined"),
    "return_received": N_("Return received"),
    "return_inspected": N_("Return inspected"),
    "return_exchanged": N_("Replacement sent"),
    "return_closed": N_("Return closed"),
    "refund_paid": N_("Refund paid"),
    "refund_failed": N_("Refund failed"),
    "receipt_corrected": N_("Receipt corrected"),
    "receipt_resent": N_("Receipt sent again"),
}

SHIPMENT = {
    "pending": N_("Waiting for picking"),
    "picking": N_("Picking"),
    "packed": N_("Packed"),
    "handed_over": N_("Handed over"),
    "in_transit": N_("In transit"),
    "ready_for_pickup": N_("At the pickup point"),
    "delivered": N_("Delivered"),
    "failed_delivery": N_("Delivery failed"),
    "returning": N_("Returning to the sender"),
    "returned_to_sender": N_("Back at the warehouse"),
    "cancelled": N_("Cancelled"),
}

WAVE = {
    "open": N_("Not started"),
    "picking": N_("Picking"),
    "done": N_("Done"),
    "cancelled": N_("Cancelled"),
}

STEP = {
    "created": N_("Sent to the warehouse"),
    "picking_started": N_("Picking started"),
    "picked": N_("Picked"),
    "short_picked": N_("Short at the shelf"),
    "items_added": N_("Units added"),
    "parcel_packed": N_("Parcel packed"),
    "packed": N_("Packed"),
    "parcel_opened": N_("Parcel opened"),
    "booked": N_("Booked with the carrier"),
    "booking_called_off": N_("Booking called off with the carrier"),
    "booking_delayed": N_("Booking delayed: the carrier is down"),
    "carrier_label_ready": N_("Carrier's label ready"),
    "carrier_label_failed": N_("Carrier's label refused"),
    "handed_over": N_("Handed over"),
    "tracking": N_("Tracking"),
    "storage_deadline_corrected": N_("Storage deadline corrected"),
    "in_transit": N_("In transit"),
    "ready_for_pickup": N_("At the pickup point"),
    "delivered": N_("Delivered"),
    "failed_delivery": N_("Delivery failed"),
    "returning": N_("Returning to the sender"),
    "returned_to_sender": N_("Back at the warehouse"),
    "cancelled": N_("Cancelled"),
}

DOCUMENT = {
    "invoice": N_("Invoice for payment"),
    "torg12": N_("Waybill TORG-12"),
    "upd": N_("Universal transfer document (UPD)"),
}

IDENTIFIER = {
    "marking": N_("Marking code"),
    "imei": N_("IMEI"),
    "uin": N_("UIN"),
}

ALERT = {
    "order_backordered_after_rerouting": N_("Backordered after re-routing"),
    "location_ships_without_tariff": N_("Ships without a tariff"),
    "marketplace_item_not_mapped": N_("Marketplace item not mapped"),
    "carrier_refused_booking": N_("Carrier refused a booking"),
    "carrier_booking_failing": N_("Carrier booking keeps failing"),
    "cod_short_paid": N_("Carrier remitted less cash on delivery"),
    "marketplace_stock_refused": N_("Marketplace refused an item's stock"),
    "marketplace_update_refused": N_("Marketplace refused an order update"),
    "webhook_paused": N_("Webhook paused after failures"),
    "fiscal_receipt_failed": N_("Fiscal receipt failed"),
    "refund_refused": N_("Payment gateway refused a refund"),
}


RETURN = {
    "requested": N_("Requested"),
    "approved": N_("Approved"),
    "declined": N_("Declined"),
    "received": N_("Received"),
    "inspected": N_("Inspected"),
    "closed": N_("Closed"),
}

RETURN_REASON = {
    "changed_mind": N_("Changed their mind"),
    "wrong_size": N_("Wrong size"),
    "defective": N_("Defective"),
    "damaged_in_transit": N_("Damaged in transit"),
    "not_as_described": N_("Not as described"),
    "wrong_item": N_("Wrong item sent"),
    "unclaimed": N_("Not collected"),
}

REFUND = {
    "none": N_("Nothing owed yet"),
    "pending": N_("Owed"),
    "paid": N_("Paid"),
    "failed": N_("Failed"),
}

RECEIPT_KIND = {
    "sale": N_("Sale (full prepayment)"),
    "settlement": N_("Full settlement"),
    "refund": N_("Refund"),
    "correction": N_("Correction"),
}

RECEIPT_STATE = {
    "queued": N_("Queued"),
    "sent": N_("Sent to the register"),
    "wait": N_("Printing"),
    "done": N_("Registered"),
    "failed": N_("Failed"),
    "skipped": N_("Not ours to print"),
}

GATEWAY = {
    "pending": N_("Waiting for the customer"),
    "waiting_for_capture": N_("Authorised: money held"),
    "succeeded": N_("Captured"),
    "canceled": N_("Cancelled"),
}

GATEWAY_REFUND = {
    "pending": N_("Pending"),
    "succeeded": N_("Refunded"),
    "canceled": N_("Refused"),
}

OUTCOME = {
    "restock": N_("Back to stock"),
    "unavailable": N_("Unavailable"),
    "write_off": N_("Write off"),
}

RETURN_STEP = {
    "requested": N_("Asked back"),
    "approved": N_("Approved"),
    "declined": N_("Declined"),
    "received": N_("Received at the warehouse"),
    "inspected": N_("Inspected"),
    "exchanged": N_("Replacement sent"),
    "closed": N_("Closed"),
    "refund_pending": N_("Refund owed"),
    "refund_paid": N_("Refund paid"),
    "refund_failed": N_("Refund failed"),
}


def label(table: dict[str, str], code: str | None) -> str:
    """The English name of ``code`` in ``table``, or the code itself when it has none yet."""
    if code is None:
        return ""
    return table.get(code, code)


TASK_STATE = {
    "open": N_("Waiting"),
    "claimed": N_("Taken"),
    "done": N_("Done"),
    "cancelled": N_("Cancelled"),
}

QUEUE_POLICY = {
    "round_robin": N_("In turn"),
    "least_loaded": N_("To the least loaded"),
    "claim": N_("Operators take them"),
}
