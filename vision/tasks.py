"""Native MediaPipe task lifetimes, shared by the face and hand landmarkers: quiet start, ownership, closing.

A MediaPipe task owns a native graph and a one-thread executor; ``OwnedTask`` closes it exactly once (on
``close()``, on leaving a ``with`` block, when garbage collected, or at exit), ``start_quietly`` creates and
warms one up with its native log lines silenced, and ``StrictClock`` gives VIDEO-mode tasks (and the streams
feeding them) the strictly increasing time stamps they require.
"""

from __future__ import annotations

import concurrent.futures.thread  # noqa: F401 - registers its exit hook before ours (see below)
import contextlib
import os
import tempfile
import threading
import weakref
from collections.abc import Callable, Iterator
from typing import Any, Generic, Protocol, Self, TypeVar

import mediapipe as mp
import numpy as np
from mediapipe.tasks.python import vision as mp_vision

WARM_UP_TIMESTAMP_MS = 0  # the VIDEO-mode warm-up frame's time stamp; callers' frames come after it
_STDERR_LOCK = threading.Lock()


class StrictClock:
    """Strictly increasing time stamps in ms: one that does not increase becomes 1 ms after the last one.

    ``last`` is the stamp already used (a VIDEO-mode task's warm-up frame: ``WARM_UP_TIMESTAMP_MS``).
    """

    def __init__(self, last: int = -1) -> None:
        self.last = last

    def stamp(self, timestamp_ms: float) -> int:
        """The stamp to use for a frame taken at ``timestamp_ms``."""
        self.last = max(int(timestamp_ms), self.last + 1)
        return self.last


@contextlib.contextmanager
def quiet_native_stderr() -> Iterator[None]:
    """Silence what MediaPipe's C++ side writes to file descriptor 2 while a graph starts and first runs.

    Its glog and TFLite lines ignore Python logging and environment switches; they are kept and re-raised
    with the error if creation fails, so nothing useful is lost. File descriptor 2 belongs to the whole
    process, so landmarkers created on several threads at once (one per browser session) take turns.
    """
    with _STDERR_LOCK, tempfile.TemporaryFile() as sink:
        saved = os.dup(2)
        os.dup2(sink.fileno(), 2)
        try:
            yield
        except Exception as err:
            sink.seek(0)
            err.add_note(sink.read().decode(errors="replace")[-2000:])
            raise
        finally:
            os.dup2(saved, 2)
            os.close(saved)


def start_quietly(create: Callable[[], Any], mode: mp_vision.RunningMode) -> Any:
    """Create a native task (face or hand landmarker) and run it once on a blank frame, with the log lines
    both steps print silenced; a failed warm-up closes the task before the error goes on."""
    blank = mp.Image(image_format=mp.ImageFormat.SRGB, data=np.zeros((64, 64, 3), np.uint8))
    with quiet_native_stderr():
        task = create()
        try:
            if mode == mp_vision.RunningMode.VIDEO:
                task.detect_for_video(blank, WARM_UP_TIMESTAMP_MS)
            else:
                task.detect(blank)
        except Exception:
            task.close()
            raise
    return task


class NativeTask(Protocol):
    """A MediaPipe task (face or hand landmarker): anything with ``close()`` that owns a native graph."""

    def close(self) -> None: ...


T = TypeVar("T", bound=NativeTask)


# Every open native task, held strongly until it is closed. MediaPipe runs each native call on the task's
# own one-thread executor, and the executor's worker quits as soon as the garbage collector finds the
# executor unreachable. Were a task collected together with its executor (a tracker dropped inside a
# reference cycle), its ``__del__`` would queue ``close`` for a worker that has already quit and wait forever.
# Held here, a native task is never garbage while open; its owner's finalizer closes it instead.
_OPEN_NATIVE: set[NativeTask] = set()
_OPEN_NATIVE_LOCK = threading.Lock()


def hold_open(owner: object, native: NativeTask) -> weakref.finalize:
    """Keep ``native`` alive until it is closed, and close it when ``owner`` is collected.

    Returns the finalizer: calling it closes ``native`` now (once; later calls do nothing).
    """
    with _OPEN_NATIVE_LOCK:
        _OPEN_NATIVE.add(native)
    finalizer = weakref.finalize(owner, _close_native, native)
    finalizer.atexit = False  # the threading exit hook below closes it in time instead
    return finalizer


def _close_native(native: NativeTask) -> None:
    with _OPEN_NATIVE_LOCK:
        if native not in _OPEN_NATIVE:
            return
        _OPEN_NATIVE.discard(native)
    native.close()


def _close_all_native() -> None:
    with _OPEN_NATIVE_LOCK:
        still_open = list(_OPEN_NATIVE)
    for native in still_open:
        _close_native(native)


# The executors' workers also stop at interpreter exit before ``atexit`` handlers run, and a landmarker still
# open then prints a traceback from its ``__del__``. Threading exit hooks run in reverse order of
# registration, so this one (registered after concurrent.futures' own) closes the open landmarkers while the
# workers still run, and the user's terminal stays clean.
threading._register_atexit(_close_all_native)  # type: ignore[attr-defined]


class OwnedTask(Generic[T]):
    """Owns one native MediaPipe task; closes it on ``close()``, on leaving a ``with`` block, when it is
    garbage collected, or at exit (``hold_open``: a graph collected in a reference cycle with its own worker
    thread would otherwise wait forever while closing)."""

    def __init__(self, native: T) -> None:
        self._task: T | None = native
        self._finalizer = hold_open(self, native)

    def close(self) -> None:
        self._task = None
        self._finalizer()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _native(self) -> T:
        if self._task is None:
            raise RuntimeError(f"this {type(self).__name__} is closed")
        return self._task
