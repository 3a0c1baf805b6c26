"""MediaPipe FaceLandmarker in IMAGE mode (stills) and VIDEO mode (clips, webcam), results as numpy.

Style of MediaPipe's Tasks API: an options dataclass, one class per running mode, a context manager that
closes the native graph deterministically.
"""

from __future__ import annotations

import itertools
import operator
import os
from dataclasses import dataclass, replace
from pathlib import Path

import mediapipe as mp
import numpy as np
from mediapipe.tasks.python import BaseOptions
from mediapipe.tasks.python import vision as mp_vision

from vision.assets import FACE_LANDMARKER, ensure
from vision.faces import NUM_LANDMARKS, Faces, boxes_of
from vision.frames import ColorOrder, to_rgb_uint8
from vision.pose import euler_from_matrices
from vision.quality import assess_quality
from vision.smoothing import FaceSmoother, OneEuroConfig
from vision.tasks import WARM_UP_TIMESTAMP_MS, OwnedTask, StrictClock, start_quietly

DEFAULT_SMOOTHING = OneEuroConfig()
_XYZ = operator.attrgetter("x", "y", "z")


@dataclass(frozen=True)
class LandmarkerOptions:
    """What to ask MediaPipe for. ``model_path`` None resolves the checksummed model from the asset store."""

    max_faces: int = 1
    min_detection_confidence: float = 0.5
    min_presence_confidence: float = 0.5
    min_tracking_confidence: float = 0.5
    blendshapes: bool = False
    model_path: str | os.PathLike[str] | None = None

    def __post_init__(self) -> None:
        if self.max_faces < 1:
            raise ValueError(f"max_faces must be at least 1, got {self.max_faces}")
        confidences = (
            self.min_detection_confidence,
            self.min_presence_confidence,
            self.min_tracking_confidence,
        )
        if not all(0.0 <= value <= 1.0 for value in confidences):
            raise ValueError(f"confidences must lie in 0..1, got {confidences}")


def _create(options: LandmarkerOptions, mode: mp_vision.RunningMode) -> mp_vision.FaceLandmarker:
    """A native landmarker, already run once on a blank frame so its first-inference log lines stay quiet."""
    native = native_options(options, mode)
    return start_quietly(lambda: mp_vision.FaceLandmarker.create_from_options(native), mode)


def native_options(
    options: LandmarkerOptions, mode: mp_vision.RunningMode
) -> mp_vision.FaceLandmarkerOptions:
    """MediaPipe's own options for ``options`` (model resolved and sha256-checked by the asset store)."""
    model = ensure(FACE_LANDMARKER, options.model_path)
    return mp_vision.FaceLandmarkerOptions(
        base_options=BaseOptions(model_asset_path=str(Path(model))),
        running_mode=mode,
        num_faces=options.max_faces,
        min_face_detection_confidence=options.min_detection_confidence,
        min_face_presence_confidence=options.min_presence_confidence,
        min_tracking_confidence=options.min_tracking_confidence,
        output_face_blendshapes=options.blendshapes,
        output_facial_transformation_matrixes=True,
    )


def faces_from_result(result: mp_vision.FaceLandmarkerResult, width: int, height: int) -> Faces:
    """Convert MediaPipe's per-landmark objects to ``Faces`` in pixel coordinates.

    One flat pass over the landmark objects straight into a float32 buffer (no per-landmark tuples to
    inspect; about 0.06 ms per face); everything after that is array arithmetic.
    """
    count = len(result.face_landmarks)
    if count == 0:
        return Faces.empty(width, height)
    points = itertools.chain.from_iterable(result.face_landmarks)
    coordinates = itertools.chain.from_iterable(map(_XYZ, points))
    normalised = np.fromiter(coordinates, np.float32, count=count * NUM_LANDMARKS * 3)
    normalised = normalised.reshape(count, NUM_LANDMARKS, 3)
    landmarks = normalised * np.array([width, height, width], np.float32)
    matrices = np.asarray(result.facial_transformation_matrixes, np.float32).reshape(-1, 4, 4)
    poses = euler_from_matrices(matrices) if len(matrices) == count else np.zeros((count, 3), np.float32)
    blendshapes, names = None, ()
    if result.face_blendshapes:
        blendshapes = np.array([[c.score for c in face] for face in result.face_blendshapes], np.float32)
        names = tuple(c.category_name for c in result.face_blendshapes[0])
    return Faces(
        landmarks=landmarks,
        boxes=boxes_of(landmarks),
        poses=poses,
        image_size=(width, height),
        blendshapes=blendshapes,
        blendshape_names=names,
    )


