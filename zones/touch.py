"""Touch guard: which no-touch areas a fingertip is in right now, and a steady warning from that.

Three pieces, numpy only (no drawing, no MediaPipe):
- ``no_touch_hits``: all touch points of all hands against the no-touch outlines drawn on the frame (the
  plan's face, what the camera sees), each grown by its margin, in one broadcast.
- ``TouchGuard``: hysteresis over time stamps, so the warning shows on the first frame a fingertip is in
  (well within 100 ms) and does not flicker when the hand tracker misses a frame; counts touches per area.
- ``FaceHold``: a hand over the face hides the face landmarks; keep the last good face for a short time
  rather than dropping the zones, then say the face is hidden.
"""

from __future__ import annotations

from collections.abc import Sequence, Sized
from dataclasses import dataclass
from typing import Generic, Literal, TypeVar

import numpy as np

from vision.hands import FINGER_NAMES, TOUCH_LANDMARKS, Hands
from zones.geometry import FaceGeometry
from zones.safety import SafetyMap, distances_to_polygons

POINTS_PER_HAND = len(TOUCH_LANDMARKS)  # five fingertips then five finger pads
RELEASE_MS = 300.0
HOLD_MS = 500.0
FORGET_MS = 3000.0

FaceState = Literal["live", "held", "hidden", "absent"]
V = TypeVar("V", bound=Sized)  # what FaceHold keeps: Faces or FaceGeometry


def no_touch_hits(hands: Hands, geometry: FaceGeometry, safety: SafetyMap, drawn: np.ndarray) -> TouchHits:
    """Which fingertips and finger pads are inside which no-touch areas drawn on the frame, each grown by its
    margin.

    Only the areas ``drawn (F, A) bool`` per face are tested (``SceneData.area_shown``: the plan's face, and
    on it what the camera sees): a fingertip over a face without the plan, or on the profile where a hidden
    far-side area lies, is over no no-touch area. Every touch point of every hand against every drawn no-touch
    outline in one broadcast (the distance-to-polygon test ``segment_status`` uses, on the safety map's
    per-plan edge tables); margins become pixels through each face's own scale. Returns ``TouchHits`` with
    ``point_hits (F, T, A)`` (T = 10 per hand), true only for drawn no-touch areas. Raises ``ValueError``
    when the geometry and the safety map come from different catalogues, or ``drawn`` has another shape.
    """
    if len(safety.area_ids) != geometry.index.num_areas:
        raise ValueError(
            f"geometry has {geometry.index.num_areas} areas, the safety map {len(safety.area_ids)}: "
            "they come from different catalogues"
        )
    points = hands.touch_points()
    faces, areas = len(geometry), geometry.index.num_areas
    if np.shape(drawn) != (faces, areas):
        raise ValueError(f"drawn must be ({faces}, {areas}), got {np.shape(drawn)}")
    tested = np.asarray(drawn, bool)[:, safety.no_touch]  # (F, N)
    chosen = np.flatnonzero(tested.any(axis=1))  # faces with a drawn no-touch area
    point_hits = np.zeros((faces, len(points), areas), bool)
    if chosen.size and len(points):
        outlines = geometry.area_points[chosen]
        distance = distances_to_polygons(
            np.broadcast_to(points, (len(chosen), *points.shape)),
            outlines[:, safety.edge_start],
            outlines[:, safety.edge_end],
            safety.edge_offsets,
        )  # (C, T, N)
        margin = safety.margins_mm[safety.no_touch][None, None, :] * geometry.px_per_mm[chosen, None, None]
        hit = (distance <= margin) & tested[chosen][:, None, :]
        point_hits[np.ix_(chosen, np.arange(len(points)), safety.no_touch)] = hit
    return TouchHits(points, point_hits)


@dataclass(frozen=True)
class TouchHits:
    """One frame's raw hit test: ``points (T, 2) float32`` (10 per hand: tips then pads) and
    ``point_hits (F, T, A) bool`` against the areas of the catalogue (only no-touch areas can be true)."""

    points: np.ndarray
    point_hits: np.ndarray

    @classmethod
    def none(cls, areas: int) -> TouchHits:
        return cls(np.zeros((0, 2), np.float32), np.zeros((0, 0, areas), bool))

    @property
    def areas(self) -> np.ndarray:
        """``(A,) bool``: a fingertip or pad of any hand is in the (dilated) area on any face."""
        return np.asarray(self.point_hits.any(axis=(0, 1)), bool)

    @property
    def touching_points(self) -> np.ndarray:
        """``(T,) bool``: this point is in some no-touch area."""
        return np.asarray(self.point_hits.any(axis=(0, 2)), bool)

    def fingers(self) -> np.ndarray:
        """``(A, 5) bool``: which fingers (thumb .. pinky, either hand, tip or pad) are in each area."""
        by_point = self.point_hits.any(axis=0)  # (T, A)
        finger_of_point = np.arange(by_point.shape[0]) % POINTS_PER_HAND % len(FINGER_NAMES)
        fingers = np.zeros((by_point.shape[1], len(FINGER_NAMES)), bool)
        np.logical_or.at(fingers.T, finger_of_point, by_point)
        return fingers


