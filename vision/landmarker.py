"""MediaPipe FaceLandmarker in IMAGE mode (stills) and VIDEO mode (clips, webcam), results as numpy.

Style of MediaPipe's Tasks API: an options dataclass, one class per running mode, a context manager that
closes the native graph deterministically.
"""

from __future__ import annotations

import concurrent.futures.thread  # noqa: F401 - registers its exit hook before ours (see below)
import contextlib
import itertools
import operator
import os
import tempfile
import threading
import weakref
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Generic, Protocol, Self, TypeVar

import mediapipe as mp
import numpy as np
from mediapipe.tasks.python import BaseOptions
from mediapipe.tasks.python import vision as mp_vision

from vision.assets import FACE_LANDMARKER, ensure
from vision.faces import NUM_LANDMARKS, Faces, boxes_of
from vision.frames import ColorOrder, to_rgb_uint8
from vision.pose import euler_from_matrices
from vision.quality import assess_quality
from vision.smoothing import OneEuroConfig, OneEuroFilter

WARM_UP_TIMESTAMP_MS = 0  # the VIDEO-mode warm-up frame's time stamp; callers' frames come after it
DEFAULT_SMOOTHING = OneEuroConfig()
_XYZ = operator.attrgetter("x", "y", "z")
_STDERR_LOCK = threading.Lock()


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
            self.min_detection_confidence, self.min_presence_confidence, self.min_tracking_confidence
        )
        if not all(0.0 <= value <= 1.0 for value in confidences):
            raise ValueError(f"confidences must lie in 0..1, got {confidences}")


@contextlib.contextmanager
def quiet_native_stderr() -> Iterator[None]:
    """Silence what MediaPipe's C++ side writes to file descriptor 2 while a graph starts and first runs.

    Its glog and TFLite lines ignore Python logging and environment switches; they are kept and re-raised
    with the error if creation fails, so nothing useful is lost. File descriptor 2 belongs to the whole
    process, so landmarkers created on several threads at once (one per browser session) take turns.
    """
    with _STDERR_LOCK, tempfile.TemporaryFile() as sink:
        saved = os.dup(2)
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
    """A native landmarker, already run once on a blank frame so its first-inference log lines stay quiet."""
    native = native_options(options, mode)
    return start_quietly(lambda: mp_vision.FaceLandmarker.create_from_options(native), mode)


def native_options(options: LandmarkerOptions,
                   mode: mp_vision.RunningMode) -> mp_vision.FaceLandmarkerOptions:
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


def start_quietly(create: Callable[[], Any], mode: mp_vision.RunningMode) -> Any:
    """Create a native task (face or hand landmarker) and run it once on a blank frame, with the log lines
    both steps print silenced; a failed warm-up closes the task before the error goes on."""
    blank = mp.Image(image_format=mp.ImageFormat.SRGB, data=np.zeros((64, 64, 3), np.uint8))
    with quiet_native_stderr():
        task = create()
        try:
            if mode == mp_vision.RunningMode.VIDEO:
                task.detect_for_video(blank, WARM_UP_TIMESTAMP_MS)
            else:
                task.detect(blank)
        except Exception:
            task.close()
            raise
    return task


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


class NativeTask(Protocol):
    """A MediaPipe task (face or hand landmarker): anything with ``close()`` that owns a native graph."""

    def close(self) -> None: ...


T = TypeVar("T", bound=NativeTask)


# Every open native task, held strongly until it is closed. MediaPipe runs each native call on the task's
# own one-thread executor, and the executor's worker quits as soon as the garbage collector finds the
# executor unreachable. Were a task collected together with its executor (a tracker dropped inside a
# reference cycle), its ``__del__`` would queue ``close`` for a worker that has already quit and wait forever.
# Held here, a native task is never garbage while open; its owner's finalizer closes it instead.
_OPEN_NATIVE: set[NativeTask] = set()
_OPEN_NATIVE_LOCK = threading.Lock()


