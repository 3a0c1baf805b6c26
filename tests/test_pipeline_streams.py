"""Streams keep their own memory: two streams with equal settings share one cached pipeline (issue 10); a
stream's plan stays with one person (issue 11)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import cv2
import numpy as np

from overlays.scene import PERSON_AWAY
from pipeline import PlanPerson, Settings, StreamProcessor, pipeline_for
from vision.faces import Faces, boxes_of
from zones.plan import Plan
from zones.safety import SAFE

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


def _scaled_about_centre(faces: Faces, face: int, factor: float) -> Faces:
    landmarks = faces.landmarks.copy()
    centre = landmarks[face, :, :2].mean(axis=0)
    landmarks[face, :, :2] = centre + (landmarks[face, :, :2] - centre) * factor
    return replace(faces, landmarks=landmarks, boxes=boxes_of(landmarks))


def test_the_plan_stays_with_its_person_when_the_other_face_grows_larger(two_people) -> None:
    _, faces, _ = two_people  # his face (the larger) first, then hers
    person = PlanPerson()
    assert person.choose(faces, 0.0) == 0
    ratio = float((faces.boxes[0, 2] - faces.boxes[0, 0]) / (faces.boxes[1, 2] - faces.boxes[1, 0]))
    hers_larger = _scaled_about_centre(faces, 1, ratio * 1.2).select([1, 0])  # she leans in, listed first
    widths = hers_larger.boxes[:, 2] - hers_larger.boxes[:, 0]
    assert widths[0] > widths[1], "hers is now the larger face"
    for step in range(1, 6):
        assert person.choose(hers_larger, 40.0 * step) == 1, "the plan jumped to the other person"


def test_nobody_gets_the_plan_while_its_person_is_out_of_view_then_the_largest_does(two_people) -> None:
    _, faces, _ = two_people
    person = PlanPerson(away_ms=2000.0)
    assert person.choose(faces, 0.0) == 0
    hers_only = faces.select([1])
    assert person.choose(hers_only, 40.0) == PERSON_AWAY
    assert person.choose(hers_only, 1990.0) == PERSON_AWAY
    assert person.choose(faces, 2000.0) == 0, "he came back where he was: the plan is his again"
    assert person.choose(hers_only, 2040.0) == PERSON_AWAY
    assert person.choose(hers_only, 4100.0) == 0, "away for longer than the hold: the largest face now"
    assert person.choose(Faces.empty(*faces.image_size), 4140.0) is None


def test_a_lone_face_that_jumps_keeps_the_plan_and_a_new_face_gets_it_before_a_known_one(two_people) -> None:
    _, faces, _ = two_people
    person = PlanPerson(away_ms=2000.0)
    his = faces.select([0])
    assert person.choose(his, 0.0) == 0
    width = float(his.boxes[0, 2] - his.boxes[0, 0])
    jumped = replace(his, landmarks=his.landmarks + np.array([2 * width, 0, 0], np.float32))
    jumped = replace(jumped, boxes=boxes_of(jumped.landmarks))
    assert person.choose(jumped, 40.0) == 0, "one face, moved fast (or frames skipped): still hers"
    person = PlanPerson(away_ms=2000.0)
    assert person.choose(faces, 0.0) == 0  # him (the plan), her (known)
    landmarks = np.concatenate([jumped.landmarks, faces.landmarks[1:]])  # he moved fast, she stayed
    moved = replace(faces, landmarks=landmarks, boxes=boxes_of(landmarks))
    assert person.choose(moved.select([1, 0]), 40.0) == 1, "the new face is him, not her"


def test_a_stream_does_not_hand_the_plan_to_the_other_person_when_its_person_is_hidden(two_people) -> None:
    image, faces, _ = two_people
    his_half = int(faces.boxes[0, 2] + faces.boxes[1, 0]) // 2
    hidden = image.copy()
    hidden[:, :his_half] = 90  # his face gone from the camera's view (a hand, a turn away)
    settings = Settings(plan=Plan((), "hands", date(2026, 11, 22)))  # everything safe: strokes everywhere
    with StreamProcessor() as stream:
        for i in range(5):
            _, data = stream(image.copy(), 1000 + 40 * i, settings)
        assert data.plan_face is not None and data.faces.boxes[data.plan_face, 2] < his_half
        for i in range(5, 12):
            _, data = stream(hidden.copy(), 1000 + 40 * i, settings)
            assert len(data.faces) == 1 and data.faces.boxes[0, 0] > his_half, "only her face in view"
            assert data.plan_face is None and not data.guided.any()
            assert not (data.drawn_status == SAFE).any(), "a green stroke on the wrong person"
            assert "The plan's person is out of view: the plan is shown on none" in data.notes
