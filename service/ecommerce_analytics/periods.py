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
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def months_between(first: date, later: date) -> int:
    return (later.year - first.year) * 12 + later.month - first.month


def periods(start: date, end: date, granularity: str) -> list[date]:
    """Start days of every period overlapping ``[start, end]``."""
    result: list[date] = []
    current = period_start(start, granularity)
    while current <= end:
        result.append(current)
        if granularity == "day":
            current += timedelta(days=1)
        elif granularity == "week":
            current += timedelta(days=7)
        else:
            current = add_months(current, 1)
    return result


def count_periods(start: date, end: date, granularity: str) -> int:
    if granularity == "day":
        return (end - start).days + 1
    if granularity == "week":
        return (week_start(end) - week_start(start)).days // 7 + 1
    return months_between(start, end) + 1
