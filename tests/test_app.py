"""The Streamlit app through ``AppTest``: the sample-first screen, the plan widgets, photos, a corrupt upload,
plan files, practitioner mode and the live wiring (``webrtc_streamer`` patched: AppTest has no WebRTC)."""

from __future__ import annotations

import io
import json
from pathlib import Path
from unittest import mock

import av
import cv2
import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parent.parent
APP = str(ROOT / "app.py")
RUN_TIMEOUT_S = 60.0


def run_app() -> AppTest:
    app = AppTest.from_file(APP, default_timeout=RUN_TIMEOUT_S)
    app.run()
    assert_no_failure(app)
    return app


def assert_no_failure(app: AppTest) -> None:
    assert not app.exception, [e.message for e in app.exception]


def texts(elements) -> str:
    return "\n".join(str(element.value) for element in elements)


def mapped_caption(app: AppTest) -> str:
    """The caption of the annotated picture (the gallery's thumbnails have none that count faces)."""
    captions = [caption for image in app.image for caption in image.captions if "face(s)" in caption]
    assert len(captions) == 1, captions
    return captions[0]


def table_rows(app: AppTest) -> list[dict[str, object]]:
    """Rows of the plan table (areas that are not simply safe); none when every area is safe."""
    tables = [frame.value for frame in app.dataframe if "status" in frame.value.columns]
    return tables[0].to_dict("records") if tables else []


def test_first_screen_is_a_sample_face_under_the_demo_plan() -> None:
    app = run_app()
    assert app.segmented_control(key="mode").value == "Photos"
    assert app.segmented_control(key="photo_source").value == "Samples"
    assert "1 face(s)" in mapped_caption(app)
    assert app.multiselect(key="t0_areas").value == ["lips", "nasolabial_left", "nasolabial_right"]
    assert app.multiselect(key="t1_areas").value == ["forehead", "glabella"]
    rows = table_rows(app)
    no_touch = {row["area"] for row in rows if row["status"] == "no touch"}
    assert {"Lips", "Nasolabial fold (left)", "Nasolabial fold (right)"} <= no_touch
    assert "visual aid, not medical advice" in texts(app.caption)
    assert not app.error


def test_the_preview_day_and_the_method_change_the_verdicts() -> None:
    app = run_app()
    app.slider(key="preview_days").set_value(20).run()
    assert_no_failure(app)
    assert all(row["status"] != "no touch" for row in table_rows(app)), table_rows(app)
    assert "today + 20 days" in texts(app.info)
    app.slider(key="preview_days").set_value(0)
    app.radio(key="method").set_value("microcurrent").run()
    rows = table_rows(app)
    lips = next(row for row in rows if row["area"] == "Lips")
    assert lips["status"] == "no touch" and "microcurrent" in lips["why"]


def test_an_empty_plan_shows_every_area_untreated() -> None:
    app = run_app()
    app.multiselect(key="t0_areas").set_value([])
    app.multiselect(key="t1_areas").set_value([]).run()
    assert_no_failure(app)
    assert table_rows(app) == []
    assert "Every area is safe" in texts(app.caption)


def test_an_uploaded_photo_is_mapped(sample_paths: dict[str, Path]) -> None:
    app = run_app()
    app.segmented_control(key="photo_source").set_value("Upload").run()
    data = sample_paths["grace_hopper.jpg"].read_bytes()
    app.file_uploader(key="photo_upload").upload("grace.jpg", data, "image/jpeg").run()
    assert_no_failure(app)
    assert "grace: 1 face(s)" in mapped_caption(app)
    assert app.download_button(key="download_photo") is not None


def test_a_corrupt_upload_gets_a_short_message_and_the_app_stays_usable() -> None:
    app = run_app()
    app.segmented_control(key="photo_source").set_value("Upload").run()
    app.file_uploader(key="photo_upload").upload(
        "broken.jpg", b"\xff\xd8\xff\xe0 not really a jpeg", "image/jpeg"
    ).run()
    assert_no_failure(app)
    assert len(app.error) == 1
    message = app.error[0].value
    assert "damaged" in message or "not an image" in message, message
    assert "Traceback" not in message and len(message) < 200
    app.segmented_control(key="photo_source").set_value("Samples").run()
    assert_no_failure(app)
    assert not app.error
    assert "1 face(s)" in mapped_caption(app)


