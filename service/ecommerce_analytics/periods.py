"""Store-local days and calendar periods (weeks start on Monday, ISO 8601)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo


def local_day(moment: datetime, tz: ZoneInfo) -> date:
    """The store-local calendar day of an aware ``moment``."""
    return moment.astimezone(tz).date()


def week_start(day: date) -> date:
    return day - timedelta(days=day.weekday())


def month_start(day: date) -> date:
    return day.replace(day=1)


def period_start(day: date, granularity: str) -> date:
    if granularity == "week":
        return week_start(day)
    if granularity == "month":
        return month_start(day)
    return day


def add_months(day: date, months: int) -> date:
    """The first day of the month ``months`` after ``day``'s; ``date.max`` (9999-12-31) past
    the end of the calendar, so it still works as an exclusive upper bound."""
    index = day.year * 12 + day.month - 1 + months
    if index // 12 > date.max.year:
        return date.max
    return date(index // 12, index % 12 + 1, 1)


def next_day(day: date) -> date:
    """The day after ``day``; ``date.max`` itself at the end of the calendar (an upper
    bound there needs no later day)."""
    return day if day == date.max else day + timedelta(days=1)


def months_between(first: date, later: date) -> int:
    return (later.year - first.year) * 12 + later.month - first.month


def periods(start: date, end: date, granularity: str) -> list[date]:
    """Start days of every period overlapping ``[start, end]``. Counted first, so no period
    start after the last is computed (past 9999-12-31 it would not exist)."""
    first = period_start(start, granularity)
    n = count_periods(start, end, granularity)
    if granularity == "month":
        return [add_months(first, i) for i in range(n)]
    step = timedelta(days=7 if granularity == "week" else 1)
    return [first + i * step for i in range(n)]


def count_periods(start: date, end: date, granularity: str) -> int:
    if granularity == "day":
        return (end - start).days + 1
    if granularity == "week":
        return (week_start(end) - week_start(start)).days // 7 + 1
    return months_between(start, end) + 1
