"""Time zones as a sources file names them: an IANA zone, UTC, or a fixed offset."""

from __future__ import annotations

import re
from datetime import UTC, timedelta, timezone, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

_OFFSET = re.compile(r"^(?:UTC|GMT)?\s*(?P<sign>[+-])(?P<h>\d{1,2})(?::?(?P<m>\d{2}))?$")


def parse_timezone(name: str) -> tzinfo:
    """An IANA zone ('Europe/Berlin'), 'UTC', or a fixed offset ('+03:00', 'UTC+3')."""
    if name.upper() in {"UTC", "Z", "GMT"}:
        return UTC
    match = _OFFSET.match(name.strip())
    if match:
        minutes = int(match["h"]) * 60 + int(match["m"] or 0)
        if minutes > 18 * 60:
            raise ValueError(f"offset {name!r} is beyond ±18:00")
        return timezone(timedelta(minutes=minutes if match["sign"] == "+" else -minutes))
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(
            f"unknown timezone {name!r}; use an IANA name such as 'Europe/Berlin' or a fixed offset such as '+03:00'"
        ) from exc
