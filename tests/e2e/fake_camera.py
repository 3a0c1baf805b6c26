"""A fake camera for Chromium: the sample clip as a ``.y4m`` file (``--use-file-for-fake-video-capture``).

Chromium loops the file at the frame rate its header declares. Frames are letterboxed, never stretched, to
the requested size and converted to I420 by OpenCV. Run as a script to write one by hand:
``python tests/e2e/fake_camera.py /tmp/camera.y4m``.
"""

from __future__ import annotations

import sys
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from vision.assets import SAMPLE_CLIP, ensure  # noqa: E402

WIDTH, HEIGHT, FPS = 640, 480, 30
DEFAULT_FRAMES = 150  # 5 s of loop: long enough to move, short enough to write in about a second


def letterbox(frame_bgr: np.ndarray, width: int, height: int) -> np.ndarray:
    """Scale ``frame_bgr`` (H, W, 3) uint8 to fit inside width x height and pad the rest with black."""
    scale = min(width / frame_bgr.shape[1], height / frame_bgr.shape[0])
    fitted = cv2.resize(
        frame_bgr,
        (round(frame_bgr.shape[1] * scale), round(frame_bgr.shape[0] * scale)),
        interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR,
    )
    canvas = np.zeros((height, width, 3), np.uint8)
    top, left = (height - fitted.shape[0]) // 2, (width - fitted.shape[1]) // 2
    canvas[top : top + fitted.shape[0], left : left + fitted.shape[1]] = fitted
    return canvas


def write_y4m(
    target: Path,
    *,
    frames: int = DEFAULT_FRAMES,
    width: int = WIDTH,
    height: int = HEIGHT,
    fps: int = FPS,
    clip: Path | None = None,
) -> Path:
    """Write the first ``frames`` frames of the sample clip to ``target`` as 4:2:0 YUV4MPEG2; return it."""
    if width % 2 or height % 2:
        raise ValueError(f"I420 needs even sizes, got {width}x{height}")
    source = clip or ensure(SAMPLE_CLIP)
    capture = cv2.VideoCapture(str(source))
    if not capture.isOpened():
        raise RuntimeError(f"OpenCV cannot read {source}")
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(".part")
    written = 0
    try:
        with partial.open("wb") as out:
            out.write(f"YUV4MPEG2 W{width} H{height} F{fps}:1 Ip A1:1 C420jpeg\n".encode("ascii"))
            while written < frames:
                ok, frame = capture.read()
                if not ok:
                    break
                out.write(b"FRAME\n")
                out.write(cv2.cvtColor(letterbox(frame, width, height), cv2.COLOR_BGR2YUV_I420).tobytes())
                written += 1
    finally:
        capture.release()
    if written == 0:
        partial.unlink(missing_ok=True)
        raise RuntimeError(f"no frame could be decoded from {source}")
    partial.replace(target)
    return target


def read_y4m_frame(path: Path, index: int = 0) -> np.ndarray:
    """Frame ``index`` of a y4m written by ``write_y4m``, as BGR (for tests comparing against the camera)."""
    with path.open("rb") as handle:
        header = handle.readline().decode("ascii").split()
        width = int(next(t[1:] for t in header if t.startswith("W")))
        height = int(next(t[1:] for t in header if t.startswith("H")))
        size = width * height * 3 // 2
        handle.seek(index * (len(b"FRAME\n") + size), 1)
        if handle.readline() != b"FRAME\n":
            raise ValueError(f"{path} has no frame {index}")
        planes = np.frombuffer(handle.read(size), np.uint8).reshape(height * 3 // 2, width)
    return cv2.cvtColor(planes, cv2.COLOR_YUV2BGR_I420)


if __name__ == "__main__":
    if len(sys.argv) != 2:
        raise SystemExit("usage: python tests/e2e/fake_camera.py OUT.y4m")
    print(write_y4m(Path(sys.argv[1])))
