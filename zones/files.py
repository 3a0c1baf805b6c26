"""The small text files a user hands in and takes away (catalogues, plans, exports): one set of limits and
messages for reading, one atomic write."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def read_small_text(path: Path, shown: str, *, limit: int, kind: str, error: type[Exception]) -> str:
    """The UTF-8 text of ``path``; a missing, larger than ``limit`` bytes or unreadable file raises ``error``
    with a one-line message that starts with ``shown`` and names the ``kind`` of file ("plan file")."""
    try:
        size = path.stat().st_size
        if size > limit:
            raise error(f"{shown}: {size} bytes is too large for a {kind}")
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise error(f"{shown}: no such {kind}") from None
    except (OSError, UnicodeDecodeError) as err:
        raise error(f"{shown}: cannot read the {kind} ({err})") from None


def write_text_atomically(path: str | os.PathLike[str], text: str) -> Path:
    """Write ``text`` (UTF-8, newlines as given) to ``path`` through a temporary file in the same folder and a
    rename, so a crash leaves the old file or the new one, never half of one; returns the path."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=target.name + ".", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return target