def test_a_small_turned_face_is_found_and_its_limits_said() -> None:
    """The cameraman (about 60 px wide, turned away behind his camera): the landmarker alone found no face;
    the detector finds it, and the app says it is small and what the camera cannot see."""
    app = run_app()
    app.selectbox(key="sample").set_value(
        next(o for o in app.selectbox(key="sample").options if "camera.png" in o)
    ).run()
    assert_no_failure(app)
    assert "1 face(s)" in mapped_caption(app)
    warnings = texts(app.warning)
    assert "Face too small" in warnings and "out of sight" in warnings
    assert "Turn your head to see" in texts(app.markdown)


def test_a_photo_without_a_face_says_so(sample_images: dict[str, np.ndarray]) -> None:
    app = run_app()
    app.segmented_control(key="photo_source").set_value("Camera snapshot").run()
    grass = np.ascontiguousarray(sample_images["camera.png"][300:, 330:])  # a real photo's field and sky
    ok, jpeg = cv2.imencode(".jpg", grass)
    assert ok
    app.camera_input(key="snapshot").set_value(("snap.jpg", jpeg.tobytes(), "image/jpeg")).run()
    assert_no_failure(app)
    assert "snapshot: 0 face(s)" in mapped_caption(app)
    assert "No face found" in texts(app.warning)


def test_a_group_photo_gets_one_plan_and_a_chooser(sample_images: dict[str, np.ndarray]) -> None:
    app = run_app()
    app.segmented_control(key="photo_source").set_value("Camera snapshot").run()
    portrait = sample_images["grace_hopper.jpg"]
    pair = np.ascontiguousarray(np.hstack([portrait, portrait]))  # two real faces side by side
    ok, jpeg = cv2.imencode(".jpg", pair)
    assert ok
    app.camera_input(key="snapshot").set_value(("snap.jpg", jpeg.tobytes(), "image/jpeg")).run()
    assert_no_failure(app)
    assert "snapshot: 2 face(s)" in mapped_caption(app)
    assert "1 other face: no plan" in texts(app.warning)
    chooser = app.selectbox(key="plan_face")
    assert len(chooser.options) == 2
    chooser.set_value(1).run()
    assert_no_failure(app)
    assert "1 other face: no plan" in texts(app.warning)


def test_a_camera_snapshot_is_mapped_in_the_mirror_view(sample_images: dict[str, np.ndarray]) -> None:
    app = run_app()
    app.segmented_control(key="photo_source").set_value("Camera snapshot").run()
    ok, jpeg = cv2.imencode(".jpg", sample_images["astronaut.png"])
    assert ok
    app.camera_input(key="snapshot").set_value(("snap.jpg", jpeg.tobytes(), "image/jpeg")).run()
    assert_no_failure(app)
    assert "snapshot: 1 face(s)" in mapped_caption(app)


def test_a_saved_plan_loads_back_and_a_bad_one_is_refused() -> None:
    app = run_app()
    plan = {
        "version": 1,
        "method": "tools",
        "margin_mm": 6.0,
        "caution_mm": None,
        "treatments": [{"areas": ["chin", "jawline_left"], "product": "ha_filler", "date": "2026-01-05"}],
    }
    uploader = app.file_uploader(key="plan_upload")
    uploader.upload("plan.json", json.dumps(plan).encode(), "application/json").run()
    assert_no_failure(app)
    assert app.multiselect(key="t0_areas").value == ["chin", "jawline_left"]
    assert app.radio(key="method").value == "tools"
    assert app.slider(key="margin_mm").value == 6.0
    assert app.session_state["treatment_count"] == 1
    app.file_uploader(key="plan_upload").set_value(("bad.json", b"{not json", "application/json")).run()
    assert_no_failure(app)
    assert "not a plan file" in texts(app.sidebar.error)
    assert app.multiselect(key="t0_areas").value == ["chin", "jawline_left"]  # the previous plan is kept


