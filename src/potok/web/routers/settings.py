"""Settings for administrators: locations, channels, users, API keys, routing and tariffs."""

from __future__ import annotations

from fastapi import APIRouter

from potok.web.pages import PageRoute

router = APIRouter(route_class=PageRoute, include_in_schema=False)
