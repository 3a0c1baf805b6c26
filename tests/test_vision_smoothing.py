"""One Euro filter: a unit's worth of behaviour on synthetic tracks; the per-face smoother on real meshes."""

from __future__ import annotations

import numpy as np
import pytest

from vision.faces import boxes_of
from vision.smoothing import FaceSmoother, OneEuroConfig, OneEuroFilter


def _points(value: float, faces: int = 1) -> np.ndarray:
    return np.full((faces, 478, 3), value, np.float32)


def test_constant_input_stays_constant() -> None:
    smoother = OneEuroFilter()
    rng = np.random.default_rng(0)
    values = rng.uniform(0, 640, (2, 478, 3)).astype(np.float32)
    for frame in range(30):
        out = smoother(values, frame * 33.0)
        np.testing.assert_array_equal(out, values)
    assert out.dtype == np.float32 and out.shape == values.shape


def test_first_call_passes_through_then_smooths() -> None:
    smoother = OneEuroFilter()
    first = smoother(_points(100.0), 0.0)
    second = smoother(_points(110.0), 33.0)
    np.testing.assert_array_equal(first, 100.0)
    assert 100.0 < second[0, 0, 0] < 110.0


def test_noise_is_damped() -> None:
    rng = np.random.default_rng(1)
    smoother = OneEuroFilter()
    noisy = 200.0 + rng.normal(0.0, 1.0, (90, 1, 478, 3)).astype(np.float32)
    out = np.stack(
        [smoother(frame, index * 33.0, scale=np.array([200.0])) for index, frame in enumerate(noisy)]
    )
    assert out[30:].std() < 0.5 * noisy[30:].std()


def test_follows_a_step_and_converges() -> None:
    smoother = OneEuroFilter()
    smoother(_points(0.0), 0.0)
    outputs = [smoother(_points(50.0), 33.0 * step)[0, 0, 0] for step in range(1, 40)]
    assert all(np.diff(outputs) >= 0)  # moves towards the new position without overshoot
    assert outputs[-1] == pytest.approx(50.0, abs=0.5)


def test_longer_gaps_move_further() -> None:
    """Time stamps drive the filter: after a dropped frame it catches up more than after a short interval."""
    short, long = OneEuroFilter(), OneEuroFilter()
    short(_points(0.0), 0.0)
    long(_points(0.0), 0.0)
    assert long(_points(10.0), 100.0)[0, 0, 0] > short(_points(10.0), 33.0)[0, 0, 0]


def test_speed_in_face_widths_makes_it_scale_free() -> None:
    """A face twice as large moving twice as far is smoothed the same, relative to its size."""
    near, far = OneEuroFilter(), OneEuroFilter()
    path = [0.0, 3.0, 9.0, 20.0, 24.0, 25.0]
    for step, x in enumerate(path):
        out_far = far(_points(x), step * 33.0, scale=np.array([100.0]))
        out_near = near(_points(2 * x), step * 33.0, scale=np.array([200.0]))
        np.testing.assert_allclose(out_near, 2 * out_far, rtol=1e-5, atol=1e-4)


def test_rows_name_the_history_each_face_continues() -> None:
    smoother = OneEuroFilter()
    smoother(np.concatenate([_points(0.0), _points(300.0)]), 0.0)
    swapped = smoother(np.concatenate([_points(310.0), _points(10.0)]), 33.0, rows=np.array([1, 0]))
    assert 300.0 < swapped[0, 0, 0] < 310.0 and 0.0 < swapped[1, 0, 0] < 10.0
    restarted = smoother(np.concatenate([_points(320.0), _points(80.0)]), 66.0, rows=np.array([0, -1]))
    assert swapped[0, 0, 0] < restarted[0, 0, 0] < 320.0, "row 0 of the last call was the face near 300"
    np.testing.assert_array_equal(restarted[1], 80.0)  # a new face passes through
    with pytest.raises(ValueError, match="rows"):
        smoother(_points(0.0), 99.0, rows=np.array([2]))