class _Landmarker(OwnedTask[mp_vision.FaceLandmarker]):
    def __init__(self, options: LandmarkerOptions, mode: mp_vision.RunningMode) -> None:
        self.options = options
        super().__init__(_create(options, mode))


class FaceDetector(_Landmarker):
    """Still images (IMAGE mode): every call stands alone."""

    def __init__(self, options: LandmarkerOptions | None = None) -> None:
        super().__init__(options or LandmarkerOptions(max_faces=4), mp_vision.RunningMode.IMAGE)

    def detect(self, image: np.ndarray, *, color: ColorOrder) -> Faces:
        """Faces in ``image`` ((H, W[, C]) in the named channel order), largest first, quality filled."""
        rgb = to_rgb_uint8(image, color)
        result = self._native().detect(mp.Image(image_format=mp.ImageFormat.SRGB, data=rgb))
        faces = _largest_first(faces_from_result(result, rgb.shape[1], rgb.shape[0]))
        return replace(faces, quality=assess_quality(faces.landmarks, faces.poses, rgb, faces.boxes))


class FaceTracker(_Landmarker):
    """Video frames (VIDEO mode): landmarks follow the face from frame to frame, each face smoothed with its
    own One Euro history (``FaceSmoother``; ``smoothing=None`` turns it off), quality assessed per face. Use
    a new tracker for each clip or camera session.
    """

    def __init__(
        self, options: LandmarkerOptions | None = None, smoothing: OneEuroConfig | None = DEFAULT_SMOOTHING
    ) -> None:
        super().__init__(options or LandmarkerOptions(max_faces=1), mp_vision.RunningMode.VIDEO)
        self._smoother = FaceSmoother(smoothing) if smoothing is not None else None
        self._clock = StrictClock(WARM_UP_TIMESTAMP_MS)
        self._rgb_buffer: np.ndarray | None = None  # reused frame to frame: MediaPipe copies what it is given

    def track(self, image: np.ndarray, timestamp_ms: float, *, color: ColorOrder) -> Faces:
        """Faces in the frame ``image`` ((H, W[, C]) in the named channel order) taken at ``timestamp_ms``.

        MediaPipe needs strictly increasing time stamps: one that does not increase is moved to 1 ms after
        the previous frame. ``Faces.timestamp_ms`` holds the time stamp used.
        """
        rgb = to_rgb_uint8(image, color, out=self._rgb_buffer)
        if not np.may_share_memory(rgb, image):
            self._rgb_buffer = rgb
        stamp = self._clock.stamp(timestamp_ms)
        result = self._native().detect_for_video(mp.Image(image_format=mp.ImageFormat.SRGB, data=rgb), stamp)
        faces = faces_from_result(result, rgb.shape[1], rgb.shape[0])
        if self._smoother is not None:
            landmarks = self._smoother(faces.landmarks, faces.boxes, stamp)
            faces = replace(faces, landmarks=landmarks, boxes=boxes_of(landmarks))
        quality = assess_quality(faces.landmarks, faces.poses, rgb, faces.boxes)
        return replace(faces, quality=quality, timestamp_ms=stamp)


def _largest_first(faces: Faces) -> Faces:
    if len(faces) < 2:
        return faces
    areas = (faces.boxes[:, 2] - faces.boxes[:, 0]) * (faces.boxes[:, 3] - faces.boxes[:, 1])
    return faces.select(np.argsort(-areas, kind="stable"))
