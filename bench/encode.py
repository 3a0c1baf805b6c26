"""CPU cost of encoding the video sent back: aiortc's own VP8 encoder against ``live.LiveVp8Encoder``.

The sample clip's first frames, scaled to the camera size, are encoded by both encoders, alternating round by
round in one run (CPU time of the encoding thread). Each encoder's output is decoded again to give its PSNR
over the luma plane, so a faster encode that costs picture quality shows. The last line is
``aiortc_ms=... live_ms=... ratio=... aiortc_psnr_db=... live_psnr_db=...`` (medians of the rounds).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
from aiortc.codecs.vpx import Vp8Decoder, Vp8Encoder, VpxPayloadDescriptor
from aiortc.jitterbuffer import JitterFrame

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from live import LiveVp8Encoder
from vision.assets import SAMPLE_CLIP, ensure


def clip_frames(count: int, width: int, height: int) -> list[av.VideoFrame]:
    """The clip's first ``count`` frames as yuv420p at ``width`` x ``height``, time-stamped at 30 fps."""
    with av.open(str(ensure(SAMPLE_CLIP))) as clip:
        frames = []
        for index, frame in zip(range(count), clip.decode(video=0), strict=False):
            sent = frame.reformat(width=width, height=height, format="yuv420p")
            sent.pts, sent.time_base = index * 3000, Fraction(1, 90000)
            frames.append(sent)
    return frames


def encode_all(encoder: Vp8Encoder, frames: list[av.VideoFrame]) -> tuple[float, float]:
    """(CPU ms per frame of ``encoder.encode``, mean luma PSNR in dB of what a decoder makes of it)."""
    decoder, spent, psnr = Vp8Decoder(), 0.0, []
    for frame in frames:
        start = time.thread_time()
        payloads, timestamp = encoder.encode(frame)
        spent += time.thread_time() - start
        data = b"".join(VpxPayloadDescriptor.parse(payload)[1] for payload in payloads)
        for decoded in decoder.decode(JitterFrame(data, timestamp)):
            got = decoded.to_ndarray()[: frame.height].astype(np.float64)
            sent = frame.to_ndarray()[: frame.height].astype(np.float64)
            psnr.append(10 * np.log10(255**2 / max(float(np.mean((got - sent) ** 2)), 1e-9)))
    return 1000 * spent / len(frames), float(np.mean(psnr[10:]))  # past the first key frame's ramp-up


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", default="640x480", help="frame size, e.g. 1280x720")
    parser.add_argument("--frames", type=int, default=120)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    width, height = (int(v) for v in args.size.split("x"))
    frames = clip_frames(args.frames, width, height)
    results: dict[str, list[tuple[float, float]]] = {"aiortc": [], "live": []}
    for _ in range(args.rounds):
        results["aiortc"].append(encode_all(Vp8Encoder(), frames))
        results["live"].append(encode_all(LiveVp8Encoder(), frames))
    ms = {name: statistics.median(r[0] for r in rounds) for name, rounds in results.items()}
    db = {name: statistics.median(r[1] for r in rounds) for name, rounds in results.items()}
    print(f"{args.frames} frames at {width}x{height}, {args.rounds} rounds alternating")
    print(
        f"aiortc_ms={ms['aiortc']:.2f} live_ms={ms['live']:.2f} ratio={ms['aiortc'] / ms['live']:.2f} "
        f"aiortc_psnr_db={db['aiortc']:.2f} live_psnr_db={db['live']:.2f}"
    )


if __name__ == "__main__":
    main()
