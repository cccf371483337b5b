"""The interactive API documentation works in a real browser without the internet."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import LiveServer
from tests.environment import missing

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


def rendered_dom(url: str, profile: Path) -> str:
    """The page's DOM after its scripts ran, from headless Chromium."""
    assert CHROMIUM is not None
    result = subprocess.run(  # noqa: S603 - a fixed browser binary and a local URL
        [
            CHROMIUM,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            f"--user-data-dir={profile}",
            "--virtual-time-budget=10000",
            "--dump-dom",
            url,
        ],
        capture_output=True,
        text=True,
        timeout=90,
        check=True,
    )
    return result.stdout


@pytest.fixture
def browser() -> None:
    if CHROMIUM is None:
        missing("Chromium is not installed (Debian package 'chromium')")


@pytest.mark.parametrize("backend", ["sqlite"])
@pytest.mark.usefixtures("browser")
def test_swagger_ui_renders_every_route_from_local_assets(live: LiveServer, tmp_path: Path) -> None:
    dom = rendered_dom(f"{live.url}/docs", tmp_path / "profile")

    assert "/static-offline-docs/swagger-ui-bundle.js" in dom
    assert "cdn.jsdelivr.net" not in dom
    assert "Take an order" in dom  # rendered by Swagger UI's script from our OpenAPI document
    assert "/api/v1/stock/levels" in dom


@pytest.mark.parametrize("backend", ["sqlite"])
@pytest.mark.usefixtures("browser")
def test_redoc_renders_from_local_assets(live: LiveServer, tmp_path: Path) -> None:
    dom = rendered_dom(f"{live.url}/redoc", tmp_path / "profile")

    assert "cdn.jsdelivr.net" not in dom
    assert "Take an order" in dom
