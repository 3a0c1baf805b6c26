"""The live path end to end, as a user sees it: camera -> WebRTC -> the app's callback -> WebRTC -> painted.

It serves the real app with ``streamlit run``, opens it in Debian's Chromium whose fake camera plays a
``.y4m`` written from the sample clip, presses START and measures for a set time:

- ``fps``: frames reaching the app's callback per second (the app's own frame counter, read in the page);
- ``painted_fps``: distinct camera frames painted per second by the output ``<video>``
  (``requestVideoFrameCallback``); streamlit-webrtc sends the last processed frame again whenever no new one
  is ready, so repeats are told apart by the index code below (``paints_per_s`` counts every paint);
- ``server_ms``: the server process's CPU time (all threads, ``/proc/<pid>/stat``) per callback frame;
- ``inference_ms``: bare MediaPipe ``detect_for_video`` on the same camera frames, CPU time per frame of
  this process, measured in the same run once the stream has stopped; ``ratio = server_ms / inference_ms``;
- ``latency_ms_p50/p95``: glass-to-glass delay. Each camera frame carries its index (0..239, the camera loops
  the file every 8 s) as a strip of 18 black/white blocks near its bottom edge: a start marker, 8 bits, their
  complement, an end marker; the strip is centred, so the selfie flip only reverses it. The camera's clock:
  the page's probe (``bench/live_page.js``) reads the code from a clone of the camera track the page hands to
  WebRTC (``MediaStreamTrackProcessor``), at ``performance.now()``; a line fitted through these sightings
  (frame count across loops -> time) gives the camera's pace, and its lower edge (5th percentile of the
  residuals: the probe sees a frame a little after it was taken, later when the page is busy) the moment
  each frame was taken. The probe reads the code again from every frame the output ``<video>`` paints, at
  its ``expectedDisplayTime`` in the same document's clock. Latency is paint time minus capture time, for
  the first paint of each camera frame (known modulo the 8 s loop).
- ``rss_growth_mb``: the server's resident memory at the end of the window minus at its start (``--minutes``
  makes that window a soak, sampled every few seconds, with stalls of the frame counter counted).

The same run first measures the transport floor: ``bench/live_floor_app.py``, the same WebRTC set-up with an
empty callback (``--no-floor`` skips it). ``--profile`` samples the app's server with py-spy during the window
and prints where its Python threads spend their time per frame, by stage, and the CPU of every thread.

Run: ``python bench/live.py [--size 1280x720] [--touch-guard] [--seconds 25] [--minutes 10] [--profile]``.
The last line is ``fps=… painted_fps=… server_ms=… inference_ms=… ratio=… latency_ms_p50=… latency_ms_p95=…
rss_growth_mb=…``. A benchmark, not a test: nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import json
import linecache
import math
import os
import re
import resource
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import sysconfig
import tempfile
import time
import urllib.error
import urllib.request
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import mediapipe as mp
import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests" / "e2e")]

from fake_camera import letterbox  # noqa: E402
from landmarks import bare_landmarker  # noqa: E402
from live_page import click_start, click_stop, grab_video, read_status, webrtc_frame  # noqa: E402

from vision.assets import SAMPLE_CLIP, ensure  # noqa: E402
from vision.landmarker import LandmarkerOptions  # noqa: E402

CHROMIUM = Path(os.environ.get("FACEZONES_CHROMIUM", "/usr/bin/chromium"))
APP = ROOT / "app.py"
FLOOR_APP = ROOT / "bench" / "live_floor_app.py"
PROBE = ROOT / "bench" / "live_page.js"
CAMERA_FPS = 30
LOOP_FRAMES = 240  # the camera file: 8 s of the clip, looped by Chromium
CODE_BITS = 8
CODE_BLOCKS = 2 + 2 * CODE_BITS
CLK_TCK = os.sysconf("SC_CLK_TCK")
PAGE_SIZE_MB = os.sysconf("SC_PAGE_SIZE") / 2**20
STALL_S = 2.0  # the frame counter standing still this long counts as a stall
SAMPLE_S = 2.5  # how often the window reads the page, the counter and the memory


# ------------------------------------------------------------------------------------ the camera ---


def code_geometry(width: int, height: int) -> tuple[int, int, int]:
    """Block size, left x and top y of the index strip in a ``width`` x ``height`` camera frame."""
    block = width // 48
    return block, (width - CODE_BLOCKS * block) // 2, height - 3 * block


def code_bits(index: int) -> list[int]:
    """Start marker, ``CODE_BITS`` bits of ``index`` (most significant first), their complement, end mark."""
    bits = [(index >> (CODE_BITS - 1 - b)) & 1 for b in range(CODE_BITS)]
    return [1, *bits, *(1 - b for b in bits), 0]


def stamp(frame_bgr: np.ndarray, index: int) -> np.ndarray:
    """Draw ``index``'s strip into ``frame_bgr`` (H, W, 3) uint8 in place and return it."""
    block, x0, y0 = code_geometry(frame_bgr.shape[1], frame_bgr.shape[0])
    for k, bit in enumerate(code_bits(index)):
        frame_bgr[y0 : y0 + block, x0 + k * block : x0 + (k + 1) * block] = 255 if bit else 0
    return frame_bgr


