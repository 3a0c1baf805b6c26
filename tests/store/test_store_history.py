"""A person's history read on a day: where the course stands, what is still no-touch, when areas are safe."""

from __future__ import annotations

import dataclasses
import json
from datetime import date, datetime, timedelta

from store import MassageSession, Store
from store.history import person_history
from zones.plan import parse_treatment

TODAY = date(2026, 12, 2)


def test_history_before_and_after_the_treatment(db_url: str, catalogue) -> None:
    day = TODAY + timedelta(days=10)
    with Store(db_url) as store:
        store.ensure_person()
        store.add_treatment("me", parse_treatment("forehead=botox@2026-12-01T10:00"), today=TODAY)
        planned = dataclasses.replace(parse_treatment(f"lips=ha_filler@{day}"), planned=True)
        record = store.add_treatment("me", planned, catalogue=catalogue, today=TODAY)
        first = store.courses("me")[0].course.sessions[0]
        start = datetime.combine(first.due, datetime.min.time()).replace(hour=9)
        store.add_session("me", MassageSession(start, "hands", start + timedelta(minutes=20), "guided"))

        before = person_history(store, "me", catalogue, first.due)
        document = json.loads(json.dumps(before.to_json()))  # JSON all the way down
        assert document["today_summary"]["no_touch"] == []  # Botox's 24 h are over, lips are planned only
        assert "next course session 2" in document["today_summary"]["course"]
        (course,) = document["courses"]
        assert course["open"] and course["done"] == 1 and 5 <= course["total"] <= 7
        lips = [e for e in document["safe_again"] if e["area"] == "lips"]
        assert {e["method"] for e in lips} == {"hands", "tools", "microcurrent"} and all(
            e["planned"] for e in lips
        )
        kinds = [(row["kind"], row["state"]) for row in before.chart_rows()]
        assert ("course", "done") in kinds and ("course", "to come") in kinds and ("session", "done") in kinds
        assert ("treatment", "planned") in kinds

        store.mark_done("me", record.key, now=datetime.combine(day, datetime.min.time()).replace(hour=17))
        after = person_history(store, "me", catalogue, day + timedelta(days=1))
    summary = after.to_json()["today_summary"]
    assert summary["course"] is None and [a["area"] for a in summary["no_touch"]] == ["lips"]
    assert summary["no_touch"][0]["until"] == (day + timedelta(days=14)).isoformat()
    assert "Lips (until" in after.today_text()
    hands = next(e for e in after.to_json()["safe_again"] if e["area"] == "lips" and e["method"] == "hands")
    assert (
        hands["safe_from"] == (day + timedelta(days=14)).isoformat() and hands["status_today"] == "no_touch"
    )
