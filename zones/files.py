"""Reading the small text files a user hands in (catalogues, plans): one set of limits and messages."""

from __future__ import annotations

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
