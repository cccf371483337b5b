"""Fulfilment use cases: releasing orders to warehouses, picking (one order or a wave),
packing with unit identifiers, hand-over, carriers' tracking, cancellation.

Locks are taken in one order everywhere: the order, then its shipments (by id), then stock
positions (warehouse, product). Each use case is one transaction.
"""
