"""Real faces pasted into bigger frames: small-face frames and group photos built from the project's photos.

Each face is cut from a real photo around its detector box, scaled so the box is ``width`` px wide, and
blended in with a feathered elliptical edge, so the detector sees real skin, eyes and hair, only smaller.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

CUT_SCALE = 1.9  # the cut-out reaches this many box widths around the face's centre (hair, chin, ears)


@dataclass(frozen=True)
class Placed:
    """Where a pasted face landed: its detector box scaled into the canvas, x0 y0 x1 y1."""

    box: tuple[float, float, float, float]

    @property
    def width(self) -> float:
        return self.box[2] - self.box[0]


def cut(image: np.ndarray, box: np.ndarray) -> tuple[np.ndarray, float]:
    """A square cut-out around ``box`` (zero-padded past the frame) and the box width's share of its side."""
    centre = (box[:2] + box[2:]) / 2
    side = CUT_SCALE * float(box[2] - box[0])
    origin = centre - side / 2
    size = round(side)
    warp = np.array([[1.0, 0.0, -origin[0]], [0.0, 1.0, -origin[1]]], np.float32)
    patch = cv2.warpAffine(image, warp, (size, size), borderMode=cv2.BORDER_REPLICATE)
    return patch, float(box[2] - box[0]) / side


def background(width: int, height: int, seed: int = 0) -> np.ndarray:
    """A quiet textured backdrop (smooth grey-brown noise), so no face is pasted onto a flat colour."""
    rng = np.random.default_rng(seed)
    shape = (max(2, height // 24), max(2, width // 24))
    grey = rng.normal(125.0, 30.0, shape)[..., None] + rng.normal(0.0, 6.0, (*shape, 3))
    noise = grey.astype(np.float32)
    return np.clip(cv2.resize(noise, (width, height), interpolation=cv2.INTER_CUBIC), 0, 255).astype(np.uint8)


def paste(
    canvas: np.ndarray, patch: np.ndarray, share: float, width: float, centre: tuple[float, float]
) -> Placed:
    """Paste ``patch`` (from ``cut``) so its face box is ``width`` px wide and centred at ``centre``."""
    side = max(4, round(width / share))
    scaled = cv2.resize(patch, (side, side), interpolation=cv2.INTER_AREA)
    mask = np.zeros((side, side), np.float32)
    cv2.ellipse(mask, (side // 2, side // 2), (int(side * 0.42), int(side * 0.47)), 0, 0, 360, 1.0, -1)
    mask = cv2.GaussianBlur(mask, (0, 0), side * 0.04 + 0.5)[..., None]
    x0, y0 = round(centre[0] - side / 2), round(centre[1] - side / 2)
    h, w = canvas.shape[:2]
    cx0, cy0, cx1, cy1 = max(x0, 0), max(y0, 0), min(x0 + side, w), min(y0 + side, h)
    region = canvas[cy0:cy1, cx0:cx1].astype(np.float32)
    piece = scaled[cy0 - y0 : cy1 - y0, cx0 - x0 : cx1 - x0].astype(np.float32)
    alpha = mask[cy0 - y0 : cy1 - y0, cx0 - x0 : cx1 - x0]
    canvas[cy0:cy1, cx0:cx1] = (alpha * piece + (1 - alpha) * region + 0.5).astype(np.uint8)
    half = width / 2
    return Placed((centre[0] - half, centre[1] - half, centre[0] + half, centre[1] + half))


def found(placed: list[Placed], boxes: np.ndarray, tolerance: float = 0.35) -> list[bool]:
    """Per pasted face: whether some box ``(N, 4)`` has its centre within ``tolerance`` widths of the face's
    centre and a width within a factor 1.6 of it."""
    out = []
    for face in placed:
        centre = np.array([(face.box[0] + face.box[2]) / 2, (face.box[1] + face.box[3]) / 2])
        centres = (boxes[:, :2] + boxes[:, 2:]) / 2
        widths = boxes[:, 2] - boxes[:, 0]
        near = np.linalg.norm(centres - centre, axis=1) < tolerance * face.width
        sized = (widths > face.width / 1.6) & (widths < face.width * 1.6)
        out.append(bool((near & sized).any()))
    return out
