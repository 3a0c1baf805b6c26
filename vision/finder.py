"""Every face in a still: detect (full-range BlazeFace) -> crop each face -> landmark the crop -> check fit.

The landmarker alone (its short-range detector on the whole frame) misses small faces and most of a group
photo. Here the independent detector finds the faces; each is cut out with a margin, scaled to
``crop_size`` and landmarked in IMAGE mode; the landmarks are mapped back to frame pixels. Each mesh is
checked against its own detection's keypoints (``vision.fit``): a misfit is landmarked again from a crop
centred on the detector's keypoints, and a face that still does not fit is marked ``uncertain``.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import cv2
import numpy as np

from vision.detector import BlazeFaceDetector, Detections, DetectorOptions
from vision.faces import FIT_OK, FIT_UNCERTAIN, NUM_LANDMARKS, Faces, boxes_of
from vision.fit import FIT_TOLERANCE, fit_errors
from vision.frames import ColorOrder, to_rgb_uint8
from vision.landmarker import FaceDetector, LandmarkerOptions
from vision.quality import assess_quality

CROP_SIZE = 256  # the landmarker's own detector and mesh model work on 128-256 px: enough for any face
DUPLICATE_IOU = 0.5  # two meshes overlapping this much are one face found twice


@dataclass(frozen=True)
class FinderOptions:
    """``crop_scale``: crop side over the detector box's longer side (the mesh reaches above the box to the
    forehead and below it to the chin); ``refit_scale`` the crop of the second attempt; ``max_faces`` caps the
    faces landmarked per photo (largest first)."""

    detector: DetectorOptions = field(default_factory=DetectorOptions)
    landmarker: LandmarkerOptions = field(default_factory=lambda: LandmarkerOptions(max_faces=2))
    crop_scale: float = 2.0
    refit_scale: float = 1.6
    crop_size: int = CROP_SIZE
    max_faces: int = 8
    fit_tolerance: float = FIT_TOLERANCE

    def __post_init__(self) -> None:
        if self.crop_scale <= 1.0 or self.refit_scale <= 1.0 or self.crop_size < 64 or self.max_faces < 1:
            raise ValueError(
                f"crop_scale and refit_scale must exceed 1, crop_size be >= 64 and max_faces >= 1, got "
                f"{self.crop_scale}, {self.refit_scale}, {self.crop_size}, {self.max_faces}"
            )


@dataclass(frozen=True, eq=False)
class Found:
    """What a still holds: the mapped faces (largest first, ``fit`` and ``detector_scores`` filled), every
    detection, and the detections no mesh could be fitted to (the landmarker found nothing in their crop)."""

    faces: Faces
    detections: Detections
    unmapped: Detections


class FaceFinder:
    """Detector plus IMAGE-mode landmarker for stills; closes its native graph on ``close()`` / ``with``."""

    def __init__(self, options: FinderOptions | None = None) -> None:
        self.options = options or FinderOptions()
        self._detector = BlazeFaceDetector(self.options.detector)
        self._landmarker = FaceDetector(self.options.landmarker)

    def close(self) -> None:
        self._landmarker.close()

    def __enter__(self) -> FaceFinder:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def detect(self, image: np.ndarray, *, color: ColorOrder) -> Detections:
        """The detector alone: every face's box, keypoints and score."""
        return self._detector.detect(image, color=color)

    def find(self, image: np.ndarray, *, color: ColorOrder, detections: Detections | None = None) -> Found:
        """Every face in ``image`` ((H, W[, C]) in the named channel order); ``detections`` given (the live
        path's own, say) are landmarked instead of running the detector."""
        rgb = to_rgb_uint8(image, color)
        height, width = rgb.shape[:2]
        if detections is None:
            detections = self._detector.detect(rgb, color="rgb")
        order = np.argsort(-detections.widths, kind="stable")[: self.options.max_faces]
        meshes, poses, errors, used = [], [], [], []
        for index in order.tolist():
            fitted = self.landmark(rgb, detections, index)
            if fitted is None:
                continue
            meshes.append(fitted[0])
            poses.append(fitted[1])
            errors.append(fitted[2])
            used.append(index)
        unmapped = np.setdiff1d(np.arange(len(detections)), np.asarray(used, np.intp))
        if not meshes:
            return Found(Faces.empty(width, height), detections, detections.select(unmapped))
        landmarks = np.stack(meshes).astype(np.float32)
        faces = Faces(
            landmarks=landmarks,
            boxes=boxes_of(landmarks),
            poses=np.stack(poses).astype(np.float32),
            image_size=(width, height),
            fit=tuple(FIT_OK if e <= self.options.fit_tolerance else FIT_UNCERTAIN for e in errors),
            detector_scores=detections.scores[np.asarray(used, np.intp)].astype(np.float32),
        )
        areas = np.prod(faces.boxes[:, 2:] - faces.boxes[:, :2], axis=1)
        faces = _without_duplicates(faces.select(np.argsort(-areas, kind="stable")))  # largest first
        faces = replace(faces, quality=assess_quality(faces.landmarks, faces.poses, rgb, faces.boxes))
        return Found(faces, detections, detections.select(unmapped))

    def landmark(
        self, rgb: np.ndarray, detections: Detections, index: int
    ) -> tuple[np.ndarray, np.ndarray, float] | None:
        """Landmarks ``(478, 3)`` in frame pixels, pose ``(3,)`` and fit error of detection ``index``: the
        better of the box crop and, when that one misfits, a tighter crop on the detector's keypoints.
        None when no crop yields a face."""
        box, keypoints = detections.boxes[index], detections.keypoints[index]
        side = float(np.max(box[2:] - box[:2]))
        best: tuple[np.ndarray, np.ndarray, float] | None = None
        attempts = (
            ((box[:2] + box[2:]) / 2, self.options.crop_scale * side),
            (keypoints[:4].mean(axis=0), self.options.refit_scale * side),
        )
        for centre, crop_side in attempts:
            mesh = self.crop_mesh(rgb, centre, crop_side)
            if mesh is not None:
                error = float(fit_errors(mesh[0][None], keypoints[None])[0])
                if best is None or error < best[2]:
                    best = (mesh[0], mesh[1], error)
            if best is not None and best[2] <= self.options.fit_tolerance:
                break
        return best

    def crop_mesh(
        self, rgb: np.ndarray, centre: np.ndarray, side: float
    ) -> tuple[np.ndarray, np.ndarray] | None:
        """Landmark the square crop of ``side`` px around ``centre`` (zero-padded beyond the frame), scaled to
        ``crop_size``; the crop's face nearest its centre, mapped back to frame pixels."""
        size = self.options.crop_size
        scale = size / side
        origin = centre - side / 2
        warp = np.array([[scale, 0.0, -origin[0] * scale], [0.0, scale, -origin[1] * scale]], np.float32)
        crop = cv2.warpAffine(rgb, warp, (size, size), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT)
        found = self._landmarker.detect(crop, color="rgb")
        if len(found) == 0:
            return None
        nose = found.landmarks[:, 4, :2]
        nearest = int(np.argmin(np.linalg.norm(nose - size / 2, axis=1)))
        landmarks = found.landmarks[nearest] / scale
        landmarks[:, :2] += origin
        return landmarks.reshape(NUM_LANDMARKS, 3), found.poses[nearest]


def _without_duplicates(faces: Faces) -> Faces:
    """Drop a mesh that overlaps an earlier (larger) one by more than ``DUPLICATE_IOU``."""
    boxes = faces.boxes
    keep: list[int] = []
    for i in range(len(faces)):
        lo = np.maximum(boxes[keep, :2], boxes[i, :2])
        hi = np.minimum(boxes[keep, 2:], boxes[i, 2:])
        inter = np.prod(np.clip(hi - lo, 0.0, None), axis=1)
        areas = np.prod(boxes[keep, 2:] - boxes[keep, :2], axis=1) + np.prod(boxes[i, 2:] - boxes[i, :2])
        if not keep or (inter / np.maximum(areas - inter, 1e-6)).max() <= DUPLICATE_IOU:
            keep.append(i)
    return faces if len(keep) == len(faces) else faces.select(keep)
