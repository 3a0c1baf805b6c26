"""read_image: every kind of image a person may upload, and a one-line refusal for everything else."""

from __future__ import annotations

import io
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from vision import io as vision_io
from vision.assets import SAMPLE_CLIP, ensure
from vision.io import ImageError, read_image
from vision.tasks import StrictClock
from vision.video import VideoError, open_video, video_frames


def _encode(image: Image.Image, file_format: str = "PNG", **options: object) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=file_format, **options)
    return buffer.getvalue()


def _png_of_zeros(width: int, height: int, rows: int | None = None) -> bytes:
    """An 8-bit grey PNG of the given size whose pixel data (``rows`` rows of zeros, default all) compresses
    to almost nothing."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    rows = height if rows is None else rows
    pixels = zlib.compress(bytes((width + 1) * rows), 9)  # a filter byte and a zero per pixel, each row
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")


def _refusal(source: object) -> str:
    with pytest.raises(ImageError) as caught:
        read_image(source)
    message = str(caught.value)
    assert "\n" not in message and len(message) < 200
    return message


@pytest.mark.parametrize("name", ["astronaut.png", "grace_hopper.jpg", "camera.png", "Image_with_alpha.png"])
def test_samples_decode_to_bgr_uint8(sample_paths: dict[str, Path], name: str) -> None:
    image = read_image(sample_paths[name])
    with Image.open(sample_paths[name]) as original:
        assert image.shape == (original.height, original.width, 3)
    assert image.dtype == np.uint8 and image.flags.c_contiguous


def test_path_string_and_bytes_agree(sample_paths: dict[str, Path], sample_images) -> None:
    path = sample_paths["grace_hopper.jpg"]
    np.testing.assert_array_equal(read_image(str(path)), sample_images["grace_hopper.jpg"])
    np.testing.assert_array_equal(read_image(path.read_bytes()), sample_images["grace_hopper.jpg"])


def test_channel_order_is_bgr() -> None:
    red = Image.new("RGB", (4, 4), (255, 0, 0))
    assert read_image(_encode(red))[0, 0].tolist() == [0, 0, 255]


def test_grey_photo_becomes_three_equal_channels(sample_images) -> None:
    camera = sample_images["camera.png"]
    assert camera.shape == (512, 512, 3)
    np.testing.assert_array_equal(camera[:, :, 0], camera[:, :, 2])


def test_transparency_is_shown_on_white() -> None:
    rgba = np.zeros((4, 4, 4), np.uint8)
    rgba[..., 0] = 255  # red everywhere, but only the left half opaque
    rgba[:, :2, 3] = 255
    image = read_image(_encode(Image.fromarray(rgba, "RGBA")))
    assert image[0, 0].tolist() == [0, 0, 255]
    assert image[0, 3].tolist() == [255, 255, 255]


def test_palette_image() -> None:
    palette = Image.new("RGB", (8, 8), (10, 200, 30)).convert("P", palette=Image.Palette.ADAPTIVE)
    assert read_image(_encode(palette))[0, 0].tolist() == [30, 200, 10]


def test_sixteen_bit_grey_is_scaled() -> None:
    values = np.array([[0, 32768], [65535, 65535]], np.uint16)
    image = read_image(_encode(Image.fromarray(values)))
    assert image[:, :, 0].tolist() == [[0, 128], [255, 255]]


def test_float_tiff_in_zero_to_one() -> None:
    values = np.array([[0.0, 0.5], [1.0, 1.0]], np.float32)
    image = read_image(_encode(Image.fromarray(values, "F"), "TIFF"))
    assert image[:, :, 1].tolist() == [[0, 128], [255, 255]]


@pytest.mark.parametrize(("orientation", "turns"), [(3, 2), (6, 1), (8, -1)])
def test_exif_orientation_is_applied(orientation: int, turns: int) -> None:
    upright = np.zeros((6, 10, 3), np.uint8)
    upright[0, 0] = (255, 0, 0)  # a red mark in the top-left corner of the upright picture
    stored = np.ascontiguousarray(np.rot90(upright, k=turns))
    exif = Image.Exif()
    exif[0x0112] = orientation
    image = read_image(_encode(Image.fromarray(stored), exif=exif.tobytes()))
    assert image.shape == (6, 10, 3)
    assert image[0, 0].tolist() == [0, 0, 255]
    assert image[:, :, 2].sum() == 255


def test_missing_file(tmp_path: Path) -> None:
    assert "No image file" in _refusal(tmp_path / "nowhere.jpg")
    assert "No image file" in _refusal(tmp_path)  # a folder is not a file


def test_empty_file(tmp_path: Path) -> None:
    empty = tmp_path / "empty.png"
    empty.write_bytes(b"")
    assert "empty" in _refusal(empty)


def test_not_an_image(tmp_path: Path) -> None:
    text = tmp_path / "notes.jpg"
    text.write_text("this is a shopping list, not a photo\n")
    assert "not an image" in _refusal(text)
    assert "not an image" in _refusal(b"%PDF-1.7 ...")


@pytest.mark.parametrize("name", ["grace_hopper.jpg", "astronaut.png"])
def test_truncated_file(sample_paths: dict[str, Path], name: str) -> None:
    data = sample_paths[name].read_bytes()
    assert "damaged or truncated" in _refusal(data[: len(data) // 2])


def test_decompression_bomb_is_refused_before_decoding() -> None:
    bomb = _png_of_zeros(8000, 8000)  # 64 MP of zeros in a few tens of kilobytes
    assert len(bomb) < 200_000
    message = _refusal(bomb)
    assert "refused" in message and "8000x8000" in message


def test_pillow_bomb_limit_is_turned_into_a_refusal() -> None:
    """Beyond twice Pillow's own limit it raises while opening; that becomes the same kind of refusal."""
    assert "refused" in _refusal(_png_of_zeros(20000, 20000, rows=1))


def test_file_size_limit(sample_paths: dict[str, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(vision_io, "MAX_FILE_BYTES", 10_000)
    assert "refused" in _refusal(sample_paths["grace_hopper.jpg"])
    assert "refused" in _refusal(sample_paths["grace_hopper.jpg"].read_bytes())


def test_video_frames_come_with_strictly_increasing_stamps(tmp_path) -> None:
    """One decoder for every caller: presentation times in ms, a repeated or backward stamp moved forward."""
    clock = StrictClock()
    assert [clock.stamp(t) for t in (0, 0, 40, 39.9, 100)] == [0, 1, 40, 41, 100]
    with open_video(ensure(SAMPLE_CLIP), max_seconds=0.5) as video:
        decoded = list(video.frames)
    stamps = [stamp for _, stamp in decoded]
    assert len(decoded) == round(float(video.rate) * 0.5) and stamps == sorted(set(stamps))
    assert all(frame.shape == (360, 640, 3) and frame.dtype == np.uint8 for frame, _ in decoded)
    first = next(video_frames(ensure(SAMPLE_CLIP), (320, 180)))
    assert first.shape == (180, 320, 3)
    with pytest.raises(VideoError, match="not a video"):
        next(video_frames(tmp_path / "missing.mp4"))
