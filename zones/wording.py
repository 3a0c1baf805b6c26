"""The words people read wherever FaceZones shows a plan: one spelling of a moment, one disclaimer.

The app, the live status, the legend, the labels and the printed chart all format through ``format_day``, so
a day reads the same everywhere (``Sun 5 Mar``, with ``15:30`` when the time of day is known). Machine-read
fields (JSON, plan files) stay ISO 8601 through ``format_moment``.
"""

from __future__ import annotations

from datetime import date, datetime, time

DISCLAIMER = (
    "FaceZones is a visual aid, not medical advice. Waiting times differ between sources and products: "
    "follow the practitioner who treated you, and stop at any sign of redness, swelling, burning, itching "
    "or rash."
)
TAGLINE = "Where massage is safe today, and where it must not go, after filler or Botox."


def format_day(moment: date | datetime | None) -> str:
    """``"Sun 5 Mar"`` for a day (a date, or a midnight: day-counted waits), ``"Sun 5 Mar 15:30"`` otherwise.

    None gives ``""``.
    """
    if moment is None:
        return ""
    day = f"{moment:%a} {moment.day} {moment:%b}"
    if isinstance(moment, datetime) and moment.time() != time():
        return f"{day} {moment:%H:%M}"
    return day


def format_moment(moment: datetime | None) -> str | None:
    """ISO 8601 for machine-read fields: the date for a midnight (day-counted waits), else with minutes."""
    if moment is None:
        return None
    if moment.hour == 0 and moment.minute == 0:
        return moment.date().isoformat()
    return moment.strftime("%Y-%m-%dT%H:%M")
