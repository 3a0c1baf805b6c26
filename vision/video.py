"""Video in and out: decode a file into BGR frames with strictly increasing time stamps, encode frames to a
browser-playable H.264 MP4 (PyAV, libx264, yuv420p).

Nothing here knows about faces: ``annotate_video`` hands each decoded frame and its time stamp to a callback
(the caller's detect, compute and draw) and encodes what comes back. Audio is dropped; the output's frame rate
and size follow the input (odd sizes are cropped by one pixel, as yuv420p needs even dimensions).
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import TextIO

import av
import cv2
import numpy as np
from numpy.typing import NDArray

from vision.tasks import StrictClock

Frame = NDArray[np.uint8]  # (H, W, 3) BGR
FrameCallback = Callable[[Frame, int], Frame]  # (BGR frame, time stamp in ms) -> annotated BGR
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


@dataclass(frozen=True)
class VideoInput:
    """An open clip: its frame rate, the frames expected (None: the container does not say) and the frames.

    ``frames`` yields ``(BGR (H, W, 3) uint8 with even H and W, time stamp in ms)``; the stamps are the
    frames' presentation times, strictly increasing (what a VIDEO-mode tracker needs).
    """

    rate: Fraction
    expected: int | None
    frames: Iterator[tuple[Frame, int]]


@contextlib.contextmanager
def open_video(
    source: str | Path, *, max_seconds: float | None = None, max_width: int | None = None
) -> Iterator[VideoInput]:
    """Open ``source`` for decoding; ``max_seconds`` keeps only the clip's start, frames wider than
    ``max_width`` are scaled down. Raises ``VideoError`` for an unreadable or empty input, a still image, a
    frame larger than 4K or more than ``MAX_FRAMES`` frames, and for damage found while decoding."""
    source = Path(source)
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

        def frames() -> Iterator[tuple[Frame, int]]:
            clock = StrictClock()
            for count, frame in enumerate(container.decode(stream)):
                if frame.width * frame.height > MAX_PIXELS:
                    raise VideoError(
                        f"{source.name}: {frame.width}x{frame.height} frames are larger than 4K."
                    )
                if count >= limit:
                    if max_seconds is not None:
                        return
                    raise VideoError(f"{source.name}: over {MAX_FRAMES} frames; trim the clip first.")
                image = _fit_width(np.asarray(frame.to_ndarray(format="bgr24"), np.uint8), max_width)
                image = image[: image.shape[0] & ~1, : image.shape[1] & ~1]
                stamp = (
                    round(float(frame.time) * 1000) if frame.time is not None else round(count * 1000 / rate)
                )
                yield np.ascontiguousarray(image), clock.stamp(stamp)

        try:
            yield VideoInput(rate, expected, frames())
        except av.error.FFmpegError as err:
            raise VideoError(f"{source.name} is damaged: decoding or encoding failed.") from err


def video_frames(path: str | Path, size: tuple[int, int] | None = None) -> Iterator[Frame]:
    """BGR uint8 frames of a video file, decoded one at a time, resized to ``size`` (w, h) if given."""
    with open_video(path) as video:
        for frame, _ in video.frames:
            if size is not None:
                frame = np.asarray(cv2.resize(frame, size, interpolation=cv2.INTER_LINEAR))
            yield frame


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
    """Decode ``source`` (``open_video``), pass every frame through ``render`` and encode the results to
    ``target`` (.mp4), written whole or not at all.

    Raises ``VideoError`` as ``open_video`` does, and for a callback that changes the frame's size or type.
    """
    source, target = Path(source), Path(target)
    if target.suffix.lower() != ".mp4":
        raise VideoError(f"{target.name}: the annotated video is written as .mp4")
    with open_video(source, max_seconds=max_seconds, max_width=max_width) as video:
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(target.name + ".part")
        written, size = 0, (0, 0)
        try:
            with av.open(str(partial), mode="w", format="mp4", options={"movflags": "+faststart"}) as output:
                encoder = None
                for image, stamp in video.frames:
                    annotated = render(image, stamp)
                    if annotated.shape != image.shape or annotated.dtype != np.uint8:
                        raise VideoError(
                            f"the frame callback returned {annotated.shape} {annotated.dtype}, "
                            f"expected {image.shape} uint8"
                        )
                    if encoder is None:
                        encoder = output.add_stream("libx264", rate=video.rate)
                        encoder.width, encoder.height = image.shape[1], image.shape[0]
                        encoder.pix_fmt = "yuv420p"
                        encoder.options = {"crf": str(crf), "preset": "veryfast"}
                        size = (image.shape[1], image.shape[0])
                    packet_frame = av.VideoFrame.from_ndarray(annotated, format="bgr24")
                    output.mux(encoder.encode(packet_frame))
                    written += 1
                    if progress is not None:
                        progress(written, video.expected)
                if encoder is None:
                    raise VideoError(f"{source.name}: no frame could be decoded.")
                output.mux(encoder.encode(None))
                if progress is not None and video.expected != written:
                    progress(written, written)  # the container's frame count was missing or wrong
        except av.error.FFmpegError as err:
            partial.unlink(missing_ok=True)
            raise VideoError(f"{source.name} is damaged: decoding or encoding failed.") from err
        except BaseException:
            partial.unlink(missing_ok=True)
            raise
    partial.replace(target)
    return VideoSummary(frames=written, size=size, fps=float(video.rate), path=target)


def _fit_width(image: Frame, max_width: int | None) -> Frame:
    if max_width is None or image.shape[1] <= max_width:
        return image
    height = round(image.shape[0] * max_width / image.shape[1])
    return np.asarray(cv2.resize(image, (max_width, height), interpolation=cv2.INTER_AREA), np.uint8)


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
