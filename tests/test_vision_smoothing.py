"""One Euro filter: a unit's worth of behaviour on synthetic tracks."""

from __future__ import annotations

import numpy as np
import pytest

from vision.smoothing import OneEuroConfig, OneEuroFilter


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


def test_reset_forgets_the_history() -> None:
    smoother = OneEuroFilter()
    smoother(_points(0.0), 0.0)
    smoother(_points(0.0), 33.0)
    smoother.reset()
    np.testing.assert_array_equal(smoother(_points(300.0), 66.0), 300.0)


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
