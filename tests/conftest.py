"""Shared, session-scoped test fixtures: what is expensive (landmarkers, decoded images and clips, detected
faces) is made once per session and shared. Shared arrays are read-only so no test can change another's
input; copy before editing.

Sections: sample files and images; vision (detector, detected faces, clip frames); zones (the shipped
catalogue, its raw document and geometry index; the sample faces).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np
import pytest
import yaml

from vision.assets import HAND_ON_FACE, SAMPLE_CLIP, ensure
from vision.faces import Faces
from vision.finder import FaceFinder
from vision.hands import HandDetector, Hands
from vision.io import read_image
from vision.landmarker import FaceDetector, FaceTracker
from vision.video import open_video
from zones.catalogue import DEFAULT_CATALOGUE, Catalogue, load_catalogue
from zones.geometry import GeometryIndex

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "samples"
CLIP_FRAMES = 60  # enough for tracking and smoothing tests, about a second of work

# ----------------------------------------------------------------------------------------------------------
# the store: every test gets a database of its own, never the user's


@pytest.fixture(autouse=True)
def private_store(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """``FACEZONES_DB`` points at a fresh SQLite file, so no test reads or writes the user's records."""
    path = tmp_path_factory.mktemp("store") / "facezones.db"
    monkeypatch.setenv("FACEZONES_DB", str(path))
    return path


# ----------------------------------------------------------------------------------------------------------
# sample files and images
# ----------------------------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def sample_paths() -> dict[str, Path]:
    """File name -> path of every sample image: the three committed ones and the hand-on-face photo."""
    hand_on_face = ensure(HAND_ON_FACE)
    paths = {path.name: path for path in sorted(SAMPLES.glob("*")) if path.suffix in (".png", ".jpg")}
    paths[hand_on_face.name] = hand_on_face
    return paths


@pytest.fixture(scope="session")
def sample_images(sample_paths: dict[str, Path]) -> dict[str, np.ndarray]:
    """File name -> the image as ``read_image`` gives it (BGR uint8, read-only)."""
    images = {}
    for name, path in sample_paths.items():
        image = read_image(path)
        image.flags.writeable = False
        images[name] = image
    return images


# ----------------------------------------------------------------------------------------------------------
# vision: one detector, the faces it finds in each sample, the first frames of the sample clip
# ----------------------------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def detector() -> Iterator[FaceDetector]:
    """The project's still-image detector (IMAGE mode, up to 4 faces), shared by every test."""
    with FaceDetector() as shared:
        yield shared


@pytest.fixture(scope="session")
def sample_faces(detector: FaceDetector, sample_images: dict[str, np.ndarray]) -> dict[str, Faces]:
    """File name -> the faces the detector finds in that sample (``camera.png`` may have none)."""
    return {name: detector.detect(image, color="bgr") for name, image in sample_images.items()}


@pytest.fixture(scope="session")
def clip_frames() -> tuple[tuple[np.ndarray, ...], tuple[int, ...]]:
    """The first ``CLIP_FRAMES`` frames of the sample clip (BGR, read-only) and their time stamps in ms."""
    frames = []
    with open_video(ensure(SAMPLE_CLIP)) as video:
        fps = float(video.rate)
        for frame, _ in itertools.islice(video.frames, CLIP_FRAMES):
            frame.flags.writeable = False
            frames.append(frame)
    assert len(frames) == CLIP_FRAMES, f"the sample clip gave only {len(frames)} frames"
    stamps = tuple(round(index * 1000.0 / fps) for index in range(len(frames)))
    return tuple(frames), stamps


def _track_clip(
    frames: tuple[np.ndarray, ...], stamps: tuple[int, ...], **tracker_args: object
) -> list[Faces]:
    with FaceTracker(**tracker_args) as tracker:
        return [tracker.track(frame, stamp, color="bgr") for frame, stamp in zip(frames, stamps, strict=True)]


@pytest.fixture(scope="session")
def clip_tracked(clip_frames: tuple[tuple[np.ndarray, ...], tuple[int, ...]]) -> list[Faces]:
    """``FaceTracker`` (default smoothing) over the clip's first frames: one ``Faces`` per frame."""
    return _track_clip(*clip_frames)


@pytest.fixture(scope="session")
def clip_tracked_raw(clip_frames: tuple[tuple[np.ndarray, ...], tuple[int, ...]]) -> list[Faces]:
    """The same frames through a tracker without smoothing: MediaPipe's own landmarks."""
    return _track_clip(*clip_frames, smoothing=None)


# ----------------------------------------------------------------------------------------------------------
# zones: the shipped catalogue (frozen, so shared), its raw document (fresh per test: tests edit it), its
# geometry index, and the real sample faces, detected once per session
# ----------------------------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def catalogue() -> Catalogue:
    """The shipped catalogue, zones/catalogue.yaml, validated."""
    return load_catalogue()


@pytest.fixture
def raw_catalogue() -> dict:
    """The shipped catalogue as the parsed YAML document, before validation (a new one per test)."""
    return yaml.safe_load(DEFAULT_CATALOGUE.read_text(encoding="utf-8"))


@pytest.fixture(scope="session")
def index(catalogue: Catalogue) -> GeometryIndex:
    """The shipped catalogue's geometry index."""
    return GeometryIndex.from_catalogue(catalogue)


@pytest.fixture(scope="session")
def zone_sample_faces(
    sample_images: dict[str, np.ndarray], sample_faces: dict[str, Faces]
) -> dict[str, tuple[np.ndarray, Faces]]:
    """name -> (BGR image, the one face MediaPipe finds in it): two frontal portraits and the hand image.

    The images are writable copies, separate from ``sample_images``.
    """
    files = {
        "astronaut": "astronaut.png",
        "grace_hopper": "grace_hopper.jpg",
        "hand_on_face": ensure(HAND_ON_FACE).name,
    }
    found = {}
    for name, file_name in files.items():
        faces = sample_faces[file_name]
        assert len(faces) == 1, f"{name}: expected one face, found {len(faces)}"
        found[name] = (sample_images[file_name].copy(), faces)
    return found


@pytest.fixture(scope="session")
def two_people(sample_images: dict[str, np.ndarray]) -> tuple[np.ndarray, Faces, Hands]:
    """(BGR image, faces, hands) of the hand photo (his hand on his forehead) beside Grace Hopper's portrait
    scaled to its height: two real people and one real hand, found as the photo path finds them (his face
    first, the larger). The image is read-only."""
    his = sample_images[ensure(HAND_ON_FACE).name]
    portrait = sample_images["grace_hopper.jpg"]
    height = his.shape[0]
    hers = cv2.resize(portrait, (round(portrait.shape[1] * height / portrait.shape[0]), height))
    image = np.concatenate([his, hers], axis=1)
    image.flags.writeable = False
    with FaceFinder() as finder:
        faces = finder.find(image, color="bgr").faces
    with HandDetector() as detector:
        hands = detector.detect(image, color="bgr")
    assert len(faces) == 2 and faces.boxes[0, 2] < his.shape[1] < faces.boxes[1, 0], "his face, then hers"
    assert len(hands) == 1
    return image, faces, hands
