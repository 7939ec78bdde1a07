"""Dates as formats state them (RFC 822 in feeds, ISO 8601 in exports, PDF's D:YYYYMMDD...) to ISO 8601."""

from __future__ import annotations

import re
import time
from datetime import date, datetime, timedelta, timezone
from email.utils import parsedate_to_datetime

# PDF dates: D:YYYYMMDDHHmmSS followed by Z, or +HH'mm' / -HH'mm' (every part after the year optional)
_PDF_DATE = re.compile(r"D:(\d{4})(\d{2})?(\d{2})?(\d{2})?(\d{2})?(\d{2})?(Z|[+-]\d{2}'?\d{2}'?)?")
_EPOCH_MS = 10**11  # epoch values above this are milliseconds (seconds reach it only in the year 5138)


def iso_date(value: object) -> str | None:
    """`value` as 'YYYY-MM-DD' (a date) or 'YYYY-MM-DDTHH:MM:SS[+HH:MM]' (a moment); None when it is no date."""
    if isinstance(value, datetime):
        return value.isoformat(timespec="seconds")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, time.struct_time):
        return datetime(*value[:6], tzinfo=timezone.utc).isoformat(timespec="seconds")
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        seconds = value / 1000 if value > _EPOCH_MS else value
        try:
            return datetime.fromtimestamp(seconds, tz=timezone.utc).isoformat(timespec="seconds")
        except (OverflowError, OSError, ValueError):
            return None
    if isinstance(value, str):
        return _from_string(value.strip())
    return None


def _from_string(text: str) -> str | None:
    if not text:
        return None
    if pdf := _PDF_DATE.fullmatch(text):
        return _from_pdf(pdf)
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        return text if _valid(text) else None
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).isoformat(timespec="seconds")
    except ValueError:
        pass
    try:
        return parsedate_to_datetime(text).isoformat(timespec="seconds")  # RFC 822: 'Wed, 19 Mar 2025 14:05:00 GMT'
    except (TypeError, ValueError, IndexError):
        return None


def _valid(day: str) -> bool:
    try:
        date.fromisoformat(day)
    except ValueError:
        return False
    return True


def _from_pdf(match: re.Match) -> str | None:
    year, month, day, hour, minute, second, zone = match.groups()
    try:
        moment = datetime(int(year), int(month or 1), int(day or 1), int(hour or 0), int(minute or 0),
                          int(second or 0))
    except ValueError:
        return None
    if hour is None:
        return moment.date().isoformat()
    if zone == "Z":
        moment = moment.replace(tzinfo=timezone.utc)
    elif zone:
        digits = zone.replace("'", "")
        offset = timedelta(hours=int(digits[1:3]), minutes=int(digits[3:5]))
        moment = moment.replace(tzinfo=timezone(offset if digits[0] == "+" else -offset))
    return moment.isoformat(timespec="seconds")
