"""Streams keep their own memory: two streams with equal settings share one cached pipeline (issue 10)."""

from __future__ import annotations

from datetime import date

import cv2
import numpy as np

from pipeline import Settings, StreamProcessor, pipeline_for
from zones.plan import Plan

FRAMES = 16
SETTINGS = Settings(plan=Plan((), "hands", date(2026, 11, 22)))  # all strokes safe: step badges everywhere


def drifting_portrait(image: np.ndarray, size: tuple[int, int], frames: int) -> list[np.ndarray]:
    """``frames`` frames of ``size`` (w, h): the portrait scaled to the frame's height, drifting right."""
    width, height = size
    scaled = cv2.resize(image, (round(image.shape[1] * height / image.shape[0]), height))
    out = []
    for i in range(frames):
        frame = np.full((height, width, 3), 90, np.uint8)
        x = (width - scaled.shape[1]) // 2 - 40 + 5 * i
        frame[:, max(x, 0) : x + scaled.shape[1]] = scaled[:, max(-x, 0) : width - x]
        out.append(frame)
    return out


def run(streams: dict[str, list[np.ndarray]], order: list[tuple[str, int]]) -> dict[str, list[np.ndarray]]:
    """Each named stream through its own ``StreamProcessor``, frames taken in ``order``; the frames shown."""
    shown: dict[str, list[np.ndarray]] = {name: [] for name in streams}
    processors = {name: StreamProcessor() for name in streams}
    try:
        for name, i in order:
            frame, _ = processors[name](streams[name][i].copy(), 1000 + 40 * i, SETTINGS, fps=25.0)
            shown[name].append(frame)
    finally:
        for processor in processors.values():
            processor.close()
    return shown


def test_two_streams_with_equal_settings_do_not_disturb_each_other(clip_frames, sample_images) -> None:
    frames, _ = clip_frames
    clip = [np.array(frame) for frame in frames[:FRAMES]]
    height, width = clip[0].shape[:2]
    portrait = drifting_portrait(sample_images["grace_hopper.jpg"], (width, height), FRAMES)
    streams = {"clip": clip, "portrait": portrait}
    alone = {name: run({name: streams[name]}, [(name, i) for i in range(FRAMES)])[name] for name in streams}
    interleaved = run(streams, [(name, i) for i in range(FRAMES) for name in streams])
    assert pipeline_for(SETTINGS) is pipeline_for(Settings(plan=SETTINGS.plan))  # one shared pipeline
    for name in streams:
        assert all(np.any(a != b) for a, b in zip(alone[name], streams[name], strict=True))  # drawn on
        for i, (a, b) in enumerate(zip(alone[name], interleaved[name], strict=True)):
            assert np.array_equal(a, b), f"{name} frame {i} differs when the other stream runs between"
