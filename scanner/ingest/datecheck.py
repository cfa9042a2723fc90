"""Dates: read from the layouts feeds and dumps use, and those that cannot exist caught
on the raw text, before any parser normalizes them (`parse_date_text`, `date_problem`).

Parsers are forgiving in the wrong way: feedparser turns month 13 of 2003 into
January 2004, a negative year into 2000 and the truncated `--01-01` into this year,
and applies a `+9999` offset as days. `date_problem` reads the raw text of the two
formats feeds use (ISO 8601 / W3C-DTF and RFC 822) and names what is impossible: a
month outside 1-12, a day past the end of its month, a year of 0 or below, an hour,
minute or second out of range, an offset beyond ±14 h. Text it does not recognize
gets no verdict (None): the parsers decide, as before.
"""

from __future__ import annotations

import calendar
import contextlib
import re
from datetime import UTC, date, datetime
from email.utils import parsedate_to_datetime
from typing import Any

#: Real UTC offsets run from -12:00 to +14:00; ±14 h is the widest accepted.
MAX_OFFSET_MINUTES = 14 * 60

_ISO = re.compile(
    r"^(?P<year>[+-]?\d{4,6})-(?P<month>\d{1,2})(?:-(?P<day>\d{1,2}))?"
    r"(?:[Tt ](?P<hour>\d{1,2}):(?P<minute>\d{1,2})(?::(?P<second>\d{1,2})(?:[.,]\d+)?)?)?"
    r"\s*(?P<zone>[Zz]|[+-]\d{1,2}(?::?\d{2})?)?$"
)
_RFC822 = re.compile(
    r"^(?:[A-Za-z]{2,9}\.?,?\s*)?(?P<day>-?\d{1,2})\s+(?P<month>[A-Za-z]{3,9})\.?\s+"
    r"(?P<year>-?\d{1,4})(?:\s+(?P<hour>\d{1,2}):(?P<minute>\d{1,2})(?::(?P<second>\d{1,2}))?)?"
    r"\s*(?P<zone>[+-]\d{1,4}|[A-Za-z]{1,5})?$"
)
_MONTHS = {name: n for n, name in enumerate(
    ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), 1)}


def _offset_problem(zone: str | None) -> str | None:
    if not zone or zone[0] not in "+-":
        return None
    digits = zone[1:].replace(":", "")
    if len(digits) <= 2:
        hours, minutes = int(digits), 0
    else:
        hours, minutes = int(digits[:-2]), int(digits[-2:])
    if minutes > 59 or hours * 60 + minutes > MAX_OFFSET_MINUTES:
        return f"offset {zone} is beyond ±14 h"
    return None


def _fields_problem(year: int, month: int, day: int | None, hour: str | None,
                    minute: str | None, second: str | None) -> str | None:
    if year <= 0:
        return f"year {year} does not exist"
    if not 1 <= month <= 12:
        return f"month {month} does not exist"
    if day is not None and not 1 <= day <= calendar.monthrange(min(year, 9999), month)[1]:
        return f"day {day} does not exist in month {month} of {year}"
    if hour is not None and int(hour) > 24:
        return f"hour {hour} does not exist"
    if minute is not None and int(minute) > 59:
        return f"minute {minute} does not exist"
    if second is not None and int(second) > 60:  # 60: a leap second
        return f"second {second} does not exist"
    return None


def date_problem(raw: object) -> str | None:
    """Why the raw date text names a date that cannot exist, or None (fine or unknown)."""
    if not isinstance(raw, str):
        return None
    text = raw.strip()
    if not text:
        return None
    if text.startswith("-"):
        return f"{text[:20]!r} is a truncated or negative-year date"
    iso = _ISO.match(text)
    if iso:
        day = iso.group("day")
        return _fields_problem(int(iso.group("year")), int(iso.group("month")),
                               int(day) if day else None, iso.group("hour"),
                               iso.group("minute"), iso.group("second")) or \
            _offset_problem(iso.group("zone"))
    rfc = _RFC822.match(text)
    if rfc:
        month = _MONTHS.get(rfc.group("month")[:3].lower())
        if month is None:
            return None  # a month name we do not know: no verdict
        year = int(rfc.group("year"))
        if 0 <= year < 100 and len(rfc.group("year")) <= 2:
            year += 2000 if year < 50 else 1900  # RFC 2822 section 4.3
        return _fields_problem(year, month, int(rfc.group("day")), rfc.group("hour"),
                               rfc.group("minute"), rfc.group("second")) or \
            _offset_problem(rfc.group("zone"))
    return None


#: Dates as dumps write them besides ISO 8601 and RFC 822: 2025/06/10, 2025.06.10,
#: 2025年6月10日, 20250610.
_NUMERIC_DATE = re.compile(r"^(\d{4})(?:[/.](\d{1,2})[/.](\d{1,2})|年(\d{1,2})月(\d{1,2})日"
                           r"|(\d{2})(\d{2}))$")
_WORDED_DATES = ("%B %d, %Y", "%b %d, %Y", "%d %B %Y", "%d %b %Y", "%b. %d, %Y")


def parse_date_text(value: Any) -> datetime | None:
    """A UTC datetime from ISO 8601, RFC 822 or date-only text ("2025/06/10",
    "2025年6月10日", "June 10, 2025" too), a number (20150101 as a date, else a Unix time
    in seconds, milliseconds above 10^11), a date or a datetime."""
    if value is None or value == "" or isinstance(value, bool):
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=UTC)
    if isinstance(value, int) and 10_000_101 <= value <= 99_991_231:
        return _loose_date(str(value))  # 20150101: a date written as a number
    if isinstance(value, int | float):
        return unix_time(value)
    text = str(value).strip()
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        try:
            parsed = parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            return _loose_date(text)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def unix_time(value: float) -> datetime | None:
    """A Unix time in seconds, or in milliseconds when above 10^11 (past the year 5138 in
    seconds); None beyond the calendar (1e20)."""
    try:
        return datetime.fromtimestamp(value / 1000 if abs(value) > 1e11 else value, tz=UTC)
    except (OverflowError, OSError, ValueError):
        return None


def _loose_date(text: str) -> datetime | None:
    """A date-only text in one of the dump formats above (None when none fits or the date
    cannot exist: month 13 is no date, the raw text is kept by the caller)."""
    match = _NUMERIC_DATE.match(text)
    try:
        if match:
            year = int(match.group(1))
            month, day = next((int(a), int(b)) for a, b in
                              ((match.group(2), match.group(3)), (match.group(4), match.group(5)),
                               (match.group(6), match.group(7))) if a)
            return datetime(year, month, day, tzinfo=UTC)
        for layout in _WORDED_DATES:
            with contextlib.suppress(ValueError):
                return datetime.strptime(text, layout).replace(tzinfo=UTC)
    except ValueError:
        return None
    return None
