"""Fiscal receipts (54-ФЗ): queued after the payment, hand-over, delivery or refund that
calls for them, sent in order by the worker, read by operators and integrators."""
