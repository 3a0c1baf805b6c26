"""The transport floor for bench/live.py: the app's WebRTC set-up with an empty frame callback.

Same ``webrtc_streamer`` options as the app's live mode (SENDRECV, 640x480 at 30 fps asked for, async
processing), but the callback hands the decoded frame straight back: what is left is WebRTC decode, the
streamlit-webrtc hand-offs and encode. Its status panel has the app's keys, so bench/live.py reads both the
same way. Served by bench/live.py with ``streamlit run``; not part of the app.
"""

from __future__ import annotations

import sys
import threading
import time
from pathlib import Path

import av
import streamlit as st
from streamlit_webrtc import WebRtcMode, webrtc_streamer

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the app's live.py, not bench/live.py

from live import prepare_stream_context, use_live_transport

KEY = "live_stream"


class EmptyCallback:
    """Counts frames and returns each one untouched."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.frames = 0
        self.size = (0, 0)
        self.started = 0.0

    def __call__(self, frame: av.VideoFrame) -> av.VideoFrame:
        with self.lock:
            if self.frames == 0:
                self.started = time.monotonic()
            self.frames += 1
            self.size = (frame.width, frame.height)
        return frame


if "floor_callback" not in st.session_state:
    st.session_state["floor_callback"] = EmptyCallback()
callback: EmptyCallback = st.session_state["floor_callback"]

prepare_stream_context(st.session_state, KEY)
use_live_transport()  # the app's transport, as the app sets it up
context = webrtc_streamer(
    key=KEY,
    mode=WebRtcMode.SENDRECV,
    rtc_configuration={"iceServers": []},
    media_stream_constraints={
        "video": {"width": {"ideal": 640}, "height": {"ideal": 480}, "frameRate": {"ideal": 30}},
        "audio": False,
    },
    video_frame_callback=callback,
    async_processing=True,
)


@st.fragment(run_every=0.5)
def panel() -> None:
    with callback.lock:
        frames, size = callback.frames, callback.size
        fps = frames / max(time.monotonic() - callback.started, 1e-6) if frames else 0.0
    with st.container(key="live_status"):
        if not frames:
            st.caption("No frames yet.")
            return
        first, second, third = st.columns(3)
        first.metric("Processed fps", f"{fps:.1f}")
        second.metric("Frames", frames)
        third.metric("Faces", 0)
        st.caption(f"Stream 1 · {size[0]}×{size[1]} · 0 ms per frame · errors 0")


panel()
