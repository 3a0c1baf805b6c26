"""The live camera path without Streamlit: settings in, frames through, status out, across threads.

streamlit-webrtc calls the frame callback on its own worker thread. The script thread never touches that
thread's state directly: it swaps an immutable settings object into a ``SettingsBox`` under a lock, and reads
the newest ``LiveStatus`` from a one-slot ``LatestOnly`` mailbox. Stale frames are dropped rather than
processed late: the relay in front of the worker keeps only the newest decoded frame
(``use_latest_frame_relay``), and the worker hands the callback only the newest of those it has. The video
sent back is encoded with libvpx options tuned for this (``use_live_transport``).
"""

from __future__ import annotations

import functools
import tempfile
import threading
import time
from collections import deque
from collections.abc import Callable, MutableMapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Generic, TypeVar

import av
import numpy as np
from aiortc import MediaStreamTrack, rtcrtpsender
from aiortc.codecs import get_encoder, vpx
from aiortc.codecs.base import Encoder
from aiortc.contrib.media import MediaRelay
from aiortc.rtcrtpparameters import RTCRtpCodecParameters

from overlays.scene import SceneData
from pipeline import Settings, StreamProcessor, pipeline_for
from vision.landmarker import LandmarkerOptions
from vision.tasks import StrictClock
from vision.video import annotate_video
from zones.safety import CAUTION, NO_TOUCH
from zones.wording import format_day

T = TypeVar("T")
S = TypeVar("S")

FPS_WINDOW_S = 2.0
TRACKER_RESET_GAP_S = 1.0


class SettingsBox(Generic[T]):
    """One immutable settings object, replaced whole by the script and read whole by the frame thread."""

    def __init__(self, value: T) -> None:
        self._lock = threading.Lock()
        self._value = value

    def get(self) -> T:
        with self._lock:
            return self._value

    def set(self, value: T) -> None:
        with self._lock:
            self._value = value