def test_a_change_in_face_count_restarts() -> None:
    smoother = OneEuroFilter()
    smoother(_points(0.0, faces=1), 0.0)
    np.testing.assert_array_equal(smoother(_points(80.0, faces=2), 33.0), 80.0)


def test_output_is_a_copy() -> None:
    smoother = OneEuroFilter()
    smoother(_points(0.0), 0.0)
    out = smoother(_points(10.0), 33.0)
    out[:] = 1e6
    assert smoother(_points(10.0), 66.0)[0, 0, 0] < 10.0


def test_rejects_bad_shapes_and_settings() -> None:
    with pytest.raises(ValueError, match=r"\(F, N, D\)"):
        OneEuroFilter()(np.zeros((478, 3)), 0.0)
    with pytest.raises(ValueError, match="scale"):
        OneEuroFilter()(_points(0.0, faces=2), 0.0, scale=np.ones(3))
    with pytest.raises(ValueError, match="cut-offs"):
        OneEuroConfig(min_cutoff=0.0)


@pytest.fixture(scope="module")
def two_meshes(zone_sample_faces) -> np.ndarray:
    """``(2, 478, 3)``: two real meshes (the astronaut's, Grace Hopper's moved 600 px right) in one frame."""
    first = zone_sample_faces["astronaut"][1].landmarks[0]
    second = zone_sample_faces["grace_hopper"][1].landmarks[0] + np.array([600.0, 0.0, 0.0], np.float32)
    return np.stack([first, second]).astype(np.float32)


def _noisy(meshes: np.ndarray, frames: int, seed: int = 0) -> list[np.ndarray]:
    """``frames`` copies of ``meshes`` with 1 px of landmark noise: a still face as a landmarker sees it."""
    rng = np.random.default_rng(seed)
    return [(meshes + rng.normal(0.0, 1.0, meshes.shape)).astype(np.float32) for _ in range(frames)]


def test_each_face_keeps_its_own_history_whatever_the_order(two_meshes) -> None:
    in_order, swapping = FaceSmoother(), FaceSmoother()
    frames, outputs = _noisy(two_meshes, 16), []
    for number, meshes in enumerate(frames):
        stamp = number * 33.0
        outputs.append(in_order(meshes, boxes_of(meshes), stamp))
        order = [1, 0] if number % 2 else [0, 1]
        got = swapping(meshes[order], boxes_of(meshes[order]), stamp)
        np.testing.assert_array_equal(got, outputs[-1][order])
    raw_steps = np.abs(np.diff(np.stack(frames[4:]), axis=0)).mean(axis=(0, 2, 3))
    smoothed_steps = np.abs(np.diff(np.stack(outputs[4:]), axis=0)).mean(axis=(0, 2, 3))
    assert (smoothed_steps < 0.5 * raw_steps).all(), "and each face is smoothed"


def test_a_face_lost_or_seeded_elsewhere_starts_afresh(two_meshes) -> None:
    smoother = FaceSmoother()
    face = two_meshes[:1]
    width = float(np.ptp(face[0, :, 0]))
    for number, meshes in enumerate(_noisy(face, 5)):
        smoother(meshes, boxes_of(meshes), number * 33.0)
    near = face + np.array([0.05 * width, 0.0, 0.0], np.float32)
    assert not np.array_equal(smoother(near, boxes_of(near), 165.0), near), "a small move is smoothed"
    far = face + np.array([2.0 * width, 0.0, 0.0], np.float32)
    np.testing.assert_array_equal(smoother(far, boxes_of(far), 198.0), far)  # seeded elsewhere: afresh
    smoother(far, boxes_of(far), 231.0)
    smoother(face[:0], boxes_of(face[:0]), 264.0)  # lost
    np.testing.assert_array_equal(smoother(far + 3.0, boxes_of(far + 3.0), 297.0), far + 3.0)
