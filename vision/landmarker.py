"""MediaPipe FaceLandmarker in IMAGE mode (stills) and VIDEO mode (clips, webcam), results as numpy.

Style of MediaPipe's Tasks API: an options dataclass, one class per running mode, a context manager that
closes the native graph deterministically.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import mediapipe as mp
import numpy as np
from mediapipe.tasks.python import BaseOptions
from mediapipe.tasks.python import vision as mp_vision

from vision.assets import FACE_LANDMARKER, ensure
from vision.faces import NUM_LANDMARKS, Faces
from vision.frames import ColorOrder, to_rgb_uint8
from vision.pose import euler_from_matrices


@dataclass(frozen=True)
class LandmarkerOptions:
    """What to ask MediaPipe for. ``model_path`` None resolves the checksummed model from the asset store."""

    max_faces: int = 1
    min_detection_confidence: float = 0.5
    min_presence_confidence: float = 0.5
    min_tracking_confidence: float = 0.5
    blendshapes: bool = False
    model_path: str | os.PathLike[str] | None = None


@contextlib.contextmanager
def quiet_native_stderr() -> Iterator[None]:
    """Silence what MediaPipe's C++ side writes to file descriptor 2 while a graph starts.

    Its glog and TFLite lines ignore Python logging and environment switches; they are kept and re-raised
    with the error if creation fails, so nothing useful is lost.
    """
    saved = os.dup(2)
    with tempfile.TemporaryFile() as sink:
        os.dup2(sink.fileno(), 2)
        try:
            yield
        except Exception as err:
            sink.seek(0)
            err.add_note(sink.read().decode(errors="replace")[-2000:])
            raise
        finally:
            os.dup2(saved, 2)
            os.close(saved)


def _create(options: LandmarkerOptions, mode: mp_vision.RunningMode) -> mp_vision.FaceLandmarker:
    model = ensure(FACE_LANDMARKER, options.model_path)
    native = mp_vision.FaceLandmarkerOptions(
        base_options=BaseOptions(model_asset_path=str(Path(model))),
        running_mode=mode,
        num_faces=options.max_faces,
        min_face_detection_confidence=options.min_detection_confidence,
        min_face_presence_confidence=options.min_presence_confidence,
        min_tracking_confidence=options.min_tracking_confidence,
        output_face_blendshapes=options.blendshapes,
        output_facial_transformation_matrixes=True,
    )
    with quiet_native_stderr():
        return mp_vision.FaceLandmarker.create_from_options(native)


def faces_from_result(result: mp_vision.FaceLandmarkerResult, width: int, height: int) -> Faces:
    """Convert MediaPipe's per-landmark objects to ``Faces`` in pixel coordinates (one pass per face)."""
    count = len(result.face_landmarks)
    if count == 0:
        return Faces.empty(width, height)
    normalised = np.array(
        [[(p.x, p.y, p.z) for p in face] for face in result.face_landmarks], dtype=np.float32
    ).reshape(count, NUM_LANDMARKS, 3)
    landmarks = normalised * np.array([width, height, width], np.float32)
    boxes = np.concatenate([landmarks[:, :, :2].min(axis=1), landmarks[:, :, :2].max(axis=1)], axis=1)
    matrices = np.asarray(result.facial_transformation_matrixes, np.float32).reshape(-1, 4, 4)
    poses = euler_from_matrices(matrices) if len(matrices) == count else np.zeros((count, 3), np.float32)
    blendshapes, names = None, ()
    if result.face_blendshapes:
        blendshapes = np.array([[c.score for c in face] for face in result.face_blendshapes], np.float32)
        names = tuple(c.category_name for c in result.face_blendshapes[0])
    return Faces(
        landmarks=landmarks,
        boxes=boxes.astype(np.float32),
        poses=poses,
        image_size=(width, height),
        blendshapes=blendshapes,
        blendshape_names=names,
    )


class _Landmarker:
    def __init__(self, options: LandmarkerOptions, mode: mp_vision.RunningMode) -> None:
        self.options = options
        self._landmarker: mp_vision.FaceLandmarker | None = _create(options, mode)

    def close(self) -> None:
        if self._landmarker is not None:
            self._landmarker.close()
            self._landmarker = None

    def __enter__(self):  # noqa: ANN204 - returns the concrete subclass
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _native(self) -> mp_vision.FaceLandmarker:
        if self._landmarker is None:
            raise RuntimeError("this landmarker is closed")
        return self._landmarker


class FaceDetector(_Landmarker):
    """Still images (IMAGE mode): every call stands alone."""

    def __init__(self, options: LandmarkerOptions | None = None) -> None:
        super().__init__(options or LandmarkerOptions(max_faces=4), mp_vision.RunningMode.IMAGE)

    def detect(self, image: np.ndarray, *, color: ColorOrder) -> Faces:
        """Faces in ``image`` ((H, W[, C]) in the named channel order), largest first."""
        rgb = to_rgb_uint8(image, color)
        result = self._native().detect(mp.Image(image_format=mp.ImageFormat.SRGB, data=rgb))
        faces = faces_from_result(result, rgb.shape[1], rgb.shape[0])
        return _largest_first(faces)


def _largest_first(faces: Faces) -> Faces:
    if len(faces) < 2:
        return faces
    areas = (faces.boxes[:, 2] - faces.boxes[:, 0]) * (faces.boxes[:, 3] - faces.boxes[:, 1])
    return faces.select(np.argsort(-areas, kind="stable"))
