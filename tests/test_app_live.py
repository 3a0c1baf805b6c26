"""The live path without a browser: the settings box, the one-slot status, the frame callback on made-up
``av.VideoFrame``s, and the streamlit-webrtc context workaround against the installed library's own class."""

from __future__ import annotations

import asyncio
import io
import threading
from collections.abc import Iterator
from dataclasses import replace
from datetime import date, datetime
from fractions import Fraction
from pathlib import Path
from types import SimpleNamespace

import av
import numpy as np
import pytest
from aiortc import MediaStreamTrack, rtcrtpsender
from aiortc.codecs import H264Encoder
from aiortc.codecs.vpx import Vp8Decoder, VpxPayloadDescriptor
from aiortc.contrib.media import MediaRelay
from aiortc.jitterbuffer import JitterFrame
from aiortc.rtcrtpparameters import RTCRtpCodecParameters
from streamlit_webrtc import WebRtcStreamerState
from streamlit_webrtc.component import WebRtcStreamerContext

from live import (
    FpsMeter,
    FrameReport,
    LatestFrameRelay,
    LatestOnly,
    LiveCallback,
    LiveVp8Encoder,
    PipelineFrames,
    SettingsBox,
    prepare_stream_context,
    release_stream_context,
    replay_clip,
    use_live_transport,
)
from pipeline import Settings
from vision.assets import HAND_ON_FACE, SAMPLE_CLIP, ensure
from vision.video import VideoError
from zones.plan import Plan, Treatment
from zones.wording import format_day


class FakeClock:
    def __init__(self, step_s: float = 1 / 30) -> None:
        self.now = 100.0
        self.step_s = step_s

    def __call__(self) -> float:
        self.now += self.step_s / 2  # called twice per frame
        return self.now


def as_video_frame(image_bgr: np.ndarray) -> av.VideoFrame:
    return av.VideoFrame.from_ndarray(np.ascontiguousarray(image_bgr), format="bgr24")


