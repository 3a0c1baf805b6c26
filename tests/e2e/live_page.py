"""Driving the app in the page: the screening questions; the live stream's START/STOP inside
streamlit-webrtc's iframe, the app's status panel, and the output ``<video>`` pixels (the iframe is
same-origin, so its frame can be drawn into a canvas)."""

from __future__ import annotations

import base64
import re
import time
from collections.abc import Callable
from typing import Any

import cv2
import numpy as np

from pipeline import catalogue_for

WEBRTC_IFRAME = 'iframe[title*="streamlit_webrtc"]'
STATUS_SELECTOR = ".st-key-live_status"
START = re.compile(r"^\s*start\s*$", re.IGNORECASE)
STOP = re.compile(r"^\s*stop\s*$", re.IGNORECASE)

# The status panel's metrics (label -> value) and its whole text, or null while it is not on the page.
_READ_STATUS = """(selector) => {
  const panel = document.querySelector(selector);
  if (!panel) return null;
  const metrics = {};
  for (const metric of panel.querySelectorAll('[data-testid="stMetric"]')) {
    const label = metric.querySelector('[data-testid="stMetricLabel"]');
    const value = metric.querySelector('[data-testid="stMetricValue"]');
    if (label && value) metrics[label.innerText.trim()] = value.innerText.trim();
  }
  return {metrics, text: panel.innerText};
}"""

# Draws the <video> now showing into a canvas; returns its PNG and the playback clock, or null before the
# first decoded frame.
_GRAB_VIDEO = """() => {
  const video = document.querySelector('video');
  if (!video || video.videoWidth === 0 || video.readyState < 2) return null;
  const canvas = document.createElement('canvas');
  canvas.width = video.videoWidth; canvas.height = video.videoHeight;
  canvas.getContext('2d').drawImage(video, 0, 0);
  return {png: canvas.toDataURL('image/png'), currentTime: video.currentTime,
          frames: video.getVideoPlaybackQuality ? video.getVideoPlaybackQuality().totalVideoFrames : -1};
}"""


def wait_until(
    condition: Callable[[], Any],
    timeout_s: float,
    what: str,
    poll_s: float = 0.2,
    details: Callable[[], str] = lambda: "",
) -> Any:
    """Poll ``condition`` until it returns something truthy; after the deadline, fail naming ``what``."""
    deadline = time.monotonic() + timeout_s
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            extra = details()
            suffix = f"\n{extra}" if extra else ""
            raise AssertionError(f"timed out after {timeout_s:.0f} s waiting for {what}{suffix}")
        time.sleep(poll_s)


def answer_screening(page, yes: tuple[str, ...] = (), timeout_s: float = 60.0) -> None:
    """Answer the screening questions at the top of the page: "Yes" for the questions whose text holds one of
    ``yes``, "No" for the others.

    Each answer reruns the page, and a click that lands while a rerun replaces the radios is lost on a busy
    machine: the questions are read again after the page settles and any answer not taken is given again.
    """
    groups = page.locator(".st-key-screening").locator('[role="radiogroup"]')
    questions = len(catalogue_for(None).screening)  # the page draws its radios one by one: wait for them all
    deadline = time.monotonic() + timeout_s
    while True:
        shown = groups.all()
        pending = []
        for group in shown:
            label = group.get_attribute("aria-label") or ""
            answer = "Yes" if any(y in label for y in yes) else "No"
            if not group.get_by_role("radio", name=answer).is_checked():
                pending.append((group, answer))
        if len(shown) == questions and not pending:
            return
        if time.monotonic() > deadline:
            raise AssertionError(
                f"screening: {len(shown)} of {questions} questions shown, {len(pending)} not answered "
                f"as asked after {timeout_s:.0f} s"
            )
        for group, answer in pending:
            group.get_by_text(answer, exact=True).click()
            page.wait_for_timeout(300)
        page.wait_for_timeout(1_000)  # let the last rerun replace the radios before reading them again


def click_until(target, outcome, what: str, tries: int = 3, timeout_ms: int = 20_000) -> None:
    """Click ``target`` until ``outcome`` (a locator) shows, at most ``tries`` times ``timeout_ms`` apart: a
    click that lands while a rerun replaces the element is lost on a busy machine."""
    from playwright.sync_api import Error as PlaywrightError

    for _ in range(tries):
        try:
            target.click(timeout=timeout_ms)
            outcome.wait_for(timeout=timeout_ms)
            return
        except PlaywrightError:
            if outcome.is_visible():
                return
    raise AssertionError(f"{what}: not shown after {tries} clicks")


def webrtc_frame(page):
    """The streamlit-webrtc component's iframe as a Playwright Frame (waits for it to be attached)."""
    handle = page.locator(WEBRTC_IFRAME).first.element_handle()
    frame = handle.content_frame()
    if frame is None:
        raise AssertionError("the streamlit_webrtc iframe has no content frame")
    return frame


def click_start(page) -> None:
    page.frame_locator(WEBRTC_IFRAME).first.get_by_role("button", name=START).click()


def click_stop(page) -> None:
    page.frame_locator(WEBRTC_IFRAME).first.get_by_role("button", name=STOP).click()


def wait_for_start_button(page, timeout_s: float = 20.0) -> None:
    """The component is idle again (its START button is back)."""
    button = page.frame_locator(WEBRTC_IFRAME).first.get_by_role("button", name=START)
    button.wait_for(state="visible", timeout=timeout_s * 1000)


def read_status(page) -> dict[str, Any]:
    """The app's own live status panel as numbers: fps, frames, faces, stream, errors, and its text.

    Empty before the first frame (or while Streamlit redraws the panel).
    """
    raw = page.evaluate(_READ_STATUS, STATUS_SELECTOR)
    if not raw or "Frames" not in raw["metrics"]:
        return {}
    metrics = raw["metrics"]
    caption = re.search(r"Stream (\d+) · (\d+)×(\d+) .* errors (\d+)", raw["text"])
    return {
        "fps": float(metrics["Processed fps"]),
        "frames": int(metrics["Frames"]),
        "faces": int(metrics["Faces"]),
        "stream": int(caption.group(1)) if caption else 0,
        "size": (int(caption.group(2)), int(caption.group(3))) if caption else (0, 0),
        "errors": int(caption.group(4)) if caption else 0,
        "text": raw["text"],
    }


def grab_video(page) -> tuple[np.ndarray, float, int] | None:
    """The output video's frame now showing as BGR ``(H, W, 3) uint8``, its currentTime, decoded frames."""
    grabbed = webrtc_frame(page).evaluate(_GRAB_VIDEO)
    if not grabbed:
        return None
    data = base64.b64decode(grabbed["png"].split(",", 1)[1])
    image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    return image, float(grabbed["currentTime"]), int(grabbed["frames"])
