"""Annotate a video file frame by frame into a browser-playable H.264 MP4 (PyAV, libx264, yuv420p).

The caller supplies the per-frame work (detect, compute, draw) as a callback, so this module knows nothing
about faces: it decodes, hands each BGR frame and its time stamp over, and encodes what comes back. Audio is
dropped; the output's frame rate and size follow the input (odd sizes are cropped by one pixel, as yuv420p
needs even dimensions).
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import TextIO

import av
import cv2
import numpy as np

FrameCallback = Callable[[np.ndarray, int], np.ndarray]  # (BGR frame, time stamp in ms) -> annotated BGR
ProgressCallback = Callable[[int, int | None], None]  # (frames done, frames expected or None)
MAX_FRAMES = 100_000
MAX_PIXELS = 3840 * 2160


class VideoError(ValueError):
    """The input cannot be read as a video, or the output cannot be written; the message says which."""


@dataclass(frozen=True)
class VideoSummary:
    """What was written: frame count, size (w, h), frames per second and the output path."""

    frames: int
    size: tuple[int, int]
    fps: float
    path: Path


def annotate_video(
    source: str | Path,
    target: str | Path,
    render: FrameCallback,
    progress: ProgressCallback | None = None,
    *,
    crf: int = 23,
    max_seconds: float | None = None,
    max_width: int | None = None,
) -> VideoSummary:
    """Decode ``source``, pass every frame through ``render`` and encode the results to ``target`` (.mp4).

    Time stamps given to ``render`` are the frames' presentation times in ms, strictly increasing (what a
    VIDEO-mode tracker needs). ``max_seconds`` keeps only the clip's start; frames wider than ``max_width``
    are scaled down first. Raises ``VideoError`` for an unreadable or empty input, a frame larger than 4K,
    or a callback that changes the frame's size.
    """
    source, target = Path(source), Path(target)
    if target.suffix.lower() != ".mp4":
        raise VideoError(f"{target.name}: the annotated video is written as .mp4")
    try:
        container = av.open(str(source))
    except (av.error.FFmpegError, OSError) as err:
        raise VideoError(f"{source.name} is not a video FaceZones can read (MP4, MOV, WebM…).") from err
    with container:
        if not container.streams.video:
            raise VideoError(f"{source.name} holds no video track.")
        if container.format.name.endswith("_pipe") or container.format.name == "image2":
            raise VideoError(f"{source.name} is a still image, not a video: map it as a photo.")
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        rate = stream.average_rate or stream.guessed_rate or Fraction(25, 1)
        limit = MAX_FRAMES if max_seconds is None else max(round(float(rate) * max_seconds), 1)
        expected = min(stream.frames, limit) if stream.frames else None
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(target.name + ".part")
        written, size, last_ms = 0, (0, 0), -1
        try:
            with av.open(str(partial), mode="w", format="mp4", options={"movflags": "+faststart"}) as output:
                encoder = None
                for frame in container.decode(stream):
                    if frame.width * frame.height > MAX_PIXELS:
                        size_text = f"{frame.width}x{frame.height}"
                        raise VideoError(f"{source.name}: {size_text} frames are larger than 4K.")
                    if written >= limit:
                        if max_seconds is not None:
                            break
                        raise VideoError(f"{source.name}: over {MAX_FRAMES} frames; trim the clip first.")
                    image = _fit_width(frame.to_ndarray(format="bgr24"), max_width)
                    image = image[: image.shape[0] & ~1, : image.shape[1] & ~1]
                    stamp = (
                        round(float(frame.time) * 1000)
                        if frame.time is not None
                        else round(written * 1000 / rate)
                    )
                    stamp = max(stamp, last_ms + 1)
                    last_ms = stamp
                    annotated = render(np.ascontiguousarray(image), stamp)
                    if annotated.shape != image.shape or annotated.dtype != np.uint8:
                        raise VideoError(
                            f"the frame callback returned {annotated.shape} {annotated.dtype}, "
                            f"expected {image.shape} uint8"
                        )
                    if encoder is None:
                        encoder = output.add_stream("libx264", rate=rate)
                        encoder.width, encoder.height = image.shape[1], image.shape[0]
                        encoder.pix_fmt = "yuv420p"
                        encoder.options = {"crf": str(crf), "preset": "veryfast"}
                        size = (image.shape[1], image.shape[0])
                    packet_frame = av.VideoFrame.from_ndarray(annotated, format="bgr24")
                    output.mux(encoder.encode(packet_frame))
                    written += 1
                    if progress is not None:
                        progress(written, expected)
                if encoder is None:
                    raise VideoError(f"{source.name}: no frame could be decoded.")
                output.mux(encoder.encode(None))
                if progress is not None and expected != written:
                    progress(written, written)  # the container's frame count was missing or wrong
        except av.error.FFmpegError as err:
            partial.unlink(missing_ok=True)
            raise VideoError(f"{source.name} is damaged: decoding or encoding failed.") from err
        except BaseException:
            partial.unlink(missing_ok=True)
            raise
    partial.replace(target)
    return VideoSummary(frames=written, size=size, fps=float(rate), path=target)


def _fit_width(image: np.ndarray, max_width: int | None) -> np.ndarray:
    if max_width is None or image.shape[1] <= max_width:
        return image
    height = round(image.shape[0] * max_width / image.shape[1])
    return cv2.resize(image, (max_width, height), interpolation=cv2.INTER_AREA)


def terminal_progress(stream: TextIO = sys.stderr, width: int = 30) -> ProgressCallback:
    """A progress callback drawing ``[#####.....]  120/472 frames`` on one terminal line."""

    shown = {"last": -1}

    def report(done: int, total: int | None) -> None:
        step = done * width // total if total else done // 25
        if step == shown["last"] and (total is None or done < total):
            return  # redraw only when the bar moves
        shown["last"] = step
        if total:
            filled = min(width, done * width // total)
            stream.write(f"\r[{'#' * filled}{'.' * (width - filled)}] {done}/{total} frames")
        else:
            stream.write(f"\r{done} frames")
        if total is not None and done >= total:
            stream.write("\n")
        stream.flush()

    return report