def make_frame(width: int = 64, height: int = 48, value: int = 90) -> av.VideoFrame:
    image = np.full((height, width, 3), value, np.uint8)
    image[:, : width // 2] = 10  # left half dark, so a flip is visible
    return av.VideoFrame.from_ndarray(image, format="bgr24")


def test_settings_box_swaps_whole_objects_between_threads() -> None:
    box = SettingsBox(("plan-a", 1))
    seen: list[tuple[str, int]] = []

    def reader() -> None:
        for _ in range(1000):
            seen.append(box.get())

    thread = threading.Thread(target=reader)
    thread.start()
    for i in range(1000):
        box.set(("plan-b", i))
    thread.join(timeout=10)
    assert not thread.is_alive()
    assert all(item[0] in ("plan-a", "plan-b") for item in seen)
    assert box.get() == ("plan-b", 999)


def test_latest_only_keeps_the_newest_item() -> None:
    slot: LatestOnly[int] = LatestOnly()
    assert slot.take() is None
    for i in range(5):
        slot.put(i)
    assert slot.peek() == 4
    assert slot.take() == 4
    assert slot.take() is None


def test_fps_meter_measures_the_recent_rate() -> None:
    meter = FpsMeter(window_s=2.0)
    rates = [meter.tick(t / 30) for t in range(120)]
    assert rates[0] == 0.0
    assert rates[-1] == pytest.approx(30.0, rel=0.02)
    assert meter.tick(120 / 30 + 10.0) == 0.0  # a long pause empties the window


def test_callback_runs_the_frame_function_with_the_current_settings() -> None:
    calls: list[tuple[int, bool]] = []

    def make():
        def run(image: np.ndarray, stamp: int, fps: float, mirror: bool) -> tuple[np.ndarray, FrameReport]:
            calls.append((stamp, mirror))
            return (image[:, ::-1] if mirror else image), FrameReport(faces=1, hint="ok")

        return run

    settings = SettingsBox(False)
    callback = LiveCallback(settings, make, clock=FakeClock())
    sent = callback(make_frame())
    assert sent.format.name == "yuv420p"  # what the encoder takes: converted on the callback's thread
    plain = sent.to_ndarray(format="bgr24")
    settings.set(True)
    flipped = callback(make_frame()).to_ndarray(format="bgr24")
    # yuv420p keeps the picture, not exact values (limited-range rounding): dark 10 and light 90 stay apart.
    assert abs(int(plain[0, 0, 0]) - 10) <= 5 and abs(int(flipped[0, 0, 0]) - 90) <= 5
    assert [mirror for _, mirror in calls] == [False, True]
    assert calls[1][0] > calls[0][0]
    status = callback.status.peek()
    assert status is not None
    assert (status.stream, status.frames, status.size, status.report.faces) == (1, 2, (64, 48), 1)


def test_a_failing_frame_is_shown_raw_and_the_stream_goes_on() -> None:
    def make():
        count = {"n": 0}

        def run(image: np.ndarray, stamp: int, fps: float, settings: None) -> tuple[np.ndarray, FrameReport]:
            count["n"] += 1
            if count["n"] == 2:
                raise ValueError("landmarks must be (F, 478, 3), got (1, 5, 3)")
            return np.zeros_like(image), FrameReport(faces=1)

        return run

    callback = LiveCallback(SettingsBox(None), make, clock=FakeClock())
    frames = [callback(make_frame()) for _ in range(3)]
    assert frames[1].to_ndarray(format="bgr24").max() == 90  # the raw frame, untouched
    assert frames[2].to_ndarray(format="bgr24").max() == 0  # processing resumed
    status = callback.status.peek()
    assert status.frames == 3 and status.errors == 1
    assert status.last_error.startswith("ValueError: landmarks must be")


def test_a_failing_factory_does_not_raise_either() -> None:
    def make():
        raise RuntimeError("model missing")

    callback = LiveCallback(SettingsBox(None), make, clock=FakeClock())
    out = callback(make_frame())
    assert out.width == 64
    assert callback.status.peek().last_error == "RuntimeError: model missing"


def test_ending_a_stream_closes_its_frame_function() -> None:
    closed: list[int] = []

    class Closable:
        def __init__(self) -> None:
            self.number = len(closed) + 100

        def __call__(
            self, image: np.ndarray, stamp: int, fps: float, settings: None
        ) -> tuple[np.ndarray, FrameReport]:
            return image, FrameReport()

        def close(self) -> None:
            closed.append(self.number)

    callback = LiveCallback(SettingsBox(None), Closable, clock=FakeClock())
    callback(make_frame())
    callback.end_stream()
    assert closed == [100]
    callback.end_stream()  # nothing left to close
    callback(make_frame())
    callback(make_frame())
    assert closed == [100]
    callback.end_stream()
    assert closed == [100, 101]


def test_each_stream_gets_fresh_state_and_increasing_time_stamps() -> None:
    made: list[list[int]] = []

    def make():
        stamps: list[int] = []
        made.append(stamps)

        def run(image: np.ndarray, stamp: int, fps: float, settings: None) -> tuple[np.ndarray, FrameReport]:
            stamps.append(stamp)
            return image, FrameReport()

        return run

    clock = FakeClock()
    callback = LiveCallback(SettingsBox(None), make, clock=clock)
    for _ in range(3):
        callback(make_frame())
    callback.end_stream()
    callback(make_frame())
    clock.now += 5.0  # a pause longer than the reset gap also starts a new stream
    callback(make_frame())
    assert [len(stamps) for stamps in made] == [3, 1, 1]
    assert made[0] == sorted(set(made[0]))
    assert callback.status.peek().stream == 3 and callback.status.peek().frames == 1


class FakeWorker:
    def __init__(self) -> None:
        self.stopped = False

    def stop(self) -> None:
        self.stopped = True


def test_prepare_clears_the_run_count_the_orphan_check_reads() -> None:
    context = WebRtcStreamerContext(worker=None, state=WebRtcStreamerState(playing=True, signalling=False))
    context._last_rendered_run_count = 7
    state = {"live": context}
    prepare_stream_context(state, "live")
    assert context._last_rendered_run_count is None
    prepare_stream_context({}, "live")  # nothing stored yet: nothing to do


def test_release_stops_the_worker_and_forgets_the_context() -> None:
    worker = FakeWorker()
    context = WebRtcStreamerContext(worker=worker, state=WebRtcStreamerState(playing=True, signalling=False))
    state = {"live": context, "other": 1}
    release_stream_context(state, "live")
    assert worker.stopped
    assert state == {"other": 1}
    release_stream_context(state, "live")  # already gone: no error


class NumberedFrames(MediaStreamTrack):
    """A video source as fast as its reader: frame n carries pts n."""

    kind = "video"

    def __init__(self) -> None:
        super().__init__()
        self.made = 0

    async def recv(self) -> av.VideoFrame:
        await asyncio.sleep(0)
        self.made += 1
        frame = av.VideoFrame(16, 16, "yuv420p")
        frame.pts = self.made
        return frame


def frames_read_around_a_busy_spell(relay: MediaRelay) -> tuple[int, int, int]:
    """pts of a reader's frame before and after it was busy for 60 turns of the loop, and frames made."""

    async def run() -> tuple[int, int, int]:
        source = NumberedFrames()
        reader = relay.subscribe(source)
        before = await reader.recv()
        for _ in range(60):  # the reader is busy (say, encoding); the camera goes on
            await asyncio.sleep(0)
        after = await reader.recv()
        reader.stop()
        return before.pts, after.pts, source.made

    result: list[tuple[int, int, int]] = []  # on a thread of its own: another test may leave a loop running
    worker = threading.Thread(target=lambda: result.append(asyncio.run(run())))
    worker.start()
    worker.join(timeout=60)
    return result[0]


def test_the_relay_hands_a_reader_back_from_a_busy_spell_the_newest_frame() -> None:
    before, after, made = frames_read_around_a_busy_spell(LatestFrameRelay())
    assert made > before + 10
    assert after >= made - 1, f"frame {after} of {made}: the reader was handed a stale frame"
    # streamlit-webrtc's own buffered relay hands over the next frame in line, however old.
    before, after, made = frames_read_around_a_busy_spell(MediaRelay())
    assert after == before + 1 and made > after + 10


# ------------------------------------------------------------------ the FaceZones chain on frames ---


def demo_settings(mirror: bool) -> Settings:
    plan = Plan(
        (Treatment(("lips", "nasolabial_left"), "ha_filler", datetime(2026, 3, 1)),),
        "hands",
        date(2026, 3, 5),
    )
    return Settings(plan=plan, mirror=mirror)


@pytest.fixture
def live_callback() -> Iterator[LiveCallback[Settings]]:
    """A callback over the real chain; its trackers are closed at the end (never left to the collector)."""
    callback = LiveCallback(SettingsBox(demo_settings(mirror=False)), PipelineFrames, clock=FakeClock())
    yield callback
    callback.end_stream()


def test_the_live_chain_maps_the_clip_and_keeps_the_subjects_sides(
    clip_frames: tuple[tuple[np.ndarray, ...], tuple[int, ...]],
    live_callback: LiveCallback[Settings],
) -> None:
    frames, _ = clip_frames
    callback = live_callback
    plain = [callback(as_video_frame(f)) for f in frames[:5]]
    callback.settings.set(demo_settings(mirror=True))
    mirrored = callback(as_video_frame(frames[5]))
    status = callback.status.peek()
    assert status.errors == 0, status.last_error
    assert status.report.faces == 1 and status.frames == 6
    assert status.report.no_touch == ("Lips until Sun 15 Mar", "Nasolabial fold (left) until Sun 15 Mar")
    # The woman's face is in the clip's right half; the legend (top left) and the fps (bottom left) are
    # left out by looking at the rows between them only.
    rows = slice(130, 320)
    drawn = np.abs(plain[-1].to_ndarray(format="bgr24").astype(np.int16) - frames[4]).max(axis=2)[rows] > 40
    assert drawn[:, 400:560].mean() > 0.05 and drawn[:, :160].mean() < 0.005, "drawn on the face, right"
    flipped = np.abs(mirrored.to_ndarray(format="bgr24").astype(np.int16) - frames[5][:, ::-1])
    flipped = flipped.max(axis=2)[rows] > 40
    assert flipped[:, 80:240].mean() > 0.05 and flipped[:, 480:].mean() < 0.005, "mirrored: on the left"


def test_a_frame_that_breaks_the_chain_does_not_stop_the_stream(
    clip_frames: tuple[tuple[np.ndarray, ...], tuple[int, ...]],
    live_callback: LiveCallback[Settings],
) -> None:
    frames, _ = clip_frames
    broken = Settings(
        plan=Plan((Treatment(("third_eye",), "ha_filler", datetime(2026, 3, 1)),), "hands", date(2026, 3, 5))
    )
    callback = live_callback
    callback.settings.set(broken)
    raw = callback(as_video_frame(frames[0])).to_ndarray(format="bgr24")
    assert np.array_equal(raw, frames[0])  # shown as it came
    assert callback.status.peek().errors == 1 and "third_eye" in callback.status.peek().last_error
    callback.settings.set(demo_settings(mirror=False))
    callback(as_video_frame(frames[1]))
    status = callback.status.peek()
    assert status.frames == 2 and status.errors == 1 and status.report.faces == 1


def test_replay_encodes_a_browser_playable_clip(
    clip_frames: tuple[tuple[np.ndarray, ...], tuple[int, ...]], tmp_path: Path
) -> None:
    progress: list[tuple[int, int]] = []
    video, reports = replay_clip(
        ensure(SAMPLE_CLIP),
        demo_settings(mirror=False),
        max_seconds=0.5,
        on_progress=lambda done, total: progress.append((done, total)),
    )
    assert len(reports) == 12 and all(r.faces == 1 for r in reports)  # 0.5 s of a 23.976 fps clip
    assert progress[-1] == (12, 12)
    with av.open(io.BytesIO(video)) as container:
        stream = container.streams.video[0]
        assert stream.codec_context.name == "h264" and stream.codec_context.pix_fmt == "yuv420p"
        decoded = [f.to_ndarray(format="bgr24") for f in container.decode(stream)]
    assert len(decoded) == 12 and decoded[0].shape == (360, 640, 3)
    frames, _ = clip_frames
    drawn = np.abs(decoded[3].astype(np.int16) - frames[3]).max(axis=2) > 40
    assert drawn.mean() > 0.01


def test_replay_refuses_a_file_that_is_not_a_video(tmp_path: Path) -> None:
    fake = tmp_path / "clip.mp4"
    fake.write_bytes(b"\x00" * 4096)
    with pytest.raises(VideoError, match=r"clip\.mp4"):
        replay_clip(fake, demo_settings(mirror=False))


def test_the_touch_guard_names_the_no_touch_area_a_fingertip_is_in(
    sample_images: dict[str, np.ndarray],
) -> None:
    """The hand-on-face photo, streamed: a hand rests on the forehead, treated with Botox this morning."""
    image = sample_images[ensure(HAND_ON_FACE).name]
    plan = Plan(
        (Treatment(("forehead",), "botox", datetime(2026, 3, 5, 9, 0), True),),
        "hands",
        datetime(2026, 3, 5, 12, 0),
    )
    guarded = Settings(plan=plan, touch_guard=True)
    unguarded = replace(guarded, touch_guard=False)
    callback = LiveCallback(SettingsBox(unguarded), PipelineFrames, clock=FakeClock())
    try:
        callback(as_video_frame(image))
        assert callback.status.peek().report.touching == ()  # guard off: hands are not even tracked
        callback.settings.set(guarded)
        for _ in range(3):
            callback(as_video_frame(image))
    finally:
        callback.end_stream()
    status = callback.status.peek()
    assert status.errors == 0, status.last_error
    assert status.report.touching == ("Forehead",)


def test_moments_read_as_a_person_would_say_them() -> None:
    assert format_day(datetime(2026, 3, 15)) == "Sun 15 Mar"
    assert format_day(datetime(2026, 3, 15, 15, 30)) == "Sun 15 Mar 15:30"
    assert format_day(datetime(2026, 3, 8, 9, 5)) == "Sun 8 Mar 09:05"  # one spelling: no leading zero
    assert format_day(None) == ""


def _sample_frames(count: int, size: tuple[int, int]) -> list[av.VideoFrame]:
    with av.open(str(ensure(SAMPLE_CLIP))) as clip:
        frames = []
        for index, frame in zip(range(count), clip.decode(video=0), strict=False):
            sent = frame.reformat(width=size[0], height=size[1], format="yuv420p")
            sent.pts, sent.time_base = index * 3000, Fraction(1, 90000)
            frames.append(sent)
        return frames


def test_the_live_encoder_puts_its_options_over_aiortcs_own() -> None:
    encoder = LiveVp8Encoder()
    encoder.codec = SimpleNamespace()
    encoder.codec.options = {"cpu-used": "-6", "noise-sensitivity": "4", "deadline": "realtime"}
    assert encoder.codec.options == {"cpu-used": "-10", "noise-sensitivity": "0", "deadline": "realtime"}
    encoder.codec = None  # aiortc drops the codec to remake it at a new size or bit rate
    assert encoder.codec is None


def test_the_live_transport_encodes_vp8_with_the_live_encoder_and_leaves_other_codecs_alone(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(rtcrtpsender, "get_encoder", rtcrtpsender.get_encoder)  # put back after the test
    monkeypatch.setattr("live.use_latest_frame_relay", lambda: None)  # needs a Streamlit runtime
    use_live_transport()
    vp8 = RTCRtpCodecParameters(mimeType="video/VP8", clockRate=90000, payloadType=96)
    h264 = RTCRtpCodecParameters(mimeType="video/H264", clockRate=90000, payloadType=102)
    assert isinstance(rtcrtpsender.get_encoder(vp8), LiveVp8Encoder)
    assert isinstance(rtcrtpsender.get_encoder(h264), H264Encoder)


def test_the_live_encoder_sends_a_picture_the_browser_can_decode_also_after_a_size_change() -> None:
    encoder, decoder = LiveVp8Encoder(), Vp8Decoder()
    for size in ((640, 480), (320, 240)):  # the second size makes aiortc remake the codec
        frames = _sample_frames(10, size)
        for frame in frames:
            payloads, timestamp = encoder.encode(frame)
            data = b"".join(VpxPayloadDescriptor.parse(payload)[1] for payload in payloads)
            decoded = decoder.decode(JitterFrame(data, timestamp))
        sent = frames[-1].to_ndarray()[: size[1]].astype(np.float64)
        got = decoded[-1].to_ndarray()[: size[1]].astype(np.float64)
        assert got.shape == sent.shape
        psnr = 10 * np.log10(255**2 / np.mean((got - sent) ** 2))
        assert psnr > 30, f"{size}: PSNR {psnr:.1f} dB"
