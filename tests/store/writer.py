"""A writer process for the store's crash and concurrency tests: ``python writer.py URL MODE [ARGS]``.

``sessions NAME COUNT TAG [GO_FILE]``: wait for GO_FILE to exist (a start line for two writers), then add
COUNT massage sessions one transaction each (note ``TAG-i``), printing ``committed TAG-i`` after each commit.
``stall``: commit one session for "me", then import a person with many sessions and freeze half way through
that transaction (printing ``midway``), to be killed there.
"""

from __future__ import annotations

import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import event
from sqlalchemy.engine import Engine

from store import MassageSession, Store

START = datetime(2026, 12, 1, 9, 0)


def session(note: str, minute: int = 0) -> MassageSession:
    started = START + timedelta(minutes=minute)
    return MassageSession(
        started, "hands", started + timedelta(minutes=10), "by hand", {"neck_left": 3}, {}, (), note
    )


def sessions(store: Store, name: str, count: int, tag: str, go: str | None) -> None:
    store.ensure_person(name)
    if go:
        while not Path(go).exists():
            time.sleep(0.01)
    for i in range(count):
        store.add_session(name, session(f"{tag}-{i}", i), tick_course=False)
        print(f"committed {tag}-{i}", flush=True)


def stall(store: Store) -> None:
    store.ensure_person("me")
    store.add_session("me", session("before"), tick_course=False)
    print("committed before", flush=True)
    document = store.export_person("me")
    document["person"]["name"] = "victim"
    document["massage_sessions"] = [
        {**document["massage_sessions"][0], "ref": i, "note": f"victim-{i}"} for i in range(1, 201)
    ]
    inserted = 0

    @event.listens_for(Engine, "after_cursor_execute")
    def freeze(conn, cursor, statement, parameters, context, executemany) -> None:
        nonlocal inserted
        if statement.lstrip().upper().startswith("INSERT INTO MASSAGE_SESSIONS"):
            inserted += 1
            if inserted == 100:
                print("midway", flush=True)
                time.sleep(600)

    store.import_person(document)
    print("import finished (should have been killed)", flush=True)


def main(argv: list[str]) -> None:
    url, mode, *rest = argv
    with Store(url) as store:
        if mode == "sessions":
            sessions(store, rest[0], int(rest[1]), rest[2], rest[3] if len(rest) > 3 else None)
        elif mode == "stall":
            stall(store)
        else:
            raise SystemExit(f"unknown mode {mode!r}")


if __name__ == "__main__":
    main(sys.argv[1:])