class LatestOnly(Generic[T]):
    """A one-slot mailbox: ``put`` replaces what is there, so a slow reader only ever sees the newest item."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._item: T | None = None

    def put(self, item: T) -> None:
        with self._lock:
            self._item = item

    def peek(self) -> T | None:
        with self._lock:
            return self._item

    def take(self) -> T | None:
        with self._lock:
            item, self._item = self._item, None
            return item


@dataclass(frozen=True)
class FrameReport:
    """What one processed frame tells the status panel (filled by the frame function)."""

    faces: int = 0
    hint: str = ""
    no_touch: tuple[str, ...] = ()
    touching: tuple[str, ...] = ()  # no-touch areas a fingertip is in now (touch guard on)
    caution_segments: int = 0  # stroke segments drawn as caution in this frame
    withheld: bool = False  # guidance withheld (screening, a warning sign): no stroke is drawn
    warnings: tuple[tuple[str, int], ...] = ()  # (area id, touches so far in this stream), touched areas only


@dataclass(frozen=True)
class LiveStatus:
    """The newest state of the live stream, as shown beside the video."""

    stream: int = 0
    frames: int = 0
    fps: float = 0.0
    frame_ms: float = 0.0
    size: tuple[int, int] = (0, 0)
    report: FrameReport = field(default_factory=FrameReport)
    errors: int = 0
    last_error: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {
            "stream": self.stream,
            "frames": self.frames,
            "fps": round(self.fps, 1),
            "frame_ms": round(self.frame_ms, 1),
            "size": list(self.size),
            "faces": self.report.faces,
            "hint": self.report.hint,
            "no_touch": list(self.report.no_touch),
            "touching": list(self.report.touching),
            "caution_segments": self.report.caution_segments,
            "withheld": self.report.withheld,
            "errors": self.errors,
            "last_error": self.last_error,
        }


class FpsMeter:
    """Frames per second over a sliding window of recent frame times (monotonic seconds)."""

    def __init__(self, window_s: float = FPS_WINDOW_S) -> None:
        self.window_s = window_s
        self._times: deque[float] = deque()

    def tick(self, now: float) -> float:
        self._times.append(now)
        while self._times and now - self._times[0] > self.window_s:
            self._times.popleft()
        if len(self._times) < 2:
            return 0.0
        return (len(self._times) - 1) / max(self._times[-1] - self._times[0], 1e-6)


FrameFunction = Callable[[np.ndarray, int, float, S], tuple[np.ndarray, FrameReport]]
"""``(frame_bgr (H, W, 3) uint8, timestamp_ms, fps, settings) -> (frame_bgr to show, report)``."""


class LiveCallback(Generic[S]):
    """The ``video_frame_callback``: av frame -> BGR array -> frame function -> av frame, never raising.

    ``make_frame_function`` is called on the worker thread for each new stream (after ``end_stream`` or a
    pause longer than ``TRACKER_RESET_GAP_S``), so per-stream state such as a VIDEO-mode tracker and its
    smoothing starts fresh. A frame that fails is passed through unchanged and counted; the stream goes on.
    A frame function with a ``close()`` (native MediaPipe graphs) is closed when its stream ends: a graph
    left to the garbage collector can deadlock the thread that collects it.
    """

    def __init__(
        self,
        settings: SettingsBox[S],
        make_frame_function: Callable[[], FrameFunction[S]],
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.settings = settings
        self.status: LatestOnly[LiveStatus] = LatestOnly()
        self.last_frame: LatestOnly[np.ndarray] = LatestOnly()  # the newest frame as shown, for snapshots
        self._make_frame_function = make_frame_function
        self._clock = clock
        self._lock = threading.Lock()  # a frame and end_stream() never overlap
        self._function: FrameFunction[S] | None = None
        self._meter = FpsMeter()
        self._frames = 0
        self._errors = 0
        self._last_error = ""
        self._streams = 0
        self._ended = True
        self._last_time = -np.inf
        self._stamps = StrictClock()

    def end_stream(self) -> None:
        """The stream has ended (``on_video_ended``): close its frame function; the next frame starts anew."""
        with self._lock:
            self._close_function()
            self._ended = True

    def _close_function(self) -> None:
        close = getattr(self._function, "close", None)
        self._function = None
        if close is not None:
            close()

    def _start_stream(self) -> None:
        self._close_function()
        self._meter = FpsMeter()
        self._frames = self._errors = 0
        self._last_error = ""
        self._streams += 1
        self._ended = False

    def _status_fps(self) -> float:
        status = self.status.peek()
        return status.fps if status is not None and status.stream == self._streams else 0.0

    def __call__(self, frame: av.VideoFrame) -> av.VideoFrame:
        with self._lock:
            return self._process(frame)

    def _process(self, frame: av.VideoFrame) -> av.VideoFrame:
        start = self._clock()
        if self._ended or start - self._last_time > TRACKER_RESET_GAP_S:
            self._start_stream()
        self._last_time = start
        # MediaPipe's VIDEO mode needs strictly increasing time stamps, whatever the frames' own pts say.
        timestamp_ms = self._stamps.stamp(start * 1000.0)
        report = FrameReport()
        try:
            canvas = frame.reformat(format="bgr24")  # the frame drawn on and sent back
            image = canvas.to_ndarray()  # (H, W, 3) uint8 BGR, a view of the canvas's pixels: no copy
            if self._function is None:
                self._function = self._make_frame_function()
            fps = self._status_fps()
            shown, report = self._function(image, timestamp_ms, fps, self.settings.get())
            if shown is not image and shown.shape == image.shape:  # e.g. the selfie view's flipped copy
                np.copyto(image, shown)
            elif shown is not image:
                canvas = av.VideoFrame.from_ndarray(np.ascontiguousarray(shown), format="bgr24")
            self.last_frame.put(shown if shown.shape != image.shape else image)
            # The encoder takes yuv420p: convert here, on this worker thread, rather than on the thread that
            # feeds the encoder, and once (streamlit-webrtc sends a frame again while the next is processed).
            out = canvas.reformat(format="yuv420p")
        except Exception as err:  # a bad frame must not end the stream: show it raw, report the error
            self._errors += 1
            self._last_error = f"{type(err).__name__}: {err}"[:200]
            out = frame
        now = self._clock()
        self._frames += 1
        self.status.put(
            LiveStatus(
                stream=self._streams,
                frames=self._frames,
                fps=self._meter.tick(now),
                frame_ms=(now - start) * 1000.0,
                size=(frame.width, frame.height),
                report=report,
                errors=self._errors,
                last_error=self._last_error,
            )
        )
        return out


def prepare_stream_context(session_state: MutableMapping[str, Any], key: str) -> None:
    """Work around streamlit-webrtc's orphaned-context check; call just before each ``webrtc_streamer(key)``.

    Since 0.72.1 ``_get_or_create_context`` resets (and stops the worker of) a stored context whose
    ``_last_rendered_run_count`` lags the session's ``script_run_count`` by more than one run. Streamlit
    bumps that counter asynchronously, when its event loop ships ``script_finished``, so the check fires
    spuriously right after START in about 1 run in 9 and kills the stream it has just created. Clearing the
    stored count disables that check; the app makes up for it with ``release_stream_context`` whenever the
    page is drawn without the streamer, which is the only case the check exists for.
    """
    context = session_state.get(key)
    if context is not None and hasattr(context, "_last_rendered_run_count"):
        context._last_rendered_run_count = None


class LatestFrameRelay(MediaRelay):
    """A ``MediaRelay`` whose subscribers hold only the newest frame of their source, never a queue."""

    def subscribe(self, track: MediaStreamTrack, buffered: bool = False) -> MediaStreamTrack:
        del buffered  # always unbuffered: a late reader skips to the newest frame
        return super().subscribe(track, buffered=False)


def use_latest_frame_relay() -> None:
    """Make streamlit-webrtc's server-wide relay unbuffered, so the callback never queues behind a slow frame.

    streamlit-webrtc 0.79 feeds the frame callback through one ``MediaRelay`` subscribed with
    ``buffered=True``: an unbounded queue between the camera's decoder and the processing track, which takes
    one frame each time the encoder side asks for one. When the machine is busy the encoder asks less than
    30 times a second, frames pile up in that queue and the picture lags by seconds. Unbuffered, each read
    takes the newest decoded frame. Call before ``webrtc_streamer``; streams already running keep theirs.
    """
    from streamlit.runtime.runtime import Runtime
    from streamlit_webrtc import relay

    runtime = Runtime.instance()
    name = relay._SERVER_GLOBAL_RELAY_ATTR_NAME_
    if not isinstance(getattr(runtime, name, None), LatestFrameRelay):
        setattr(runtime, name, LatestFrameRelay())


# libvpx options over aiortc's own for the video sent back: no temporal denoiser (the picture was already
# encoded once by the browser; the denoiser cost about a third of the encode) and one speed step faster
# (-10 against -6). `python bench/encode.py`: 2.41 ms against 3.90 ms of CPU per frame at 640x480 (5.77
# against 9.32 at 1280x720), luma PSNR 39.22 dB against 39.18 dB.
LIVE_VP8_OPTIONS = {"noise-sensitivity": "0", "cpu-used": "-10"}


class _TunedOptions:
    """A libvpx codec context whose ``options``, when aiortc sets them, get ``LIVE_VP8_OPTIONS`` on top."""

    def __init__(self, context: Any) -> None:
        object.__setattr__(self, "_context", context)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._context, name)

    def __setattr__(self, name: str, value: Any) -> None:
        if name == "options":
            value = {**value, **LIVE_VP8_OPTIONS}
        setattr(self._context, name, value)


class LiveVp8Encoder(vpx.Vp8Encoder):
    """aiortc's VP8 encoder with ``LIVE_VP8_OPTIONS``; aiortc still makes (and remakes) the codec itself."""

    @property
    def codec(self) -> Any:
        return self._tuned

    @codec.setter
    def codec(self, context: Any) -> None:
        self._tuned = None if context is None else _TunedOptions(context)