def hold_open(owner: object, native: NativeTask) -> weakref.finalize:
    """Keep ``native`` alive until it is closed, and close it when ``owner`` is collected.

    Returns the finalizer: calling it closes ``native`` now (once; later calls do nothing).
    """
    with _OPEN_NATIVE_LOCK:
        _OPEN_NATIVE.add(native)
    finalizer = weakref.finalize(owner, _close_native, native)
    finalizer.atexit = False  # the threading exit hook below closes it in time instead
    return finalizer


def _close_native(native: NativeTask) -> None:
    with _OPEN_NATIVE_LOCK:
        if native not in _OPEN_NATIVE:
            return
        _OPEN_NATIVE.discard(native)
    native.close()


def _close_all_native() -> None:
    with _OPEN_NATIVE_LOCK:
        still_open = list(_OPEN_NATIVE)
    for native in still_open:
        _close_native(native)


# The executors' workers also stop at interpreter exit before ``atexit`` handlers run, and a landmarker still
# open then prints a traceback from its ``__del__``. Threading exit hooks run in reverse order of
# registration, so this one (registered after concurrent.futures' own) closes the open landmarkers while the
# workers still run, and the user's terminal stays clean.
threading._register_atexit(_close_all_native)


class OwnedTask(Generic[T]):
    """Owns one native MediaPipe task; closes it on ``close()``, on leaving a ``with`` block, when it is
    garbage collected, or at exit (``hold_open``: a graph collected in a reference cycle with its own worker
    thread would otherwise wait forever while closing)."""

    def __init__(self, native: T) -> None:
        self._task: T | None = native
        self._finalizer = hold_open(self, native)

    def close(self) -> None:
        self._task = None
        self._finalizer()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _native(self) -> T:
        if self._task is None:
            raise RuntimeError(f"this {type(self).__name__} is closed")
        return self._task


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
    """Video frames (VIDEO mode): landmarks follow the face from frame to frame, smoothed with a One Euro
    filter (``smoothing=None`` turns it off), quality assessed per face. Use a new tracker for each clip or
    camera session.
    """

    def __init__(
        self, options: LandmarkerOptions | None = None, smoothing: OneEuroConfig | None = DEFAULT_SMOOTHING
    ) -> None:
        super().__init__(options or LandmarkerOptions(max_faces=1), mp_vision.RunningMode.VIDEO)
        self._filter = OneEuroFilter(smoothing) if smoothing is not None else None
        self._last_timestamp_ms = WARM_UP_TIMESTAMP_MS
        self._rgb_buffer: np.ndarray | None = None  # reused frame to frame: MediaPipe copies what it is given

    def track(self, image: np.ndarray, timestamp_ms: float, *, color: ColorOrder) -> Faces:
        """Faces in the frame ``image`` ((H, W[, C]) in the named channel order) taken at ``timestamp_ms``.

        MediaPipe needs strictly increasing time stamps: one that does not increase is moved to 1 ms after
        the previous frame. ``Faces.timestamp_ms`` holds the time stamp used.
        """
        rgb = to_rgb_uint8(image, color, out=self._rgb_buffer)
        if not np.may_share_memory(rgb, image):
            self._rgb_buffer = rgb
        stamp = max(int(timestamp_ms), self._last_timestamp_ms + 1)
        self._last_timestamp_ms = stamp
        result = self._native().detect_for_video(mp.Image(image_format=mp.ImageFormat.SRGB, data=rgb), stamp)
        faces = faces_from_result(result, rgb.shape[1], rgb.shape[0])
        if self._filter is not None:
            if len(faces) == 0:
                self._filter.reset()
            else:
                landmarks = self._filter(faces.landmarks, stamp, scale=faces.boxes[:, 2] - faces.boxes[:, 0])
                faces = replace(faces, landmarks=landmarks, boxes=boxes_of(landmarks))
        quality = assess_quality(faces.landmarks, faces.poses, rgb, faces.boxes)
        return replace(faces, quality=quality, timestamp_ms=stamp)


def _largest_first(faces: Faces) -> Faces:
    if len(faces) < 2:
        return faces
    areas = (faces.boxes[:, 2] - faces.boxes[:, 0]) * (faces.boxes[:, 3] - faces.boxes[:, 1])
    return faces.select(np.argsort(-areas, kind="stable"))
