"""What the vision package hands on: faces as numpy arrays in pixel coordinates, never MediaPipe objects."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
from numpy.typing import NDArray

NUM_LANDMARKS = 478
IRIS_RIGHT = np.arange(468, 473)  # subject's right iris: centre then 4 rim points
IRIS_LEFT = np.arange(473, 478)  # subject's left iris
FIT_OK, FIT_UNCERTAIN = "ok", "uncertain"  # a mesh that agrees with the detector's keypoints, or not


def boxes_of(landmarks: NDArray[np.floating[Any]]) -> NDArray[np.float32]:
    """Bounding boxes ``(F, 4) float32`` x0, y0, x1, y1 of landmarks ``(F, N, 2 or 3)`` in pixels."""
    if landmarks.ndim != 3 or landmarks.shape[2] < 2:
        raise ValueError(f"landmarks must be (F, N, 2 or 3), got {landmarks.shape}")
    # reduce over whole points (contiguous) and keep x, y: cheaper than reducing a strided x, y view
    return np.concatenate([landmarks.min(axis=1)[:, :2], landmarks.max(axis=1)[:, :2]], axis=1).astype(
        np.float32, copy=False
    )


@dataclass(frozen=True)
class FaceQuality:
    """Whether a face is good enough to map, and a short hint a person can act on when it is not.

    ``issues`` holds codes from ``too_small``, ``turned``, ``too_dark``, ``too_bright``, ``out_of_frame``.
    """

    issues: tuple[str, ...] = ()
    hint: str = ""
    face_width_px: float = 0.0
    brightness: float = 0.0
    visible_fraction: float = 1.0

    @property
    def ok(self) -> bool:
        return not self.issues

    def as_dict(self) -> dict[str, object]:
        return {
            "ok": self.ok,
            "issues": list(self.issues),
            "hint": self.hint,
            "face_width_px": round(float(self.face_width_px), 1),
            "brightness": round(float(self.brightness), 1),
            "visible_fraction": round(float(self.visible_fraction), 3),
        }


@dataclass(frozen=True)
class Faces:
    """All faces found in one frame.

    Shapes (F faces):
      landmarks   (F, 478, 3) float32: x, y in pixels of the frame as shown; z in pixels, relative
                  (MediaPipe's normalised z times the frame width; smaller is nearer the camera)
      boxes       (F, 4) float32: x0, y0, x1, y1 in pixels, the landmarks' bounding box
      poses       (F, 3) float32: yaw, pitch, roll in degrees (subject turning to their left is positive yaw)
      blendshapes (F, 52) float32 or None when not asked for
      detector_scores (F,) float32 or None: the independent face detector's score per face (NaN: a face
                  the detector did not see, e.g. one the live tracker kept following)
    ``fit`` holds one of ``FIT_OK`` / ``FIT_UNCERTAIN`` per face once meshes were checked against the
    detector's keypoints (empty: not checked). Landmark ids always name the subject's own side, also when
    ``mirrored`` is true.
    """

    landmarks: NDArray[np.float32]
    boxes: NDArray[np.float32]
    poses: NDArray[np.float32]
    image_size: tuple[int, int]  # (width, height)
    quality: tuple[FaceQuality, ...] = ()
    blendshapes: NDArray[np.float32] | None = None
    blendshape_names: tuple[str, ...] = ()
    mirrored: bool = False
    timestamp_ms: int | None = field(default=None, compare=False)
    fit: tuple[str, ...] = ()
    detector_scores: np.ndarray | None = None

    def __post_init__(self) -> None:
        if self.landmarks.ndim != 3 or self.landmarks.shape[1:] != (NUM_LANDMARKS, 3):
            raise ValueError(f"landmarks must be (F, 478, 3), got {self.landmarks.shape}")
        count = self.landmarks.shape[0]
        if self.boxes.shape != (count, 4) or self.poses.shape != (count, 3):
            raise ValueError(
                f"boxes {self.boxes.shape} / poses {self.poses.shape} do not match {count} faces"
            )
        if self.fit and len(self.fit) != count:
            raise ValueError(f"fit has {len(self.fit)} entries for {count} faces")
        if self.detector_scores is not None and self.detector_scores.shape != (count,):
            raise ValueError(f"detector_scores {self.detector_scores.shape} do not match {count} faces")

    @classmethod
    def empty(cls, width: int, height: int, *, mirrored: bool = False) -> Faces:
        return cls(
            landmarks=np.zeros((0, NUM_LANDMARKS, 3), np.float32),
            boxes=np.zeros((0, 4), np.float32),
            poses=np.zeros((0, 3), np.float32),
            image_size=(width, height),
            mirrored=mirrored,
        )

    def __len__(self) -> int:
        return int(self.landmarks.shape[0])

    @property
    def width(self) -> int:
        return self.image_size[0]

    @property
    def height(self) -> int:
        return self.image_size[1]

    def mirror(self) -> Faces:
        """The same faces seen in a horizontally flipped frame (selfie view).

        x becomes ``width - x``; ids keep naming the subject's own side; yaw and roll change sign.
        """
        landmarks = self.landmarks.copy()
        landmarks[..., 0] = self.width - landmarks[..., 0]
        boxes = self.boxes[:, [2, 1, 0, 3]].copy()
        boxes[:, [0, 2]] = self.width - boxes[:, [0, 2]]
        poses = self.poses * np.array([-1.0, 1.0, -1.0], np.float32)
        return replace(self, landmarks=landmarks, boxes=boxes, poses=poses, mirrored=not self.mirrored)

    def select(self, keep: np.ndarray | list[int]) -> Faces:
        """A subset of the faces, by index or boolean mask."""
        keep = np.asarray(keep)
        indices = np.flatnonzero(keep) if keep.dtype == bool else keep.astype(np.intp)
        return replace(
            self,
            landmarks=self.landmarks[indices],
            boxes=self.boxes[indices],
            poses=self.poses[indices],
            quality=tuple(self.quality[i] for i in indices) if self.quality else (),
            blendshapes=None if self.blendshapes is None else self.blendshapes[indices],
            fit=tuple(self.fit[i] for i in indices) if self.fit else (),
            detector_scores=None if self.detector_scores is None else self.detector_scores[indices],
        )

    def fits(self) -> np.ndarray:
        """``(F,) bool``: whose mesh may carry guidance (checked and ok, or never checked)."""
        if not self.fit:
            return np.ones(len(self), bool)
        return np.asarray([state == FIT_OK for state in self.fit], bool)
