"""A throwaway PostgreSQL server for the store tests: Debian's binaries, a temporary folder, a free port.

PostgreSQL refuses to run as root, and CI runs as root: then the server runs as the ``postgres`` system user
(which Debian's package creates) through ``runuser``, in a folder that user owns. Nothing is left behind.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import re
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

START_TIMEOUT_S = 60
USER = "facezones"


class PostgresUnavailable(RuntimeError):
    """The server binaries are missing or the server would not start; the message says what to do."""


def server_binaries() -> Path:
    """The newest ``/usr/lib/postgresql/<version>/bin`` holding ``initdb`` and ``pg_ctl``."""
    found = [path.parent for path in Path("/usr/lib/postgresql").glob("*/bin/initdb") if path.is_file()]
    if not found:
        raise PostgresUnavailable(
            "PostgreSQL server binaries not found under /usr/lib/postgresql: run `make postgres` "
            "(apt-get install postgresql) first"
        )
    return max(found, key=lambda path: [int(n) for n in re.findall(r"\d+", path.parent.name)] or [0])


def _free_port() -> int:
    with contextlib.closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class PostgresServer:
    """A running server on 127.0.0.1:``port``; ``url(name)`` is a SQLAlchemy URL of one of its databases."""

    port: int
    root: Path
    binaries: Path
    prefix: list[str] = field(default_factory=list)
    _count: int = 0

    def url(self, database: str) -> str:
        return f"postgresql+psycopg://{USER}@127.0.0.1:{self.port}/{database}"

    def _admin(self, statement: str) -> None:
        import psycopg

        with psycopg.connect(
            host="127.0.0.1", port=self.port, user=USER, dbname="postgres", autocommit=True
        ) as c:
            c.execute(statement)  # type: ignore[call-overload]  # names made here, never user input

    def create_database(self) -> str:
        """A new empty database; returns its name."""
        self._count += 1
        name = f"facezones_test_{os.getpid()}_{self._count}"
        self._admin(f'CREATE DATABASE "{name}"')
        return name

    def drop_database(self, name: str) -> None:
        self._admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def log_tail(self, lines: int = 20) -> str:
        log = self.root / "server.log"
        return "\n".join(log.read_text(errors="replace").splitlines()[-lines:]) if log.exists() else ""


def _run(command: list[str], cwd: Path) -> None:
    result = subprocess.run(
        command, cwd=cwd, capture_output=True, text=True, timeout=START_TIMEOUT_S, check=False
    )
    if result.returncode != 0:
        said = (result.stderr or result.stdout).strip()[-800:]
        raise PostgresUnavailable(f"{' '.join(command)} failed ({result.returncode}): {said}")


@contextlib.contextmanager
def running_postgres() -> Iterator[PostgresServer]:
    """Start a fresh cluster (trust auth, no fsync: it is thrown away), yield it, stop it, delete it."""
    binaries = server_binaries()
    root = Path(tempfile.mkdtemp(prefix="facezones-pg-"))
    prefix: list[str] = []
    if os.geteuid() == 0:
        try:
            owner = pwd.getpwnam("postgres")
        except KeyError:
            shutil.rmtree(root, ignore_errors=True)
            raise PostgresUnavailable(
                "no `postgres` system user: install Debian's postgresql package"
            ) from None
        os.chown(root, owner.pw_uid, owner.pw_gid)
        prefix = ["runuser", "-u", "postgres", "--"]
    data = root / "data"
    server = PostgresServer(_free_port(), root, binaries, prefix)
    try:
        _run([*prefix, str(binaries / "initdb"), "-D", str(data), "-A", "trust", "-U", USER, "-E", "UTF8",
              "--locale=C", "--no-sync"], root)  # fmt: skip
        options = (
            f"-p {server.port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=off "
            "-c synchronous_commit=off -c full_page_writes=off"
        )
        _run([*prefix, str(binaries / "pg_ctl"), "-D", str(data), "-l", str(root / "server.log"), "-w",
              "-t", str(START_TIMEOUT_S), "-o", options, "start"], root)  # fmt: skip
    except (PostgresUnavailable, subprocess.TimeoutExpired) as err:
        tail = server.log_tail()
        shutil.rmtree(root, ignore_errors=True)
        raise PostgresUnavailable(f"{err}\n{tail}") from None
    try:
        yield server
    finally:
        with contextlib.suppress(PostgresUnavailable, subprocess.TimeoutExpired):
            _run([*prefix, str(binaries / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop"], root)
        shutil.rmtree(root, ignore_errors=True)