def live_encoder(codec: RTCRtpCodecParameters) -> Encoder:
    """aiortc's ``get_encoder``, with ``LiveVp8Encoder`` for VP8."""
    return LiveVp8Encoder() if codec.mimeType.lower() == "video/vp8" else get_encoder(codec)


def use_live_transport() -> None:
    """The live transport of the app (and of the bench's transport floor): the unbuffered relay
    (``use_latest_frame_relay``) and the tuned VP8 encoder for the video sent back. Call before
    ``webrtc_streamer``."""
    use_latest_frame_relay()
    rtcrtpsender.get_encoder = live_encoder  # type: ignore[attr-defined]


def release_stream_context(session_state: MutableMapping[str, Any], key: str) -> None:
    """Stop the stream stored under ``key`` and forget its context (the streamer is no longer on the page).

    Its iframe is gone, so any worker or SDP answer it held is stale; the next ``webrtc_streamer(key)``
    starts from a fresh context.
    """
    context = session_state.get(key)
    if context is None or not hasattr(context, "_get_worker"):
        return
    worker = context._get_worker()
    if worker is not None:
        worker.stop()
    del session_state[key]


# ------------------------------------------------------------------- the FaceZones chain on a stream ---


@functools.lru_cache(maxsize=16)
def no_touch_summary(settings: Settings) -> tuple[str, ...]:
    """ "Area until day" for every no-touch area of the plan, for the status panel (once per settings).

    Raises ``PlanError`` / ``CatalogueError`` for a plan or catalogue that cannot be used.
    """
    pipeline = pipeline_for(settings)
    labels = {area.id: area.label for area in pipeline.catalogue.areas}
    return tuple(
        f"{labels[v.area_id]} until {format_day(v.safe_from)}"
        for v in pipeline.safety.verdicts
        if v.status == NO_TOUCH
    )