def read_code(frame_bgr: np.ndarray, width: int, height: int) -> int:
    """The index stamped in a frame (scaled from a ``width`` x ``height`` camera frame), or -1."""
    block, x0, y0 = code_geometry(width, height)
    sx, sy = frame_bgr.shape[1] / width, frame_bgr.shape[0] / height
    gray = cv2.cvtColor(frame_bgr, cv2.COLOR_BGR2GRAY)
    bits = [
        int(gray[int((y0 + block / 2) * sy), int((x0 + (k + 0.5) * block) * sx)] > 128)
        for k in range(CODE_BLOCKS)
    ]
    if bits[0] == 0 and bits[-1] == 1:
        bits.reverse()
    data, complement = bits[1 : 1 + CODE_BITS], bits[1 + CODE_BITS : -1]
    if bits[0] != 1 or bits[-1] != 0 or any(a == b for a, b in zip(data, complement, strict=True)):
        return -1
    return int("".join(map(str, data)), 2)


def camera_frames(width: int, height: int, frames: int = LOOP_FRAMES) -> Iterator[np.ndarray]:
    """The sample clip's first ``frames`` frames letterboxed to ``width`` x ``height``, BGR, unstamped."""
    capture = cv2.VideoCapture(str(ensure(SAMPLE_CLIP)))
    try:
        for _ in range(frames):
            ok, frame = capture.read()
            if not ok:
                return
            yield letterbox(frame, width, height)
    finally:
        capture.release()


def write_camera(target: Path, width: int, height: int) -> Path:
    """The stamped camera loop as a 30 fps 4:2:0 y4m for Chromium's ``--use-file-for-fake-video-capture``."""
    written = 0
    with target.open("wb") as out:
        out.write(f"YUV4MPEG2 W{width} H{height} F{CAMERA_FPS}:1 Ip A1:1 C420jpeg\n".encode("ascii"))
        for index, frame in enumerate(camera_frames(width, height)):
            out.write(b"FRAME\n")
            out.write(cv2.cvtColor(stamp(frame, index), cv2.COLOR_BGR2YUV_I420).tobytes())
            written += 1
    if written < LOOP_FRAMES:
        raise SystemExit(f"the sample clip gave {written} frames, the camera loop needs {LOOP_FRAMES}")
    check = cv2.cvtColor(
        cv2.cvtColor(stamp(np.zeros((height, width, 3), np.uint8), 77), cv2.COLOR_BGR2YUV_I420),
        cv2.COLOR_YUV2BGR_I420,
    )
    if read_code(check, width, height) != 77 or read_code(check[:, ::-1], width, height) != 77:
        raise SystemExit("the index code does not survive I420 (a bench defect)")
    return target


# ------------------------------------------------------------------------------------ the server ---


