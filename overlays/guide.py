"""A comet that travels along the current massage line in its direction, at a slow lymphatic pace.

Its position is a pure function of the time stamp, so a video animates and a test is deterministic. Stroke
points are resampled at an even spacing in millimetres, so the guide advances a fixed number of segments per
second whatever the face's size on screen.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import cv2
import numpy as np

from overlays.scene import SceneData
from overlays.strokes import segment_length_mm
from overlays.style import HALO, SUBPIXEL_SHIFT, WHITE, Color, to_fixed
from zones.geometry import GeometryIndex
from zones.safety import NO_TOUCH

TAIL_POINTS = 6


@dataclass(frozen=True)
class GuideSchedule:
    """The lines the guide visits in order, and when each visit ends (seconds, cumulative, with pauses)."""

    lines: np.ndarray
    travel_s: np.ndarray
    ends_s: np.ndarray
    seconds_per_segment: float

    def at(self, timestamp_s: float) -> tuple[int, float] | None:
        """``(line, segments travelled along it)`` at ``timestamp_s``; None while resting between lines."""
        if not len(self.lines):
            return None
        phase = float(timestamp_s) % float(self.ends_s[-1])
        which = min(int(np.searchsorted(self.ends_s, phase, side="right")), len(self.lines) - 1)
        into = phase - (float(self.ends_s[which - 1]) if which else 0.0)
        if into > self.travel_s[which]:
            return None
        return int(self.lines[which]), into / self.seconds_per_segment


def guide_schedule(
    segment_counts: np.ndarray, eligible: np.ndarray, seconds_per_segment: float, pause_s: float
) -> GuideSchedule:
    """Visit every ``eligible`` line with segments, in order: run it start to end, then rest ``pause_s``.

    segment_counts (L,) int: segments per line; eligible (L,) bool.
    """
    lines = np.flatnonzero(eligible & (segment_counts > 0))
    travel = segment_counts[lines] * seconds_per_segment
    return GuideSchedule(lines, travel, np.cumsum(travel + pause_s), seconds_per_segment)


@functools.lru_cache(maxsize=64)
def _schedule(
    index: GeometryIndex,
    status_bytes: bytes,
    current_line: str | None,
    seconds_per_segment: float,
    pause_s: float,
) -> GuideSchedule:
    counts = np.diff(index.segment_offsets)
    if current_line is not None:
        eligible = np.asarray(index.line_ids) == current_line
    else:
        shown = np.frombuffer(status_bytes, np.uint8) != NO_TOUCH
        eligible = (
            np.add.reduceat(np.r_[shown, False], np.minimum(index.segment_offsets[:-1], len(shown))) > 0
        )
    return guide_schedule(counts, eligible, seconds_per_segment, pause_s)


class GuideAnnotator:
    """A bright dot with a tail on the current line; hidden while it crosses a no-touch segment.

    speed_mm_s: travel speed on the skin (lymphatic drainage is slow: about 1-2 cm per second);
    pause_s: rest at the end of the line before the next pass; tail_mm: length of the comet's tail.
    When the frame names no current line, the guide visits, in order, every line with a segment that may be
    touched.
    """

    def __init__(
        self,
        speed_mm_s: float = 15.0,
        pause_s: float = 0.8,
        radius_mm: float = 2.4,
        tail_mm: float = 14.0,
        color: Color = WHITE,
        halo_color: Color = HALO,
    ) -> None:
        if speed_mm_s <= 0:
            raise ValueError(f"speed_mm_s must be > 0, got {speed_mm_s}")
        self.speed_mm_s = speed_mm_s
        self.pause_s = pause_s
        self.radius_mm = radius_mm
        self.tail_mm = tail_mm
        self.color = color
        self.halo_color = halo_color

    def position(self, data: SceneData, face: int = 0) -> tuple[int, float] | None:
        """``(line index, segments travelled along it)`` at ``data.timestamp_s``; None: nothing to show."""
        index = data.geometry.index
        status = b"" if data.current_line is not None else data.drawn_status[face].tobytes()
        seconds_per_segment = segment_length_mm(index) / self.speed_mm_s
        return _schedule(index, status, data.current_line, seconds_per_segment, self.pause_s).at(
            data.timestamp_s
        )

    def annotate(self, scene: np.ndarray, data: SceneData) -> np.ndarray:
        """Draw on ``scene`` (BGR uint8, in place) and return it."""
        geometry = data.geometry
        index = geometry.index
        tail = np.linspace(0.0, self.tail_mm / segment_length_mm(index), TAIL_POINTS)
        for face in range(len(geometry)):
            where = self.position(data, face)
            if where is None:
                continue
            line, travelled = where
            first, last = int(index.segment_offsets[line]), int(index.segment_offsets[line + 1])
            along = np.clip(travelled - tail, 0.0, last - first - 1e-3)
            segment = first + along.astype(np.intp)
            if data.drawn_status[face, segment[0]] == NO_TOUCH:
                continue
            point = index.segment_start[segment]
            start, end = geometry.line_points[face, point], geometry.line_points[face, point + 1]
            trail = to_fixed(start + (end - start) * (along - np.floor(along))[:, None])
            radius = max(3, round(self.radius_mm * float(geometry.px_per_mm[face])))
            cv2.polylines(scene, trail[None], False, self.halo_color, radius + 1, cv2.LINE_8, SUBPIXEL_SHIFT)  # type: ignore[call-overload]
            centre = (int(trail[0, 0]), int(trail[0, 1]))
            cv2.circle(
                scene, centre, (radius + 2) << SUBPIXEL_SHIFT, self.halo_color, -1, cv2.LINE_8, SUBPIXEL_SHIFT
            )
            cv2.circle(scene, centre, radius << SUBPIXEL_SHIFT, self.color, -1, cv2.LINE_AA, SUBPIXEL_SHIFT)
        return scene
