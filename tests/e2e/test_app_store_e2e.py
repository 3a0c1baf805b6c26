"""The record in a real browser: what the CLI wrote shows in the app, a guided session the app saves is read
by the CLI in a new process, and the history is still there after the app's server restarts. Screenshots of
the timeline chart and the session log go to /tmp/e2e/ for a look by eye."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

import pytest
from live_page import answer_screening, click_until

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
PAGE_TIMEOUT_MS = 20_000

TODAY = date.today()


def cli(database: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """``python cli.py ...`` in a new process on ``database``."""
    env = {**os.environ, "FACEZONES_DB": str(database)}
    command = [sys.executable, "cli.py", *args]
    result = subprocess.run(
        command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=False
    )
    assert result.returncode == 0, result.stderr
    return result


def count_repetitions(page, count: int) -> None:
    """Click "+1 repetition" until the step's counter reads ``count`` (from 0), each click once it shows."""
    metrics = page.locator('.st-key-practitioner_panel [data-testid="stMetric"]')
    value = metrics.filter(has_text="Repetitions").locator('[data-testid="stMetricValue"]')
    for done in range(1, count + 1):
        click_until(
            page.get_by_role("button", name="+1 repetition"),
            value.filter(has_text=re.compile(rf"^\s*{done}\s*$")),
            f"{done} repetition(s) counted",
        )


def open_page(browser, url: str):
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    context.set_default_timeout(PAGE_TIMEOUT_MS)
    page = context.new_page()
    page.goto(url, wait_until="domcontentloaded")
    page.locator(".st-key-record_today").first.wait_for(timeout=60_000)
    return context, page


def test_history_survives_a_restart_and_crosses_the_cli(
    browser, serve_app, tmp_path: Path, screenshots: Path
) -> None:
    database = tmp_path / "shared.db"
    cli(database, "treat", "--treat", f"forehead,glabella=botox@{TODAY - timedelta(days=3)}T10:00")
    filler = f"lips,nasolabial_left=ha_filler@{TODAY + timedelta(days=8)}"
    cli(database, "treat", "--treat", filler, "--planned")

    with serve_app(database) as server:
        context, page = open_page(browser, server.url)
        try:
            today = page.locator(".st-key-record_today").first
            assert "next course session 1" in today.inner_text() or "is due today" in today.inner_text()
            answer_screening(page)
            notice = page.get_by_text("Answer the questions above first").first
            notice.wait_for(state="hidden", timeout=30_000)
            page.get_by_text("Practitioner mode (guided session)").click()
            page.get_by_text("Step 1 of").first.wait_for(timeout=60_000)
            count_repetitions(page, 2)
            next_step = page.get_by_role("button", name="Next ▶")
            click_until(next_step, page.get_by_text("Step 2 of").first, "step 2")
            count_repetitions(page, 1)
            end = page.get_by_role("button", name="End the session and save it (3 repetition(s))")
            if not end.is_visible():
                page.get_by_text("End of the session").click()
            saved = page.get_by_text(
                "Saved the guided session for me: 3 repetition(s) on 2 line(s); course session 1 ticked off."
            )
            click_until(end, saved.first, "the saved session's message")

            chart = page.locator(".st-key-person_timeline").first
            page.wait_for_timeout(1500)  # the save reran the page: let the record settle before the shot
            chart.locator("canvas, svg").first.wait_for()
            page.wait_for_timeout(800)  # let vega finish drawing
            chart.screenshot(path=str(screenshots / "record_timeline.png"))
            page.get_by_role("tab", name="Session log").click()
            log = page.locator(".st-key-session_log").first
            log.get_by_text("guided").first.wait_for()
            log.screenshot(path=str(screenshots / "record_session_log.png"))
            page.get_by_role("tab", name="Course").click()
            page.get_by_text("Before the treatment on").first.wait_for()
            page.screenshot(path=str(screenshots / "record_course.png"), full_page=True)
        finally:
            context.close()

    # the app's server is gone: a new CLI process reads what the app wrote
    out = tmp_path / "history.json"
    cli(database, "history", "--json", str(out))
    history = json.loads(out.read_text())
    (session,) = history["sessions"]
    assert session["mode"] == "guided" and sum(session["lines"].values()) == 3
    course = next(c for c in history["courses"] if c["open"])
    assert course["done"] == 1  # the guided session ticked a course session off

    with serve_app(database) as restarted:  # a new server process on the same file
        context, page = open_page(browser, restarted.url)
        try:
            page.get_by_role("tab", name="Session log").click()
            log = page.locator(".st-key-session_log").first
            log.get_by_text("guided").first.wait_for()
            assert "3" in log.inner_text()
            assert "1 done" in page.locator(".st-key-record_today").first.inner_text() or course["done"] == 1
        finally:
            context.close()