def free_port() -> int:
    with contextlib.closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def streamlit(
    script: Path, log_path: Path, options: tuple[str, ...] = ()
) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """``streamlit run script`` on a free port until the block ends; exits with the log tail if it fails."""
    port = free_port()
    url = f"http://localhost:{port}"
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
        *options,
    ]
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            command,
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + 90.0
        while True:
            with (
                contextlib.suppress(urllib.error.URLError, OSError),
                urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response,
            ):
                if response.status == 200:
                    break
            if process.poll() is not None or time.monotonic() > deadline:
                tail = "\n".join(log_path.read_text(errors="replace").splitlines()[-20:])
                raise SystemExit(f"streamlit did not come up for {script.name}:\n{tail}")
            time.sleep(0.3)
        yield url, process
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=15)


def cpu_s(pid: int) -> float:
    """User + system CPU seconds of process ``pid``, all its threads."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def rss_mb(pid: int) -> float:
    return int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * PAGE_SIZE_MB


def thread_cpu_s(pid: int) -> dict[int, tuple[str, float]]:
    """Per thread id of process ``pid``: its kernel name and user + system CPU seconds."""
    threads: dict[int, tuple[str, float]] = {}
    for task in Path(f"/proc/{pid}/task").iterdir():
        with contextlib.suppress(OSError):
            text = (task / "stat").read_text()
            fields = text.rsplit(")", 1)[1].split()
            threads[int(task.name)] = (
                text[text.index("(") + 1 : text.rindex(")")],
                (int(fields[11]) + int(fields[12])) / CLK_TCK,
            )
    return threads


def load_average() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


# -------------------------------------------------------------------------------------- the page ---


@dataclass
class Window:
    """What one measurement window saw."""

    label: str
    seconds: float = 0.0
    frames: int = 0
    cpu_s: float = 0.0
    rss_start_mb: float = 0.0
    rss_end_mb: float = 0.0
    size: tuple[int, int] = (0, 0)
    errors: int = 0
    stalls: int = 0
    local: list[list[float]] = field(default_factory=list)
    painted: list[list[float]] = field(default_factory=list)
    probe_errors: list[str] = field(default_factory=list)
    threads: dict[int, tuple[str, float]] = field(default_factory=dict)  # tid -> (name, CPU s)
    load: str = ""
    profile: Path | None = None

    @property
    def fps(self) -> float:
        return self.frames / self.seconds if self.seconds else 0.0

    @property
    def server_ms(self) -> float:
        return 1000.0 * self.cpu_s / self.frames if self.frames else float("nan")

    def camera_clock(self) -> tuple[float, float, float] | None:
        """``(t0, period, seen)``: camera frame k (counted across loops) was taken at ``t0 + k * period`` ms
        of page time; ``seen`` is the share of the camera's frames the probe read.

        The probe sees frame k a little after the camera took it, later still when the page is busy: a line
        fitted through the sightings gives the camera's pace, and its lower edge (5th percentile of the
        residuals) the moment of capture.
        """
        counts: list[int] = []
        times: list[float] = []
        for index, now, _ in self.local:
            if index < 0:
                continue
            if counts:
                expected = counts[-1] + (now - times[-1]) * CAMERA_FPS / 1000.0
                counts.append(int(index) + LOOP_FRAMES * round((expected - index) / LOOP_FRAMES))
            else:
                counts.append(int(index))
            times.append(now)
        if len(counts) < 10 or counts[-1] == counts[0]:
            return None
        k, t = np.asarray(counts, float), np.asarray(times)
        period, offset = np.polyfit(k, t, 1)
        t0 = offset + float(np.percentile(t - (offset + period * k), 5))
        return t0, float(period), len(set(counts)) / (counts[-1] - counts[0] + 1)

    def paints(self) -> tuple[int, list[float], float]:
        """Distinct camera frames painted, their latencies (ms), the share of paints whose code was read.

        A paint of index i is camera frame k = i (mod the loop) taken last before the paint; latencies are
        therefore known modulo the loop's length (8 s), far above anything a person would put up with.
        """
        clock = self.camera_clock()
        if clock is None:
            return 0, [], 0.0
        t0, period, _ = clock
        shown_frames: dict[int, float] = {}
        read = 0
        for index, shown, *_ in self.painted:
            if index < 0:
                continue
            read += 1
            latest = (shown - t0) / period
            k = int(index) + LOOP_FRAMES * math.floor((latest - index) / LOOP_FRAMES)
            shown_frames.setdefault(k, shown - (t0 + period * k))  # its first paint
        return len(shown_frames), list(shown_frames.values()), read / max(len(self.painted), 1)


class FrameCounter:
    """Callback frames over a window from the status panel's samples, across stream restarts (the app
    starts a new stream, its counter back at zero, after a gap of more than a second between frames)."""

    def __init__(self, first: dict) -> None:
        self.last = first
        self.frames = 0
        self.stalls = 0  # samples (SAMPLE_S apart) at which the counter had not moved
        self.errors = 0

    def update(self, status: dict, *, sample: bool = True) -> None:
        """Count the frames since the last status; ``sample`` False (the closing read, right after the last
        sample) counts no stall."""
        if not status:
            return
        if status.get("stream") == self.last.get("stream"):
            new = status["frames"] - self.last.get("frames", 0)
            self.errors += status.get("errors", 0) - self.last.get("errors", 0)
        else:
            new = status["frames"]
            self.errors += status.get("errors", 0)
        self.frames += new
        self.stalls += sample and new == 0
        self.last = status


PROBE_STATE = (
    "() => { const b = window.__fzBench; if (!b) return null; "
    "const out = {local: b.local, painted: b.painted, errors: b.errors, videos: b.videos, "
    "format: b.localFormat}; b.local = []; b.painted = []; return out; }"
)


def drain(page, window: Window | None) -> dict:
    """Move what the page's probe has gathered into ``window`` (None: throw it away)."""
    state = webrtc_frame(page).evaluate(PROBE_STATE) or {}
    if window is not None:
        window.local += state.get("local", [])
        window.painted += state.get("painted", [])
        window.probe_errors = state.get("errors", [])
    return state


