"""Browser fixtures: the app served by a real ``streamlit run``, Debian's Chromium with a fake camera.

Every wait has a deadline and fails with a message that says what was being waited for, plus the tail of
the server log; nothing here can hang a CI run.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fake_camera import write_y4m

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path(os.environ.get("FACEZONES_CHROMIUM", "/usr/bin/chromium"))
SCREENSHOTS = Path(os.environ.get("FACEZONES_E2E_SHOTS", "/tmp/e2e"))
SERVER_START_TIMEOUT_S = 60.0
SERVER_STOP_TIMEOUT_S = 10.0
PAGE_TIMEOUT_MS = 20_000


# Measurement aid: ask Chromium to keep the camera's resolution under CPU load (lower the frame rate instead).
KEEP_RESOLUTION = """(() => {
  const addTrack = RTCPeerConnection.prototype.addTrack;
  RTCPeerConnection.prototype.addTrack = function (track, ...streams) {
    if (track.kind === 'video') track.contentHint = 'detail';
    return addTrack.call(this, track, ...streams);
  };
})();"""


@dataclass
class StreamlitServer:
    """A ``streamlit run`` child process and where to reach it."""

    url: str
    process: subprocess.Popen[bytes]
    log_path: Path

    def log_tail(self, lines: int = 40) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return "(no server log)"
        return "\n".join(text.splitlines()[-lines:])

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


def free_port() -> int:
    with contextlib.closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError):
        return False


def _stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM the server's own process group, then SIGKILL it if it lingers."""
    if process.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=SERVER_STOP_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=SERVER_STOP_TIMEOUT_S)


@contextlib.contextmanager
def run_streamlit(
    script: Path, log_dir: Path, *, extra_args: tuple[str, ...] = (), database: Path | None = None
) -> Iterator[StreamlitServer]:
    """Serve ``script`` on a free localhost port until the block ends; fail clearly if it is never healthy.

    The app keeps its records in ``database`` (default: a new file in ``log_dir``), never the user's own.
    """
    port = free_port()
    url = f"http://localhost:{port}"
    log_path = log_dir / f"streamlit-{port}.log"
    command = [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(script),
        "--server.port",
        str(port),
        "--server.address",
        "localhost",
        "--server.headless",
        "true",
        "--server.fileWatcherType",
        "none",
        "--browser.gatherUsageStats",
        "false",
        "--logger.level",
        "info",
        *extra_args,
    ]
    with log_path.open("wb") as log:
        env = {**os.environ, "FACEZONES_DB": str(database or log_dir / "facezones.db")}
        process = subprocess.Popen(
            command,
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    server = StreamlitServer(url=url, process=process, log_path=log_path)
    try:
        deadline = time.monotonic() + SERVER_START_TIMEOUT_S
        while not _healthy(url):
            if process.poll() is not None:
                pytest.fail(
                    f"streamlit exited with code {process.returncode} before it was healthy:\n"
                    f"{server.log_tail()}"
                )
            if time.monotonic() > deadline:
                pytest.fail(
                    f"streamlit was not healthy at {url}/_stcore/health within "
                    f"{SERVER_START_TIMEOUT_S:.0f} s:\n{server.log_tail()}"
                )
            time.sleep(0.2)
        yield server
    finally:
        _stop(process)


@pytest.fixture
def serve_app(tmp_path: Path) -> Callable[[Path], contextlib.AbstractContextManager[StreamlitServer]]:
    """``with serve_app(database) as server``: a server of its own for the app on ``database`` (started and
    stopped by the test, e.g. to restart it)."""
    return lambda database: run_streamlit(ROOT / "app.py", tmp_path, database=database)


@pytest.fixture(scope="session")
def fake_camera(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sample clip as a 640x480, 30 fps y4m for Chromium's fake capture device."""
    return write_y4m(tmp_path_factory.mktemp("camera") / "sample_clip.y4m")


@pytest.fixture(scope="session")
def streamlit_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StreamlitServer]:
    """``streamlit run app.py`` on a free localhost port, shared by the browser tests."""
    with run_streamlit(ROOT / "app.py", tmp_path_factory.mktemp("server")) as server:
        yield server


def chromium_args(camera: Path) -> list[str]:
    return [
        "--use-fake-ui-for-media-stream",
        "--use-fake-device-for-media-stream",
        f"--use-file-for-fake-video-capture={camera}",
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
    ]


@pytest.fixture(scope="session")
def browser(fake_camera: Path):
    """Debian's Chromium driven by Playwright, its camera fed from the sample clip."""
    if not CHROMIUM.exists() or shutil.which(str(CHROMIUM)) is None:
        pytest.fail(f"{CHROMIUM} not found: run `make browser` (apt-get install chromium) first")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            args=chromium_args(fake_camera),
            headless=True,
            timeout=PAGE_TIMEOUT_MS,
        )
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture
def page(browser, streamlit_server: StreamlitServer):
    """A fresh browser context (one Streamlit session) on the app, loaded and idle."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    if os.environ.get("FACEZONES_E2E_KEEP_RESOLUTION"):
        context.add_init_script(KEEP_RESOLUTION)
    context.set_default_timeout(PAGE_TIMEOUT_MS)
    tab = context.new_page()
    tab.goto(streamlit_server.url, wait_until="domcontentloaded")
    try:
        yield tab
    finally:
        context.close()


@pytest.fixture(scope="session")
def screenshots() -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]):
    """A failed browser test shows the tail of the Streamlit server's log beside its own message."""
    outcome = yield
    report = outcome.get_result()
    server = getattr(item, "funcargs", {}).get("streamlit_server")
    if report.failed and isinstance(server, StreamlitServer):
        report.sections.append(("streamlit server log (last lines)", server.log_tail()))
