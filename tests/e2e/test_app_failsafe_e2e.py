"""Fail safe in a real browser (issue 12): answering a screening question "yes" leaves no green stroke pixel
on the mapped photo; the warning-sign control pauses guidance and shows both tiers; the sources view opens.
Screenshots go to /tmp/e2e/ for a look by eye."""

from __future__ import annotations

import time
from pathlib import Path

import cv2
import numpy as np
import pytest
from live_page import (
    answer_screening,
    click_start,
    click_stop,
    grab_video,
    read_status,
    wait_for_start_button,
    wait_until,
)

pytestmark = pytest.mark.browser


def photo_pixels(page) -> np.ndarray:
    """The mapped photo as shown in the page, BGR."""
    photo = page.locator('[data-testid="stImage"]').filter(has_text="face(s)").locator("img").first
    photo.wait_for(timeout=30_000)
    return cv2.imdecode(np.frombuffer(photo.screenshot(), np.uint8), cv2.IMREAD_COLOR)


def green_pixels(image_bgr: np.ndarray) -> int:
    """Pixels of the safe-stroke green (overlays.style.SAFE_GREEN and its anti-aliased edge)."""
    b, g, r = (image_bgr[:, :, i].astype(np.int16) for i in range(3))
    return int(((g > 150) & (g - r > 60) & (g - b > 60)).sum())


def settled_photo(page, condition, what: str, timeout_s: float = 30.0) -> np.ndarray:
    """The photo once ``condition(pixels)`` holds (the page reruns after each answer)."""
    from playwright.sync_api import Error as PlaywrightError

    deadline = time.monotonic() + timeout_s
    pixels: np.ndarray | None = None
    while True:
        try:
            pixels = photo_pixels(page)
        except PlaywrightError:  # the page reran and replaced the image while it was being captured
            pixels = None
        if pixels is not None and condition(pixels):
            return pixels
        if time.monotonic() > deadline:
            found = "no photo" if pixels is None else f"{green_pixels(pixels)} green pixels"
            raise AssertionError(f"timed out waiting for {what}: {found}")
        page.wait_for_timeout(500)


def test_a_yes_leaves_no_green_stroke_on_the_photo(page, screenshots: Path) -> None:
    page.get_by_text("1 face(s)").first.wait_for(timeout=60_000)
    unanswered = photo_pixels(page)
    assert green_pixels(unanswered) == 0, "no stroke before the questions are answered"
    page.get_by_text("Answer the questions above first").first.wait_for(timeout=20_000)
    answer_screening(page)
    given = settled_photo(page, lambda p: green_pixels(p) > 500, "green strokes once every answer is no")
    cv2.imwrite(str(screenshots / "failsafe_given.png"), given)
    answer_screening(page, yes=("heart",))
    page.get_by_text("Guidance withheld").first.wait_for(timeout=20_000)
    withheld = settled_photo(page, lambda p: green_pixels(p) == 0, "no green pixel after a yes")
    cv2.imwrite(str(screenshots / "failsafe_withheld.png"), withheld)
    red = (withheld[:, :, 2].astype(int) - withheld[:, :, 1] > 80).sum()
    assert red > 500, "the treated areas still show"
    page.locator(".st-key-screening").screenshot(path=str(screenshots / "failsafe_screening.png"))
    notice = page.locator('[data-testid="stAlert"]').filter(has_text="Guidance withheld").first
    notice.screenshot(path=str(screenshots / "failsafe_withheld_notice.png"))
    page.screenshot(path=str(screenshots / "failsafe_withheld_page.png"), full_page=True)


def test_a_yes_leaves_no_green_stroke_on_the_live_view(page, screenshots: Path) -> None:
    page.get_by_text("1 face(s)").first.wait_for(timeout=60_000)
    answer_screening(page, yes=("blood clot",))
    page.get_by_text("Guidance withheld").first.wait_for(timeout=20_000)
    page.locator(".st-key-mode").get_by_role("radio", name="Live camera").click()
    wait_for_start_button(page, timeout_s=30.0)
    click_start(page)
    wait_until(lambda: read_status(page).get("frames", 0) >= 20, 30.0, "20 mapped live frames")
    frames = []
    for _ in range(5):
        shown, _, _ = wait_until(lambda: grab_video(page), 10.0, "a decoded frame in the output <video>")
        frames.append(shown)
        page.wait_for_timeout(300)
    cv2.imwrite(str(screenshots / "failsafe_live_withheld.png"), frames[-1])
    assert max(green_pixels(frame) for frame in frames) == 0, "a green pixel in the live view after a yes"
    assert "withheld" in read_status(page).get("text", "").lower()
    click_stop(page)
    wait_for_start_button(page)


def test_the_warning_sign_control_pauses_guidance(page, screenshots: Path) -> None:
    page.get_by_text("1 face(s)").first.wait_for(timeout=60_000)
    answer_screening(page)
    settled_photo(page, lambda p: green_pixels(p) > 500, "green strokes once every answer is no")
    page.get_by_role("button", name="⚠ I see a warning sign").click()
    panel = page.locator(".st-key-warning_panel")
    panel.get_by_text("Stop and seek urgent medical care now").first.wait_for(timeout=20_000)
    panel.get_by_text("Stop and contact your injector").first.wait_for(timeout=20_000)
    assert "more than a week" in panel.inner_text()
    settled_photo(page, lambda p: green_pixels(p) == 0, "no green pixel while guidance is paused")
    panel.screenshot(path=str(screenshots / "failsafe_warning_panel.png"))
    page.get_by_role("button", name="The signs are gone: resume guidance").click()
    settled_photo(page, lambda p: green_pixels(p) > 500, "green strokes again after resuming")


def test_the_sources_view_opens_per_treated_area(page, screenshots: Path) -> None:
    page.get_by_text("1 face(s)").first.wait_for(timeout=60_000)
    answer_screening(page)
    page.get_by_text("Answer the questions above first").first.wait_for(state="hidden", timeout=30_000)
    heading = page.get_by_text("Why? The rule behind each treated area").first
    heading.wait_for(timeout=30_000)
    lips = page.get_by_text("Lips: no-touch").first
    lips.wait_for(timeout=30_000)
    lips.click()
    page.get_by_text("beautybydrkay.com/posttreatment-care/").first.wait_for(timeout=20_000)
    page.get_by_text("Decided by the catalogue rule ha_filler/hands on lips").first.wait_for(timeout=20_000)
    page.screenshot(path=str(screenshots / "failsafe_sources_view.png"), full_page=True)