def frame_report(data: SceneData, settings: Settings) -> FrameReport:
    """What the status panel shows of one processed frame."""
    faces = data.faces
    hint = "; ".join(data.notes)  # no face, a map that does not fit, too small or turned, out of sight
    touching = data.touch.active_labels if data.touch is not None else ()
    caution = int(np.count_nonzero(np.asarray(data.segment_status) == CAUTION))
    warnings = (
        tuple((data.touch.area_ids[i], int(data.touch.counts[i])) for i in np.flatnonzero(data.touch.counts))
        if data.touch is not None
        else ()
    )
    return FrameReport(
        faces=len(faces),
        hint=hint,
        no_touch=no_touch_summary(settings),
        touching=touching,
        caution_segments=caution,
        withheld=data.safety.withheld,
        warnings=warnings,
    )


class PipelineFrames:
    """A ``FrameFunction`` for one stream: the shared ``StreamProcessor`` plus the status panel's report."""

    def __init__(self, options: LandmarkerOptions | None = None) -> None:
        self._stream = StreamProcessor(options)

    def __call__(
        self, frame_bgr: np.ndarray, timestamp_ms: int, fps: float, settings: Settings
    ) -> tuple[np.ndarray, FrameReport]:
        shown, result = self._stream(frame_bgr, timestamp_ms, settings, fps or None)
        return shown, frame_report(result, settings)

    def close(self) -> None:
        self._stream.close()


def replay_clip(
    source: str | Path,
    settings: Settings,
    *,
    max_seconds: float = 20.0,
    max_width: int = 960,
    on_progress: Callable[[int, int | None], None] | None = None,
) -> tuple[bytes, list[FrameReport]]:
    """Run a clip through the live chain frame by frame and encode the result as H.264 MP4 for a browser.

    At most ``max_seconds`` are processed; frames wider than ``max_width`` are scaled down first. Returns the
    MP4 bytes and one ``FrameReport`` per frame. Raises ``VideoError`` for a file that is not a video.
    """
    reports: list[FrameReport] = []
    with StreamProcessor() as stream, tempfile.TemporaryDirectory(prefix="facezones-replay-") as workdir:

        def render(frame_bgr: np.ndarray, timestamp_ms: int) -> np.ndarray:
            shown, result = stream(frame_bgr, timestamp_ms, settings)
            reports.append(frame_report(result, settings))
            return shown

        summary = annotate_video(
            source,
            Path(workdir) / "mapped.mp4",
            render,
            on_progress,
            max_seconds=max_seconds,
            max_width=max_width,
        )
        return summary.path.read_bytes(), reports
