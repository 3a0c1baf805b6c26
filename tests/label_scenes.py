"""Real faces composed into bigger frames for the label layout: a small face, a tall portrait, a group photo.

A sample photo's face is cut out (a square around its landmarks' box) and pasted, scaled, into a canvas; its
landmarks go through the same scale and shift, so every composed face carries the mesh MediaPipe found on the
real photo (no detection on the composite, whose faces may be smaller than the landmarker finds alone).
"""

from __future__ import annotations

from dataclasses import replace

import cv2
import numpy as np

from vision.faces import Faces

CUT = 1.7  # the cut-out's side in face-box widths (hair, ears and chin come along)


def canvas(width: int, height: int, seed: int = 0) -> np.ndarray:
    """A quiet textured backdrop ``(height, width, 3) uint8``: smooth grey noise, not a flat colour."""
    rng = np.random.default_rng(seed)
    small = rng.normal(120.0, 25.0, (max(2, height // 32), max(2, width // 32), 1)).astype(np.float32)
    grey = cv2.resize(small, (width, height), interpolation=cv2.INTER_CUBIC)
    return np.clip(np.repeat(grey[..., None], 3, axis=2), 0, 255).astype(np.uint8)


def compose(
    frame: np.ndarray, image: np.ndarray, faces: Faces, width: float, centre: tuple[float, float]
) -> Faces:
    """Paste the first face of ``image`` into ``frame`` (in place) with its box ``width`` px wide, centred at
    ``centre``; returns that face with landmarks and box moved into ``frame``'s pixels."""
    box = faces.boxes[0].astype(np.float64)
    middle = (box[:2] + box[2:]) / 2
    scale = width / (box[2] - box[0])
    side = CUT * (box[2] - box[0]) * scale
    # one affine map from the photo into the frame: scale about the face's centre, then move to ``centre``
    shift = np.asarray(centre, np.float64) - scale * middle
    warp = np.array([[scale, 0.0, shift[0]], [0.0, scale, shift[1]]], np.float32)
    h, w = frame.shape[:2]
    moved = cv2.warpAffine(image, warp, (w, h), flags=cv2.INTER_AREA, borderMode=cv2.BORDER_CONSTANT)
    mask = np.zeros((h, w), np.float32)
    axes = (int(side * 0.5), int(side * 0.55))
    cv2.ellipse(mask, (round(centre[0]), round(centre[1])), axes, 0, 0, 360, 1.0, -1)
    inside = np.zeros((image.shape[0], image.shape[1]), np.float32) + 1
    mask *= cv2.warpAffine(inside, warp, (w, h), flags=cv2.INTER_NEAREST)
    mask = cv2.GaussianBlur(mask, (0, 0), side * 0.03 + 0.5)[..., None]
    frame[:] = (mask * moved + (1 - mask) * frame + 0.5).astype(np.uint8)
    landmarks = faces.landmarks[:1].copy()
    landmarks[..., :2] = landmarks[..., :2] * scale + shift.astype(np.float32)
    landmarks[..., 2] *= scale
    boxes = (faces.boxes[:1] * scale + np.r_[shift, shift]).astype(np.float32)
    return replace(faces.select([0]), landmarks=landmarks, boxes=boxes, image_size=(w, h))


def together(frame: np.ndarray, parts: list[Faces]) -> Faces:
    """The faces of ``parts`` (each from ``compose`` into ``frame``) as one detection."""
    return Faces(
        landmarks=np.concatenate([p.landmarks for p in parts]),
        boxes=np.concatenate([p.boxes for p in parts]),
        poses=np.concatenate([p.poses for p in parts]),
        image_size=(frame.shape[1], frame.shape[0]),
        quality=tuple(q for p in parts for q in p.quality),
    )


def group_photo(images: dict[str, tuple[np.ndarray, Faces]]) -> tuple[np.ndarray, Faces]:
    """Five real faces 120-210 px wide side by side in a 1280x720 frame (the two sample portraits, each also
    mirrored: a mirrored photo is another real face as far as the layout is concerned)."""
    frame = canvas(1280, 720, seed=1)
    sources = []
    for name in ("grace_hopper", "astronaut"):
        image, faces = images[name]
        sources.append((image, faces))
        sources.append((np.ascontiguousarray(image[:, ::-1]), faces.mirror()))
    spots = [(150, 360, 170), (390, 330, 210), (640, 400, 150), (870, 340, 190), (1110, 380, 120)]
    parts = [
        compose(frame, *sources[i % len(sources)], width, (x, y)) for i, (x, y, width) in enumerate(spots)
    ]
    return frame, together(frame, parts)


def tall_portrait(images: dict[str, tuple[np.ndarray, Faces]]) -> tuple[np.ndarray, Faces]:
    """A 720x1800 portrait (a phone photo, upright) with one real face 330 px wide in its upper third."""
    frame = canvas(720, 1800, seed=2)
    return frame, compose(frame, *images["grace_hopper"], 330, (360, 520))


def small_face(images: dict[str, tuple[np.ndarray, Faces]]) -> tuple[np.ndarray, Faces]:
    """One real face 90 px wide in a 640x480 frame, left of centre."""
    frame = canvas(640, 480, seed=3)
    return frame, compose(frame, *images["astronaut"], 90, (250, 220))