def test_an_answer_stays_given_when_streamlit_drops_its_widget_state() -> None:
    """A busy server can finish a run that missed a radio, and Streamlit then forgets the radio's value: the
    answer given must come back, not silently unanswer the question (seen in a browser under load)."""
    app = run_app()
    questions = ("heart", "vessels", "lymph", "skin")
    for question in questions:
        app.radio(key=f"screen_{question}").set_value("No")
    app.run()
    assert "Answer the questions above first" not in texts(app.warning)
    app.session_state["screen_lymph"] = None  # the radio as Streamlit leaves it once its state is dropped
    app.run()
    assert_no_failure(app)
    assert app.radio(key="screen_lymph").value == "No"
    assert "Answer the questions above first" not in texts(app.warning)
    app.radio(key="screen_lymph").set_value("Yes").run()  # a changed answer is the one kept
    app.session_state["screen_lymph"] = None
    app.run()
    assert app.radio(key="screen_lymph").value == "Yes"
    assert "Guidance withheld" in texts(app.error)


def test_practitioner_mode_walks_the_lines_in_session_order() -> None:
    app = run_app()
    app.toggle(key="practitioner").set_value(True).run()
    assert_no_failure(app)
    assert app.session_state["large_labels"] is True
    assert "Step 1 of" not in texts(app.markdown)  # the questions come first
    for question in ("heart", "vessels", "lymph", "skin"):
        app.radio(key=f"screen_{question}").set_value("No")
    app.radio(key="screen_vessels").set_value("Yes").run()
    assert "Guidance withheld" in texts(app.error) and "Ask your doctor" in texts(app.error)
    assert "Step 1 of" not in texts(app.markdown)
    app.radio(key="screen_vessels").set_value("No").run()
    first = texts(app.markdown)
    assert "Step 1 of" in first and "Open the neck" in first
    app.button(key="step_next").click().run()
    app.button(key="step_rep").click().run()
    assert "Step 2 of" in texts(app.markdown)
    assert app.session_state["reps"] == 1
    app.button(key="step_back").click().run()
    app.button(key="step_back").click().run()
    assert "Finish with the neck" in texts(app.markdown)  # wraps round to the last step


def as_video_frame(image_bgr: np.ndarray) -> av.VideoFrame:
    return av.VideoFrame.from_ndarray(np.ascontiguousarray(image_bgr), format="bgr24")


class FakeStreamer:
    """Stands in for ``webrtc_streamer``: records its arguments, reports an idle stream."""

    def __init__(self) -> None:
        self.calls: list[dict[str, object]] = []

    def __call__(self, **kwargs: object) -> mock.Mock:
        self.calls.append(kwargs)
        return mock.Mock(state=mock.Mock(playing=False, signalling=False))


def test_live_mode_wires_the_streamer_and_the_real_callback_maps_a_face(
    clip_frames: tuple[tuple[np.ndarray, ...], tuple[int, ...]],
) -> None:
    fake = FakeStreamer()
    with mock.patch("streamlit_webrtc.webrtc_streamer", fake):
        app = run_app()
        app.segmented_control(key="mode").set_value("Live camera").run()
        assert_no_failure(app)
        assert "No frames yet" in texts(app.caption)
    call = fake.calls[0]
    assert call["rtc_configuration"] == {"iceServers": []}
    assert call["media_stream_constraints"]["audio"] is False
    callback = call["video_frame_callback"]
    assert call["on_video_ended"] == callback.end_stream
    settings = callback.settings.get()
    assert settings.mirror is True and settings.plan.treatments
    assert settings.touch_guard is False

    frames, _ = clip_frames
    try:
        outputs = [callback(as_video_frame(f)) for f in frames[:8]]
    finally:
        callback.end_stream()  # closes the stream's trackers
    status = callback.status.peek()
    assert status.errors == 0, status.last_error
    assert (status.frames, status.report.faces) == (8, 1)
    assert any(item.startswith("Lips until") for item in status.report.no_touch)
    shown = outputs[-1].to_ndarray(format="bgr24")
    # The clip's face is in its right half, so on the left in the selfie view; rows 130-320 leave out the
    # legend (top left) and the fps (bottom left).
    changed = (np.abs(shown.astype(np.int16) - frames[7][:, ::-1]).max(axis=2) > 40)[130:320]
    assert changed[:, 80:240].mean() > 0.05 and changed[:, 480:].mean() < 0.005

    with mock.patch("streamlit_webrtc.webrtc_streamer", fake):
        app.run()  # the status panel now shows the stream, and a snapshot can be taken
        assert "Stream 1 · 640×360" in texts(app.caption)
        app.button(key="take_snapshot").click().run()
    assert_no_failure(app)
    snapshot = cv2.imdecode(np.frombuffer(app.session_state["live_snapshot"], np.uint8), cv2.IMREAD_COLOR)
    # The snapshot is the frame as drawn (BGR); the frame sent is its yuv420p conversion: the same picture.
    assert np.abs(snapshot.astype(np.int16) - shown).mean() < 4


