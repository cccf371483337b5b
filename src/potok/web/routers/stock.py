"""Stock: the SKU x warehouse matrix with its buckets, lots and expiry, and the corrections."""

from __future__ import annotations

from fastapi import APIRouter

from potok.web.pages import PageRoute

router = APIRouter(route_class=PageRoute, include_in_schema=False)
