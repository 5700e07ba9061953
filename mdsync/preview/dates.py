"""Dates as Confluence shows them to people: "Dec 1, 2026", or "2 hours ago" for a recent edit.

The preview keeps the ISO text in the ``<time>`` element's ``datetime`` and ``title``
attributes, so a reader (or a test) still has the exact moment.
"""

from __future__ import annotations

from datetime import date, datetime, timezone

__all__ = ["calendar_date", "parse_iso", "relative_time"]

_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def parse_iso(value: str) -> date | datetime | None:
    """A date ("2026-12-01") or an aware moment ("2026-12-01T10:00:00.000Z"); None if neither."""
    text = value.strip()
    try:
        if len(text) == 10:
            return date.fromisoformat(text)
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def calendar_date(value: str) -> str | None:
    """ "Dec 1, 2026" for an ISO date or moment; None if ``value`` is not one."""
    parsed = parse_iso(value)
    if parsed is None:
        return None
    return f"{_MONTHS[parsed.month - 1]} {parsed.day}, {parsed.year}"


def _ago(count: int, unit: str) -> str:
    return f"{count} {unit}{'' if count == 1 else 's'} ago"


def relative_time(value: str, now: datetime) -> str | None:
    """When a moment was, as Confluence says it: "just now", "5 minutes ago", "3 hours ago";
    a day or more ago (or ahead), its calendar date. None if ``value`` is no date."""
    parsed = parse_iso(value)
    if not isinstance(parsed, datetime):
        return calendar_date(value)
    seconds = (now - parsed).total_seconds()
    if not -60 < seconds < 86_400:
        return calendar_date(value)
    if seconds < 60:
        return "just now"
    if seconds < 3_600:
        return _ago(int(seconds // 60), "minute")
    return _ago(int(seconds // 3_600), "hour")