def test_ice_servers_come_from_the_environment_for_a_remote_set_up(monkeypatch: pytest.MonkeyPatch) -> None:
    servers = [{"urls": ["stun:stun.example.org:3478"]}]
    monkeypatch.setenv("FACEZONES_ICE_SERVERS", json.dumps(servers))
    fake = FakeStreamer()
    with mock.patch("streamlit_webrtc.webrtc_streamer", fake):
        app = run_app()
        app.segmented_control(key="mode").set_value("Live camera").run()
        monkeypatch.setenv("FACEZONES_ICE_SERVERS", "stun:not-json")
        app.run()
    assert_no_failure(app)
    assert fake.calls[0]["rtc_configuration"] == {"iceServers": servers}
    assert fake.calls[1]["rtc_configuration"] == {"iceServers": []}
    assert "FACEZONES_ICE_SERVERS" in texts(app.warning)


def test_leaving_live_mode_releases_the_stream() -> None:
    fake = FakeStreamer()
    with mock.patch("streamlit_webrtc.webrtc_streamer", fake):
        app = run_app()
        app.segmented_control(key="mode").set_value("Live camera").run()
        app.session_state["live_stream"] = mock.Mock(_get_worker=mock.Mock(return_value=None))
        app.segmented_control(key="mode").set_value("Photos").run()
        assert_no_failure(app)
    assert "live_stream" not in app.session_state


def short_clip(frames: tuple[np.ndarray, ...]) -> bytes:
    """The first frames of the sample clip as a small MP4 upload."""
    buffer = io.BytesIO()
    with av.open(buffer, "w", format="mp4") as muxer:
        stream = muxer.add_stream("libx264", rate=24)
        stream.width, stream.height, stream.pix_fmt = frames[0].shape[1], frames[0].shape[0], "yuv420p"
        for frame in frames:
            muxer.mux(stream.encode(as_video_frame(frame)))
        muxer.mux(stream.encode(None))
    return buffer.getvalue()


def test_an_uploaded_clip_is_replayed_with_the_overlay(
    clip_frames: tuple[tuple[np.ndarray, ...], tuple[int, ...]],
) -> None:
    app = run_app()
    app.segmented_control(key="mode").set_value("Video replay").run()
    app.segmented_control(key="clip_source").set_value("Upload").run()
    clip = short_clip(clip_frames[0][:12])
    app.file_uploader(key="clip_upload").upload("clip.mp4", clip, "video/mp4").run()
    app.button(key="replay_run").click().run()
    assert_no_failure(app)
    assert "12 frames mapped; a face in 12 of them" in texts(app.caption)
    app.file_uploader(key="clip_upload").set_value(("clip.mp4", b"\x00" * 1000, "video/mp4")).run()
    app.button(key="replay_run").click().run()
    assert_no_failure(app)
    assert "is not a video FaceZones can read" in texts(app.error)


@pytest.mark.parametrize("layers", [[], ["Mesh", "Guide", "Labels", "Legend", "Status HUD"]])
def test_every_layer_switch_renders(layers: list[str]) -> None:
    app = run_app()
    app.pills(key="layers").set_value(layers).run()
    assert_no_failure(app)
    assert "1 face(s)" in mapped_caption(app)


def test_a_practitioners_own_catalogue_is_used_and_a_malformed_one_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    edited = tmp_path / "clinic.yaml"
    shipped = (ROOT / "zones" / "catalogue.yaml").read_text(encoding="utf-8")
    edited.write_text(shipped.replace("wait: 14d", "wait: 21d"), encoding="utf-8")
    monkeypatch.setenv("FACEZONES_CATALOGUE", str(edited))
    app = run_app()
    lips = next(row for row in table_rows(app) if row["area"] == "Lips")
    assert "21" in lips["why"], lips  # the clinic's 21-day wait decided it, not the shipped 14 days

    broken = tmp_path / "broken.yaml"
    broken.write_text(shipped.replace("wait: 14d", "wait: -3d", 1), encoding="utf-8")
    monkeypatch.setenv("FACEZONES_CATALOGUE", str(broken))
    app = run_app()
    assert "The catalogue cannot be used" in texts(app.error) and "broken.yaml" in texts(app.error)
