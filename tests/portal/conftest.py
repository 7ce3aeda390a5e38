"""The portal in a real browser: the real app served by uvicorn on a free port (in the tests' event loop, beside the
time-skipping Temporal server and its worker), and headless Chromium from the system's `chromium` package driven by
Playwright. Nothing downloads a browser: without /usr/bin/chromium these tests fail, unless PSA_SKIP_BROWSER=1."""

import asyncio
import os
import shutil
from collections.abc import AsyncIterator

import pytest
import uvicorn
from playwright.async_api import Browser, async_playwright

from api.app import create_app
from hub.config import Settings

CHROMIUM = os.environ.get("PSA_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"


def _chromium() -> str:
    if os.path.exists(CHROMIUM):
        return CHROMIUM
    if os.environ.get("PSA_SKIP_BROWSER") == "1":
        pytest.skip("PSA_SKIP_BROWSER=1: browser tests of the portal skipped")
    pytest.fail(
        f"no Chromium at {CHROMIUM}: install Debian's package (apt-get install -y chromium), "
        "point PSA_CHROMIUM at a Chromium binary, or set PSA_SKIP_BROWSER=1 to skip the portal's browser tests",
        pytrace=False,
    )


@pytest.fixture(scope="session")
async def browser() -> AsyncIterator[Browser]:
    path = _chromium()
    async with async_playwright() as playwright:
        chromium = await playwright.chromium.launch(executable_path=path, headless=True)
        yield chromium
        await chromium.close()


@pytest.fixture(scope="session")
async def portal(env, engine) -> AsyncIterator[str]:  # noqa: ANN001
    """The base URL of the real API with the portal, served over HTTP on 127.0.0.1."""
    app = create_app(
        Settings(portal_secret="test-secret"), engine=engine, temporal=env.client, clock=env.get_current_time
    )
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, lifespan="off", log_level="warning"))
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    await task