@dataclass(frozen=True)
class TouchReport:
    """What the guard says for one frame; everything the overlay and the JSON need.

    Shapes (A catalogue areas, T touch points): ``active (A,) bool`` warning on (with hysteresis),
    ``counts (A,) int32`` touches this session, ``entered_ms (A,) float64`` when the current warning began
    (NaN when off; drives the blink phase), ``fingers (A, 5) bool`` fingers in each area this frame,
    ``points (T, 2)`` and ``touching (T,) bool`` for the fingertip dots.
    """

    area_ids: tuple[str, ...]
    labels: tuple[str, ...]
    active: np.ndarray
    counts: np.ndarray
    entered_ms: np.ndarray
    fingers: np.ndarray
    points: np.ndarray
    touching: np.ndarray
    timestamp_ms: float
    face_state: FaceState = "live"

    @property
    def active_labels(self) -> tuple[str, ...]:
        return tuple(label for label, on in zip(self.labels, self.active, strict=True) if on)

    def as_json(self) -> list[dict[str, object]]:
        """``"touches"`` for the CLI/JSON: one entry per area touched now or earlier in the session."""
        rows: list[dict[str, object]] = []
        for index in np.flatnonzero(self.active | (self.counts > 0)):
            rows.append(
                {
                    "area": self.area_ids[index],
                    "label": self.labels[index],
                    "active": bool(self.active[index]),
                    "count": int(self.counts[index]),
                    "fingers": [
                        name for name, on in zip(FINGER_NAMES, self.fingers[index], strict=True) if on
                    ],
                }
            )
        return rows


class TouchGuard:
    """Hysteresis over per-area hit flags, driven by time stamps (ms), with a touch count per area.

    A warning turns on in the very frame a point enters (no confirmation delay, so it shows within one frame
    time) and turns off once no point has been in the area for ``release_ms``, so one missed frame from the
    hand tracker neither blinks it off nor counts a second touch. One guard per session (or per clip).
    """

    def __init__(
        self,
        area_ids: Sequence[str],
        labels: Sequence[str] | None = None,
        *,
        release_ms: float = RELEASE_MS,
    ) -> None:
        if release_ms < 0:
            raise ValueError(f"release_ms must be >= 0, got {release_ms}")
        self.area_ids = tuple(area_ids)
        self.labels = tuple(labels) if labels is not None else self.area_ids
        if len(self.labels) != len(self.area_ids):
            raise ValueError(f"{len(self.labels)} labels for {len(self.area_ids)} areas")
        self.release_ms = float(release_ms)
        self.reset()

    def reset(self) -> None:
        """Start a new session: warnings off, counts zero."""
        areas = len(self.area_ids)
        self._active = np.zeros(areas, bool)
        self._counts = np.zeros(areas, np.int32)
        self._last_hit_ms = np.full(areas, -np.inf)
        self._entered_ms = np.full(areas, np.nan)
        self._last_ms: float | None = None

    def update(self, hits: TouchHits, timestamp_ms: float, face_state: FaceState = "live") -> TouchReport:
        """Advance to ``timestamp_ms`` (non-decreasing) with this frame's hits."""
        flags = hits.areas
        if flags.shape != (len(self.area_ids),):
            raise ValueError(f"hits cover {flags.shape[0]} areas, the guard {len(self.area_ids)}")
        if self._last_ms is not None and timestamp_ms < self._last_ms:
            raise ValueError(f"time went back from {self._last_ms} to {timestamp_ms} ms; reset() the guard")
        now = float(timestamp_ms)
        self._last_ms = now
        self._last_hit_ms[flags] = now
        active = flags | (self._active & (now - self._last_hit_ms < self.release_ms))
        entering = active & ~self._active
        self._counts += entering
        self._entered_ms[entering] = now
        self._entered_ms[~active] = np.nan
        self._active = active
        return TouchReport(
            area_ids=self.area_ids,
            labels=self.labels,
            active=active.copy(),
            counts=self._counts.copy(),
            entered_ms=self._entered_ms.copy(),
            fingers=hits.fingers(),
            points=hits.points,
            touching=hits.touching_points,
            timestamp_ms=now,
            face_state=face_state,
        )


@dataclass(frozen=True)
class Held(Generic[V]):
    """``value`` to use this frame and where it came from: ``live`` (seen now), ``held`` (last good one,
    lost at most ``hold_ms`` ago), ``hidden`` (lost for longer: say "face hidden"), ``absent`` (none seen
    for ``forget_ms``, or never); ``lost_ms``: how long ago the last face was seen (0 when live or never)."""

    value: V
    state: FaceState
    lost_ms: float = 0.0


class FaceHold(Generic[V]):
    """Keeps the last non-empty value (``Faces`` or ``FaceGeometry``) for ``hold_ms`` after it goes empty.

    A hand over the face makes the face landmarker drop the face for a few frames exactly while the guard
    is needed most; holding the last geometry keeps the no-touch zones on screen through the gap.
    """

    def __init__(self, hold_ms: float = HOLD_MS, forget_ms: float = FORGET_MS) -> None:
        if not 0 <= hold_ms <= forget_ms:
            raise ValueError(f"need 0 <= hold_ms <= forget_ms, got {hold_ms}, {forget_ms}")
        self.hold_ms = float(hold_ms)
        self.forget_ms = float(forget_ms)
        self._last: V | None = None
        self._seen_ms = -np.inf

    def update(self, value: V, timestamp_ms: float) -> Held[V]:
        """``value`` as found in the frame at ``timestamp_ms`` (empty when no face) -> what to use."""
        if len(value) > 0:
            self._last, self._seen_ms = value, float(timestamp_ms)
            return Held(value, "live")
        if self._last is None:
            return Held(value, "absent")
        lost = float(timestamp_ms) - self._seen_ms
        if lost <= self.hold_ms:
            return Held(self._last, "held", lost)
        return Held(value, "hidden" if lost <= self.forget_ms else "absent", lost)