def start_stream(page, is_app: bool, touch_guard: bool) -> dict:
    """Open live mode (the app), set the touch guard, press START and wait for 30 frames (one retry)."""
    if is_app:
        page.locator(".st-key-mode").get_by_role("radio", name="Live camera").click()
        if touch_guard:
            page.locator('[data-testid="stSidebar"]').get_by_text("Touch guard (hand tracking)").click()
            time.sleep(2.0)
    for attempt in range(3):
        previous = read_status(page).get("stream", 0)
        page.frame_locator('iframe[title*="streamlit_webrtc"]').first.get_by_role(
            "button", name=re.compile(r"^\s*start\s*$", re.I)
        ).wait_for(timeout=60_000)
        click_start(page)
        deadline = time.monotonic() + 60.0
        while time.monotonic() < deadline:
            status = read_status(page)
            if status.get("stream", 0) > previous and status.get("frames", 0) >= 30:
                return status
            time.sleep(0.5)
        if attempt < 2:
            print("  no frames 60 s after START; pressing STOP and START again", flush=True)
            with contextlib.suppress(Exception):
                click_stop(page)
    raise SystemExit("the stream never delivered 30 frames")


def measure(
    browser, script: Path, args: argparse.Namespace, label: str, workdir: Path, profile: bool = False
) -> Window:
    """Serve ``script``, stream for the warm-up then the window, and return what the window saw."""
    width, height = args.size
    config = {
        "width": width,
        "height": height,
        "blocks": CODE_BLOCKS,
        "bits": CODE_BITS,
        "keepResolution": args.keep_resolution,
    }
    probe = PROBE.read_text().replace("__CONFIG__", json.dumps(config))
    window = Window(label)
    options = tuple(
        part for pair in args.option for part in (f"--{pair.split('=', 1)[0]}", pair.split("=", 1)[1])
    )
    with streamlit(script, workdir / f"{label}.log", options) as (url, process):
        context = browser.new_context(viewport={"width": 1400, "height": 1000})
        context.add_init_script(probe)
        context.set_default_timeout(30_000)
        page = context.new_page()
        page.goto(url, wait_until="domcontentloaded")
        try:
            start_stream(page, script == APP, args.touch_guard)
            time.sleep(args.warmup)
            drain(page, None)
            pid = process.pid
            first = read_status(page)
            cpu0, threads0, started = cpu_s(pid), thread_cpu_s(pid), time.monotonic()
            seen = dict(threads0)
            window.rss_start_mb = rss_mb(pid)
            load_before = load_average()
            spy = None
            if profile:
                window.profile = workdir / f"{label}.pyspy.txt"
                spy = subprocess.Popen(
                    [
                        str(Path(sys.executable).parent / "py-spy"),
                        "record",
                        "--pid",
                        str(pid),
                        "--threads",
                        "--duration",
                        str(int(args.seconds)),
                        "--rate",
                        "100",
                        "--format",
                        "raw",
                        "--nonblocking",
                        "--output",
                        str(window.profile),
                    ],
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
            counter = FrameCounter(first)
            while (now := time.monotonic()) - started < args.seconds:
                time.sleep(min(SAMPLE_S, max(args.seconds - (now - started), 0.05)))
                drain(page, window)
                counter.update(read_status(page))
                seen.update(thread_cpu_s(pid))  # threads that end before the window does keep their time
            final = read_status(page)
            window.seconds = time.monotonic() - started
            window.cpu_s = cpu_s(pid) - cpu0
            window.rss_end_mb = rss_mb(pid)
            seen.update(thread_cpu_s(pid))
            window.threads = {
                tid: (name, seconds - threads0.get(tid, ("", 0.0))[1])
                for tid, (name, seconds) in seen.items()
            }
            drain(page, window)
            counter.update(final, sample=False)
            window.frames, window.stalls = counter.frames, counter.stalls
            window.size = final.get("size", (0, 0))
            window.errors = counter.errors
            window.load = f"{load_before} -> {load_average()}"
            grabbed = grab_video(page)
            if grabbed is not None:  # the frame now painted, to look at by eye (kept with --keep)
                cv2.imwrite(str(workdir / f"{label}-painted.png"), grabbed[0])
            if spy is not None:
                spy.wait(timeout=60)
            with contextlib.suppress(Exception):
                click_stop(page)
                time.sleep(1.0)
        finally:
            context.close()
    return window


# ---------------------------------------------------------------------------- inference baseline ---


def inference_ms(width: int, height: int, rounds: int = 2) -> tuple[float, float]:
    """CPU and wall milliseconds per frame of bare ``detect_for_video`` on the stamped camera frames (RGB).

    CPU is this process's (MediaPipe's own threads included), over ``rounds`` passes of the loop after a
    warm-up of 10 frames; the tracker's options (one face) as the app uses them.
    """
    frames = [
        cv2.cvtColor(stamp(frame, index), cv2.COLOR_BGR2RGB)
        for index, frame in enumerate(camera_frames(width, height))
    ]
    with bare_landmarker(LandmarkerOptions(max_faces=1)) as landmarker:
        stamp_ms = 0
        walls: list[float] = []
        cpu = 0.0
        for step, rgb in enumerate(frames[:10] + frames * rounds):
            stamp_ms += 33
            image = mp.Image(image_format=mp.ImageFormat.SRGB, data=rgb)
            usage, start = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter()
            landmarker.detect_for_video(image, stamp_ms)
            wall, after = time.perf_counter() - start, resource.getrusage(resource.RUSAGE_SELF)
            if step >= 10:
                walls.append(wall * 1000.0)
                cpu += (after.ru_utime - usage.ru_utime) + (after.ru_stime - usage.ru_stime)
    return 1000.0 * cpu / len(walls), statistics.median(walls)


# -------------------------------------------------------------------------------------- profiling ---

# py-spy's frames are "function (path:line)", the path relative to the folder it was imported from. A stack
# is classified in two passes, each from the innermost frame outwards: first what the code is doing
# (operation rules, on the frame and the text of its source line), else which part of the system it is in.
BLOCKED_STAGE = "blocked (wait, select, sleep: py-spy's idle test missed it)"
BLOCKED = r"^(Condition\.wait|Event\.wait|\w*Selector\.select|_worker|sleep) \("
OPERATIONS: tuple[tuple[str, str, str], ...] = (  # (stage, frame pattern, source line pattern)
    ("gc.collect(2) after every Streamlit script run", "", r"gc\.collect"),
    ("to_ndarray: decoded frame -> BGR array", "", r"to_ndarray"),
    ("from_ndarray: BGR array -> frame", "", r"from_ndarray"),
    ("encoder's reformat BGR -> yuv420p", r"aiortc/codecs", r"reformat"),
    ("colour conversions (cvtColor)", "", r"cvtColor"),
    ("selfie flip (a reversed copy)", r"^view \(.*pipeline\.py", ""),
    ("copies (copy / ascontiguousarray)", "", r"\.copy\(\)|ascontiguousarray"),
    ("decode (aiortc codec)", r"Decoder\.decode \(", ""),
    ("encode (aiortc codec)", r"Encoder\.(encode|_encode_frame) \(", ""),
    ("SRTP protect / unprotect", r"pylibsrtp/", ""),
    ("model file checks (sha256, on each new stream)", r"vision/assets\.py", ""),
)
PARTS: tuple[tuple[str, str], ...] = (
    ("hand tracking (MediaPipe + ours)", r"vision/hands\.py"),
    ("face tracking (MediaPipe + smoothing, quality)", r"vision/|mediapipe/"),
    ("zones (geometry, safety, touch)", r"zones/"),
    ("overlay drawing", r"overlays/"),
    ("live/pipeline glue", r"^\S+ \((live|pipeline)\.py"),
    ("streamlit-webrtc hand-offs (queues, worker loop)", r"streamlit_webrtc/"),
    ("RTP, RTCP, jitter buffer, ICE (aiortc, aioice)", r"aiortc/|aioice/"),
    ("Streamlit server, script runs, websocket", r"streamlit/|tornado/|uvicorn/|starlette/|websockets/"),
    ("thread hand-offs (queue, futures, asyncio loop)", r"queue\.py|threading\.py|concurrent/|asyncio/"),
)


@functools.cache
def source_file(path: str) -> str | None:
    """The file behind one of py-spy's relative paths (the project, site-packages or the standard library)."""
    roots = [ROOT, *(Path(p) for p in sys.path if p), Path(sysconfig.get_paths()["stdlib"])]
    return next((str(root / path) for root in roots if (root / path).is_file()), None)


def source_line(frame: str) -> str:
    match = re.match(r".* \((.*):(\d+)\)$", frame)
    path = source_file(match.group(1)) if match else None
    return linecache.getline(path, int(match.group(2))) if path else ""


def classify(stack: list[str]) -> str:
    """The stage of one sampled stack (outermost frame first)."""
    if not stack or re.search(BLOCKED, stack[-1]) or "time.sleep(" in source_line(stack[-1]):
        return BLOCKED_STAGE
    for frame in reversed(stack):
        for stage, frame_pattern, line_pattern in OPERATIONS:
            if frame_pattern and not re.search(frame_pattern, frame):
                continue
            if not line_pattern or re.search(line_pattern, source_line(frame)):
                return stage
    for frame in reversed(stack):
        for stage, pattern in PARTS:
            if re.search(pattern, frame):
                return stage
    return "other Python"


def profile_tables(window: Window, rate: float = 100.0) -> list[str]:
    """Where the server's CPU goes per callback frame: by thread, and by stage within the Python threads.

    Thread CPU is exact (``/proc/<pid>/task``). py-spy samples only Python threads; each Python thread's CPU
    is spread over stages in proportion to its samples. Threads py-spy never saw are native ones (MediaPipe's
    graph executors, codec workers): one row of their own.
    """
    if window.profile is None or not window.profile.exists():
        return ["(no py-spy profile was written)"]
    samples: dict[int, Counter[str]] = defaultdict(Counter)
    names: dict[int, str] = {}
    for line in window.profile.read_text(errors="replace").splitlines():
        stack, _, count = line.rpartition(" ")
        match = re.match(r"thread \((\d+)\): ([^;]*)(?:;(.*))?$", stack)
        if match and count.isdigit():
            tid = int(match.group(1))
            names[tid] = match.group(2)
            samples[tid][classify(match.group(3).split(";") if match.group(3) else [])] += int(count)
    frames = max(window.frames, 1)
    by_thread: Counter[str] = Counter()
    stages: Counter[str] = Counter()
    ended: Counter[str] = Counter()  # stages of threads too short-lived for /proc sampling (script runs)
    for tid, counts in samples.items():
        if tid not in window.threads:
            ended.update(counts)
    for tid, (comm, seconds) in window.threads.items():
        ms = 1000.0 * seconds / frames
        if tid in samples:
            by_thread[re.sub(r"[-_]([0-9a-f]{8}-[0-9a-f-]+|\d+(_\d+)?)$", "-#", names[tid])] += ms
            # A blocked thread burns no CPU: its CPU belongs to the samples where it was working.
            working = {stage: n for stage, n in samples[tid].items() if stage != BLOCKED_STAGE} or samples[
                tid
            ]
            total = sum(working.values())
            for stage, count in working.items():
                stages[stage] += ms * count / total
        else:
            by_thread["(native) " + re.sub(r"\d+$", "#", comm)] += ms
            stages["native threads (MediaPipe graph, codec workers)"] += ms
    rest = 1000.0 * (window.cpu_s - sum(seconds for _, seconds in window.threads.values())) / frames
    by_thread["short-lived threads (Streamlit script runs)"] += rest
    for stage, count in ended.items():
        stages[stage] += rest * count / max(sum(ended.values()), 1)
    if not ended:
        stages["short-lived threads (Streamlit script runs)"] += rest
    rows: list[str] = []
    for title, table in (("server thread (CPU from /proc)", by_thread), ("stage (py-spy + /proc)", stages)):
        whole = sum(table.values()) or 1.0
        rows += [f"| {title:<60} | ms/frame | share |", f"|{'-' * 62}|---------:|------:|"]
        rows += [
            f"| {name:<60} | {ms:8.2f} | {100 * ms / whole:4.1f}% |"
            for name, ms in table.most_common()
            if ms >= 0.005
        ]
        rows.append(f"| {'total':<60} | {whole:8.2f} |  100% |")
    return rows


# ------------------------------------------------------------------------------------------- main ---


def summary(window: Window) -> dict[str, float]:
    distinct, latencies, read = window.paints()
    p50, p95 = np.percentile(latencies, [50, 95]) if latencies else (float("nan"),) * 2
    return {
        "fps": window.fps,
        "painted_fps": distinct / window.seconds if window.seconds else 0.0,
        "paints_per_s": len(window.painted) / window.seconds if window.seconds else 0.0,
        "code_read": read,
        "server_ms": window.server_ms,
        "latency_ms_p50": float(p50),
        "latency_ms_p95": float(p95),
        "rss_growth_mb": window.rss_end_mb - window.rss_start_mb,
    }


def describe(window: Window) -> str:
    s = summary(window)
    clock = window.camera_clock()
    camera = (
        f"camera clock {clock[1]:.1f} ms/frame, {100 * clock[2]:.0f}% of frames seen" if clock else "no clock"
    )
    return (
        f"{window.label}: fps={s['fps']:.1f} painted_fps={s['painted_fps']:.1f} "
        f"(paints/s {s['paints_per_s']:.1f}, code read in {100 * s['code_read']:.0f}%) "
        f"server_ms={s['server_ms']:.1f} latency_ms_p50={s['latency_ms_p50']:.0f} "
        f"latency_ms_p95={s['latency_ms_p95']:.0f} rss {window.rss_start_mb:.0f}->"
        f"{window.rss_end_mb:.0f} MB, received {window.size[0]}x{window.size[1]}, errors={window.errors} "
        f"stalls={window.stalls}, {window.frames} frames in {window.seconds:.1f} s, {camera}, "
        f"load {window.load}"
    )


def parse_size(text: str) -> tuple[int, int]:
    match = re.fullmatch(r"(\d+)x(\d+)", text)
    if not match or int(match.group(1)) % 2 or int(match.group(2)) % 2:
        raise argparse.ArgumentTypeError(f"size must be WIDTHxHEIGHT with even numbers, got {text!r}")
    return int(match.group(1)), int(match.group(2))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=parse_size, default=(640, 480), help="camera size: 640x480, 1280x720")
    parser.add_argument("--touch-guard", action="store_true", help="turn the app's touch guard on")
    parser.add_argument("--seconds", type=float, default=25.0, help="measurement window (default 25)")
    parser.add_argument("--minutes", type=float, default=0.0, help="a soak: the window lasts this long")
    parser.add_argument("--warmup", type=float, default=5.0, help="seconds streamed before the window")
    parser.add_argument("--no-floor", action="store_true", help="skip the empty-callback transport floor")
    parser.add_argument("--floor-only", action="store_true", help="measure the transport floor alone")
    parser.add_argument("--profile", action="store_true", help="py-spy the app's server during the window")
    parser.add_argument(
        "--keep-resolution",
        action="store_true",
        help="ask Chromium to keep the camera's size under load (contentHint 'detail')",
    )
    parser.add_argument(
        "--option",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a Streamlit option for both servers, e.g. runner.postScriptGC=false (for A/B)",
    )
    parser.add_argument("--keep", type=Path, help="keep logs, the camera file and profiles in this folder")
    args = parser.parse_args()
    if args.minutes:
        args.seconds = 60.0 * args.minutes
    if not CHROMIUM.exists() or shutil.which(str(CHROMIUM)) is None:
        raise SystemExit(f"{CHROMIUM} not found: run `make browser` first")
    from playwright.sync_api import sync_playwright

    workdir = args.keep or Path(tempfile.mkdtemp(prefix="facezones-live-bench-"))
    workdir.mkdir(parents=True, exist_ok=True)
    width, height = args.size
    camera = write_camera(workdir / f"camera-{width}x{height}.y4m", width, height)
    chromium_args = [
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
    print(
        f"live bench: camera {width}x{height} at {CAMERA_FPS} fps, touch guard "
        f"{'on' if args.touch_guard else 'off'}, window {args.seconds:.0f} s after {args.warmup:.0f} s "
        f"warm-up, {os.cpu_count()} cores, load {load_average()}",
        flush=True,
    )
    windows: dict[str, Window] = {}
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=str(CHROMIUM), args=chromium_args, headless=True
            )
            try:
                if not args.no_floor:
                    windows["floor"] = measure(browser, FLOOR_APP, args, "floor", workdir, args.profile)
                    print(describe(windows["floor"]), flush=True)
                if not args.floor_only:
                    windows["app"] = measure(browser, APP, args, "app", workdir, profile=args.profile)
                    print(describe(windows["app"]), flush=True)
            finally:
                browser.close()
        cpu_ms, wall_ms = inference_ms(width, height)
        print(
            f"inference: bare detect_for_video {cpu_ms:.1f} ms CPU ({wall_ms:.1f} ms wall) per frame at "
            f"{width}x{height}, load {load_average()}"
        )
        for window in windows.values():
            if window.probe_errors:
                print(f"{window.label}: page probe errors: " + "; ".join(window.probe_errors[:5]))
        if args.profile:
            for window in windows.values():
                print(f"{window.label}:")
                print("\n".join(profile_tables(window)))
    finally:
        if args.keep is None:
            shutil.rmtree(workdir, ignore_errors=True)
    s = summary(windows["floor" if args.floor_only else "app"])
    print(
        f"fps={s['fps']:.1f} painted_fps={s['painted_fps']:.1f} server_ms={s['server_ms']:.1f} "
        f"inference_ms={cpu_ms:.1f} ratio={s['server_ms'] / cpu_ms:.2f} "
        f"latency_ms_p50={s['latency_ms_p50']:.0f} latency_ms_p95={s['latency_ms_p95']:.0f} "
        f"rss_growth_mb={s['rss_growth_mb']:.1f}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
