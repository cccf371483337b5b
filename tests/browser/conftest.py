"""The console in a real browser: Debian's Chromium driven by Playwright, against a live server
on SQLite and on PostgreSQL.

One browser for the whole session, one server per database; every test gets a fresh browser
context (cookies, storage) and empty tables. Screenshots go to ``test-artifacts/browser/``,
which CI keeps. Without Chromium the tests are skipped, except under CI.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect, sync_playwright

from potok.bootstrap import bootstrap
from potok.domain.access import Role
from tests.auth import PASSWORD, make_user
from tests.conftest import LiveServer, _settings, empty_all_tables, start_server
from tests.environment import missing

CHROMIUM = os.environ.get("POTOK_CHROMIUM", "/usr/bin/chromium")
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "browser"
AXE = Path(__file__).parent / "node_modules" / "axe-core" / "axe.min.js"
DESKTOP = {"width": 1366, "height": 900}
PHONE = {"width": 360, "height": 740}
# assertions wait as long as actions do: on a loaded CI machine a page's answer can take
# longer than the default 5 s (a bulk action's results did once)
expect.set_options(timeout=15_000)


def _missing(what: str) -> None:
    missing(f"{what}: the browser tests cannot run")


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if not Path(CHROMIUM).exists() and shutil.which(CHROMIUM) is None:
        _missing(f"no Chromium at {CHROMIUM} (apt-get install chromium)")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
        yield launched
        launched.close()


@pytest.fixture(scope="session")
def _console_servers() -> Iterator[dict[str, LiveServer]]:
    started: dict[str, LiveServer] = {}
    yield started
    for server in started.values():
        server.stop()
        server.potok.close()


@pytest.fixture
def site(
    backend: str,
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    _console_servers: dict[str, LiveServer],
) -> LiveServer:
    """A live server of the backend (one per database for the session), its tables emptied."""
    server = _console_servers.get(backend)
    if server is None:
        if backend == "postgresql":
            url: str = request.getfixturevalue("migrated_postgres")
        else:
            template: Path = request.getfixturevalue("sqlite_template")
            path = tmp_path_factory.mktemp("console") / "console.db"
            path.write_bytes(template.read_bytes())
            url = f"sqlite:///{path}"
        potok = bootstrap(_settings(url, pool_size=5, max_overflow=25))  # 30 at once, 5 kept
        server = _console_servers[backend] = start_server(potok)
    empty_all_tables(server.potok)
    return server


@pytest.fixture
def context(browser: Browser, site: LiveServer) -> Iterator[BrowserContext]:
    """A fresh browser profile on a desktop screen in Moscow's time zone, English first."""
    made = browser.new_context(
        base_url=site.url, viewport=DESKTOP, timezone_id="Europe/Moscow", locale="en-GB"
    )
    made.set_default_timeout(15_000)
    yield made
    made.close()


@pytest.fixture
def page(context: BrowserContext) -> Iterator[Page]:
    """A page that fails its test if the console's script throws."""
    made = context.new_page()
    errors: list[str] = []
    made.on("pageerror", lambda error: errors.append(str(error)))
    yield made
    assert errors == [], f"script errors on the page: {errors}"


@pytest.fixture
def shot(request: pytest.FixtureRequest, backend: str) -> Callable[[Page, str], Path]:
    """``shot(page, "name")`` keeps a full-page screenshot as a test artifact."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    test = request.node.originalname

    def take(target: Page, name: str) -> Path:
        path = ARTIFACTS / f"{test}-{backend}-{name}.png"
        target.screenshot(path=str(path), full_page=True)
        return path

    return take


def sign_in(page: Page, username: str, password: str = PASSWORD, path: str = "/") -> None:
    """Sign in through the console's own form, as a person would."""
    page.goto(path)
    page.get_by_label("User name").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_selector("header.top")


def person(site: LiveServer, username: str, role: Role, warehouses: tuple[str, ...] = ()) -> str:
    make_user(site.potok, username, role, warehouses)
    return username


def run_axe(page: Page) -> list[dict[str, object]]:
    """The WCAG 2 A/AA violations axe-core finds on the page as it is now."""
    if not AXE.exists():
        _missing(f"axe-core is not installed ({AXE}); run: npm ci --prefix tests/browser")
    page.add_script_tag(content=AXE.read_text())
    result = page.evaluate(
        """async () => {
            const found = await axe.run(document, {runOnly: ['wcag2a', 'wcag2aa']});
            return found.violations.map(v => ({
                id: v.id, impact: v.impact, help: v.help,
                nodes: v.nodes.slice(0, 5).map(n => n.target.join(' '))
            }));
        }"""
    )
    return list(result)
