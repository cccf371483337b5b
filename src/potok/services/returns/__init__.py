"""Returns (RMA): asking units back, receiving them at any warehouse, inspecting each unit,
and the refund they are owed. ``requests`` holds the decisions (request, approve, decline,
close, refund) and the reads; ``handling`` the warehouse's work (receipt, inspection);
``unclaimed`` the parcels that come back undelivered; ``shipped`` what an order shipped."""
