"""Photos in: any image file a person may upload becomes an upright BGR uint8 frame, or a one-line refusal.

Pillow decodes (it applies EXIF orientation reliably, which ``cv2.imread`` does not); limits on bytes and
pixels are checked before any pixel is decoded, so a decompression bomb is refused cheaply.
"""

from __future__ import annotations

import io
import struct
import warnings
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

MAX_FILE_BYTES = 64 * 1024 * 1024  # larger than any camera photo; refuses multi-gigabyte uploads early
MAX_PIXELS = 50_000_000  # 50 MP: a full-frame camera photo fits, a decompression bomb does not
ALPHA_BACKGROUND = (255, 255, 255)  # transparent parts are shown on white, as an image viewer does


class ImageError(ValueError):
    """A file that is not a usable image; the message is one line a person understands."""


def read_image(source: str | Path | bytes) -> np.ndarray:
    """Decode ``source`` (a path or the file's bytes) to an upright ``(H, W, 3) uint8`` BGR array.

    EXIF orientation is applied; grey, palette, alpha, 16-bit and float images are converted. Raises
    ``ImageError`` for missing, oversized, non-image, corrupt or truncated files and decompression bombs.
    """
    data, name = _read_bytes(source)
    try:
        rgb = _decode(data, name)
    except ImageError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as err:
        raise ImageError(f"{name} is refused: it decodes to too many pixels (limit {MAX_PIXELS:,}).") from err
    except UnidentifiedImageError as err:
        raise ImageError(f"{name} is not an image (PNG, JPEG, WebP, BMP or TIFF expected).") from err
    except (OSError, SyntaxError, ValueError, EOFError) as err:
        raise ImageError(f"{name} is damaged or truncated and cannot be read ({_first_line(err)}).") from err
    if rgb.shape[0] < 2 or rgb.shape[1] < 2:
        raise ImageError(f"{name} is too small to hold a face ({rgb.shape[1]}x{rgb.shape[0]} pixels).")
    return cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR)


def _read_bytes(source: str | Path | bytes) -> tuple[bytes, str]:
    if isinstance(source, bytes | bytearray | memoryview):
        data = bytes(source)
        name = "The uploaded file"
    else:
        path = Path(source)
        name = str(path)
        if not path.is_file():
            raise ImageError(f"No image file at {path}.")
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise ImageError(f"{name} is refused: {size / 2**20:.1f} MB is over the {_limit_mb()} limit.")
        try:
            data = path.read_bytes()
        except OSError as err:
            raise ImageError(f"{name} cannot be read ({_first_line(err)}).") from err
    if not data:
        raise ImageError(f"{name} is empty.")
    if len(data) > MAX_FILE_BYTES:
        raise ImageError(f"{name} is refused: {len(data) / 2**20:.1f} MB is over the {_limit_mb()} limit.")
    return data, name


def _decode(data: bytes, name: str) -> np.ndarray:
    """Open, check the pixel count from the header, then decode, orient and convert to RGB."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        with Image.open(io.BytesIO(data)) as image:
            width, height = image.size
            if width * height > MAX_PIXELS:
                raise ImageError(_too_many_pixels(name, width, height))
            image.load()
            return _to_rgb_array(_upright(image))


def _upright(image: Image.Image) -> Image.Image:
    """Apply the EXIF orientation; a damaged EXIF block leaves the pixels as stored rather than failing."""
    try:
        return ImageOps.exif_transpose(image)
    except (OSError, SyntaxError, ValueError, KeyError, TypeError, struct.error):
        return image


def _to_rgb_array(image: Image.Image) -> np.ndarray:
    """``(H, W, 3) uint8`` RGB from any Pillow mode: 16-bit and float greys are scaled, alpha is flattened."""
    mode = image.mode
    if mode in ("I", "I;16", "I;16B", "I;16L", "I;16N", "F"):
        values = np.asarray(image, dtype=np.float64)
        peak = 255.0 if values.max(initial=0.0) <= 255.0 else 65535.0
        if mode == "F" and values.max(initial=0.0) <= 1.0:
            peak = 1.0
        grey = (np.clip(values / peak, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)
        return np.ascontiguousarray(np.repeat(grey[:, :, None], 3, axis=2))
    if "A" in mode or "a" in mode or (mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (*ALPHA_BACKGROUND, 255))
        return np.asarray(Image.alpha_composite(background, rgba).convert("RGB"))
    return np.asarray(image.convert("RGB"))


def _too_many_pixels(name: str, width: int, height: int) -> str:
    return (
        f"{name} is refused: {width}x{height} is {width * height / 1e6:.0f} MP, "
        f"over the {MAX_PIXELS / 1e6:.0f} MP limit."
    )


def _limit_mb() -> str:
    return f"{MAX_FILE_BYTES // 2**20} MB"


def _first_line(err: BaseException) -> str:
    text = str(err).strip().splitlines()
    return text[0] if text else type(err).__name__
