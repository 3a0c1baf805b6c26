"""Does a landmark mesh fit its face? Checked against independent evidence: the face detector's keypoints.

A mesh shifted one feature down (forehead on the eyes, lips on the chin) looks like a healthy mesh to every
check that only reads the mesh. BlazeFace's eye, nose-tip and mouth keypoints come from another network on
the same pixels: measured on real photos, a mesh that fits lies within about 0.03-0.22 inter-ocular distances
of them (mean over the four points), one feature off lies about 1.0 away.
"""

from __future__ import annotations

import numpy as np

from vision.detector import LEFT_EYE, MOUTH, NOSE_TIP, RIGHT_EYE, Detections
from vision.faces import IRIS_LEFT, IRIS_RIGHT, NUM_LANDMARKS

FIT_TOLERANCE = 0.4  # mean keypoint distance over the detector's eye distance; beyond it the mesh is a misfit
NOSE_TIP_LANDMARK = 4
MOUTH_LANDMARKS = (13, 14)  # inner upper and lower lip, centre
MATCH_MIN_IOU = 0.3  # a mesh and a detection belong to the same face when their boxes overlap this much


def mesh_keypoints(landmarks: np.ndarray) -> np.ndarray:
    """``(F, 478, 2|3)`` landmarks -> ``(F, 4, 2)``: the four points the detector gives (right eye, left eye
    as iris centres, nose tip, mouth centre)."""
    points = np.asarray(landmarks, np.float32)
    if points.ndim != 3 or points.shape[1] != NUM_LANDMARKS or points.shape[2] not in (2, 3):
        raise ValueError(f"landmarks must be (F, 478, 2|3), got {points.shape}")
    xy = points[..., :2]
    mouth = xy[:, list(MOUTH_LANDMARKS)].mean(axis=1)
    return np.stack([xy[:, IRIS_RIGHT[0]], xy[:, IRIS_LEFT[0]], xy[:, NOSE_TIP_LANDMARK], mouth], axis=1)


def fit_errors(landmarks: np.ndarray, keypoints: np.ndarray) -> np.ndarray:
    """Mean distance between each mesh's four points and its detection's, in the detection's eye distances.

    ``landmarks (F, 478, 2|3)``, ``keypoints (F, 6, 2)`` (``Detections.keypoints`` of the same faces, in the
    same pixels) -> ``(F,) float32``; 0 is a perfect fit, above ``FIT_TOLERANCE`` a misfit.
    """
    detected = np.asarray(keypoints, np.float32)
    if detected.ndim != 3 or detected.shape[1:] != (6, 2) or detected.shape[0] != np.shape(landmarks)[0]:
        raise ValueError(f"keypoints must be ({np.shape(landmarks)[0]}, 6, 2), got {detected.shape}")
    evidence = detected[:, [RIGHT_EYE, LEFT_EYE, NOSE_TIP, MOUTH]]
    eyes = np.linalg.norm(evidence[:, 1] - evidence[:, 0], axis=1)
    distance = np.linalg.norm(mesh_keypoints(landmarks) - evidence, axis=2).mean(axis=1)
    return (distance / np.maximum(eyes, 1e-6)).astype(np.float32)


def match(mesh_boxes: np.ndarray, detections: Detections) -> np.ndarray:
    """For each mesh box ``(F, 4)``, the index of the detection covering the same face, or -1: ``(F,) intp``.

    Greedy by overlap (intersection over the smaller box, so a detector box tighter than the mesh still
    matches); each detection is used once.
    """
    boxes = np.asarray(mesh_boxes, np.float32).reshape(-1, 4)
    out = np.full(len(boxes), -1, np.intp)
    if len(boxes) == 0 or len(detections) == 0:
        return out
    other = detections.boxes
    lo = np.maximum(boxes[:, None, :2], other[None, :, :2])
    hi = np.minimum(boxes[:, None, 2:], other[None, :, 2:])
    inter = np.prod(np.clip(hi - lo, 0.0, None), axis=2)
    area = lambda b: np.prod(np.clip(b[:, 2:] - b[:, :2], 1e-6, None), axis=1)  # noqa: E731
    overlap = inter / np.minimum(area(boxes)[:, None], area(other)[None, :])
    for flat in np.argsort(-overlap, axis=None):
        mesh, det = np.unravel_index(flat, overlap.shape)
        if overlap[mesh, det] < MATCH_MIN_IOU:
            break
        if out[mesh] < 0 and det not in out:
            out[mesh] = det
    return out
