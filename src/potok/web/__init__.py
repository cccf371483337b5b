"""The operator console: server-rendered pages under ``/`` in the same application as the API.

``install`` adds its routers and static files to an application that ``create_app`` built.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

STATIC = Path(__file__).parent / "static"


def install(app: FastAPI) -> None:
    """Serve the console's pages and its own static files (CSS, script, sounds)."""
    from potok.web.live import LiveHub
    from potok.web.routers import (
        floor,
        home,
        live,
        movements,
        orders,
        reorder,
        reports,
        returns,
        settings,
        shortages,
        stock,
        tracking,
        work,
    )

    app.state.live = LiveHub(app.state.potok)
    for router in (
        home.router,
        live.router,
        orders.router,
        returns.router,
        shortages.router,
        work.router,
        stock.router,
        movements.router,
        reorder.router,
        floor.router,
        reports.router,
        settings.router,
        tracking.router,
    ):
        app.include_router(router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
