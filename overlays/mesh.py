"""Debug view of the raw face mesh: every tesselation edge of every face in one ``cv2.polylines`` call."""

from __future__ import annotations

import cv2
import numpy as np
from mediapipe.tasks.python.vision import FaceLandmarksConnections

from overlays.scene import SceneData
from overlays.style import SUBPIXEL_SHIFT, Color, to_fixed

TESSELATION_EDGES = np.array(
    [(c.start, c.end) for c in FaceLandmarksConnections.FACE_LANDMARKS_TESSELATION], np.intp
)  # (E, 2) landmark ids
CONTOUR_EDGES = np.array(
    [(c.start, c.end) for c in FaceLandmarksConnections.FACE_LANDMARKS_CONTOURS], np.intp
)


def edge_segments(landmarks: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """``landmarks (F, N, 2|3)`` px, ``edges (E, 2)`` ids -> ``(F * E, 2, 2) float32`` segment ends."""
    landmarks = np.asarray(landmarks, np.float32)
    if landmarks.ndim != 3 or landmarks.shape[2] not in (2, 3):
        raise ValueError(f"landmarks must be (F, N, 2) or (F, N, 3), got {landmarks.shape}")
    return landmarks[:, edges, :2].reshape(-1, 2, 2)


class MeshAnnotator:
    """Draws the face mesh (and optionally the contours on top) as thin anti-aliased lines."""

    def __init__(
        self,
        color: Color = (200, 200, 200),
        contour_color: Color | None = (80, 220, 255),
        thickness: int = 1,
        line_type: int = cv2.LINE_AA,
    ) -> None:
        self.color = color
        self.contour_color = contour_color
        self.thickness = thickness
        self.line_type = line_type

    def annotate(self, scene: np.ndarray, data: SceneData) -> np.ndarray:
        """Draw on ``scene`` (BGR uint8, in place) and return it; no faces leaves it untouched."""
        faces = data.faces
        if len(faces) == 0:
            return scene
        mesh = to_fixed(edge_segments(faces.landmarks, TESSELATION_EDGES))
        cv2.polylines(scene, mesh, False, self.color, self.thickness, self.line_type, SUBPIXEL_SHIFT)  # type: ignore[call-overload]
        if self.contour_color is not None:
            contours = to_fixed(edge_segments(faces.landmarks, CONTOUR_EDGES))
            cv2.polylines(  # type: ignore[call-overload]
                scene, contours, False, self.contour_color, self.thickness + 1, self.line_type, SUBPIXEL_SHIFT
            )
        return scene
