"""Browser harness: the real app under uvicorn in a subprocess, real Chromium, and axe-core.

Every page a journey visits is checked with axe-core against WCAG 2.2 AA (and axe's best
practices); any violation fails the test.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import IN_CI, free_port

ROOT = Path(__file__).resolve().parents[2]
STARTUP_SECONDS = 20
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
AXE_OPTIONS = {
    "runOnly": {
        "type": "tag",
        "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"],
    },
    "resultTypes": ["violations"],
}


@dataclass
class LiveServer:
    url: str
    process: subprocess.Popen[bytes]
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(url + "/healthz", timeout=2) as response:
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError):
        return False


@pytest.fixture(scope="session")
def live_server(database: str) -> Iterator[LiveServer]:
    """`uvicorn coprod.asgi:app` on loopback, on the test database, with links pointing at it.

    Depends on `database` so the schema exists (and, on PostgreSQL, the database itself)
    before the server answers.
    """
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {**os.environ, "BASE_URL": url}
    log_path = Path(tempfile.mkdtemp(prefix="coprod-live-")) / "uvicorn.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uvicorn",
                "coprod.asgi:app",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
            ],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    server = LiveServer(url=url, process=process, log_path=log_path)
    try:
        deadline = time.monotonic() + STARTUP_SECONDS
        while not _healthy(url):
            if process.poll() is not None:
                pytest.fail(f"uvicorn exited with {process.returncode}:\n{server.log()}")
            if time.monotonic() > deadline:
                pytest.fail(
                    f"uvicorn did not answer /healthz in {STARTUP_SECONDS}s:\n{server.log()}"
                )
            time.sleep(0.1)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


@pytest.fixture(scope="session")
async def browser() -> AsyncIterator[Any]:
    executable = shutil.which("chromium")
    if executable is None:
        message = "Chromium is not installed (looked for `chromium` on PATH)"
        if IN_CI:
            pytest.fail(message + ", and CI needs it")
        pytest.skip(message)
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=executable, headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield browser
        finally:
            await browser.close()


@pytest.fixture
async def page(browser: Any, live_server: LiveServer) -> AsyncIterator[Any]:
    """A fresh browser context (no cookies) and page for each test, based at the live server."""
    context = await browser.new_context(base_url=live_server.url, locale="en-GB")
    context.set_default_timeout(10_000)
    page = await context.new_page()
    problems: list[str] = []
    page.on("pageerror", lambda exc: problems.append(f"JavaScript error: {exc}"))
    try:
        yield page
    finally:
        await context.close()
    assert not problems, "\n".join(problems)


async def check_a11y(page: Any) -> None:
    """Run axe-core on the page as it stands; fail on any WCAG 2.2 AA or best-practice violation."""
    from axe_playwright_python.async_playwright import Axe

    await page.wait_for_load_state("load")
    results = await Axe().run(page, options=AXE_OPTIONS)
    if results.violations_count:
        report = results.generate_report()
        print(f"axe-core on {page.url}:\n{report}")
        pytest.fail(
            f"{results.violations_count} accessibility violation(s) on {page.url}:\n{report}"
        )


async def visit(page: Any, path: str, status: int = 200) -> Any:
    """Open a page, check its status and its accessibility."""
    response = await page.goto(path)
    assert response is not None and response.status == status, (
        f"{path} answered {response.status if response else None}, expected {status}"
    )
    await check_a11y(page)
    return response
