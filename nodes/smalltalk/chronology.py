"""Calendar arithmetic and the printStrings of Date, Time, DateAndTime and Duration.

Days are Julian day numbers on the proleptic Gregorian calendar (as Pharo's
`julianDayNumber`), a day starts at midnight; times are integers of nanoseconds.
Printing follows Pharo 12's printOn: methods: Date `printOn:format: #(1 2 3 $  3 1)`
('1 March 2024'), Time `print24: false showSeconds: (seconds ~= 0)` ('2:05 pm'),
DateAndTime ISO 8601 ('2024-03-01T10:20:30+00:00'), Duration `[-]D:HH:MM:SS[.nanos]`.
"""

from __future__ import annotations

from .objects import Date, DateAndTime, Duration, Time

NANOS_PER_SECOND = 1_000_000_000
SECONDS_PER_DAY = 86_400
NANOS_PER_DAY = SECONDS_PER_DAY * NANOS_PER_SECOND
# Julian day numbers of Pharo's epoch (1 January 1901) and of the Unix epoch.
SQUEAK_EPOCH_JDN = 2_415_386
UNIX_EPOCH_JDN = 2_440_588

MONTH_NAMES = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
DAY_NAMES = ("Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday")


def jdn_from_ymd(year: int, month: int, day: int) -> int:
    """Fliegel and Van Flandern's formula; `day` may run past the month's end."""
    a = (14 - month) // 12
    y = year + 4800 - a
    m = month + 12 * a - 3
    return day + (153 * m + 2) // 5 + 365 * y + y // 4 - y // 100 + y // 400 - 32045


def ymd_from_jdn(jdn: int) -> tuple[int, int, int]:
    a = jdn + 32044
    b = (4 * a + 3) // 146097
    c = a - 146097 * b // 4
    d = (4 * c + 3) // 1461
    e = c - 1461 * d // 4
    m = (5 * e + 2) // 153
    day = e - (153 * m + 2) // 5 + 1
    month = m + 3 - 12 * (m // 10)
    year = 100 * b + d - 4800 + m // 10
    return year, month, day


def is_leap_year(year: int) -> bool:
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)


def days_in_month(year: int, month: int) -> int:
    if month == 2:
        return 29 if is_leap_year(year) else 28
    return 30 if month in (4, 6, 9, 11) else 31


def day_of_week(jdn: int) -> int:
    """1 = Sunday ... 7 = Saturday, as Pharo's `dayOfWeek`."""
    return (jdn + 1) % 7 + 1


def day_of_year(jdn: int) -> int:
    year, _month, _day = ymd_from_jdn(jdn)
    return jdn - jdn_from_ymd(year, 1, 1) + 1


def month_index(name: str) -> int | None:
    """1..12 for a month name or its first three letters (any case), else None."""
    lowered = name.lower()
    for index, month in enumerate(MONTH_NAMES, start=1):
        if lowered == month.lower() or (len(lowered) >= 3 and month.lower().startswith(lowered)):
            return index
    return None


# ---------------------------------------------------------------------- printing


def _nanos_suffix(nanos: int) -> str:
    """'.5' for 500000000 ns: nine digits with the trailing zeros dropped."""
    return "." + str(nanos).rjust(9, "0").rstrip("0") if nanos else ""


def date_print_string(date: Date) -> str:
    year, month, day = ymd_from_jdn(date.jdn)
    return f"{day} {MONTH_NAMES[month - 1]} {year}"


def date_format(
    jdn: int,
    order: tuple[int, int, int],
    separator: str,
    month_style: int,
    two_digit_year: bool,
    two_digits: bool,
) -> str:
    """Pharo's `Date>>printOn:format:`: items 1 = day, 2 = month, 3 = year; month
    style 1 = number, 2 = 'Mar', 3 = 'March'."""
    year, month, day = ymd_from_jdn(jdn)
    parts = []
    for item in order:
        if item == 1:
            parts.append(str(day).rjust(2, "0") if two_digits else str(day))
        elif item == 2:
            if month_style == 1:
                parts.append(str(month).rjust(2, "0") if two_digits else str(month))
            else:
                name = MONTH_NAMES[month - 1]
                parts.append(name[:3] if month_style == 2 else name)
        else:
            parts.append(str(year % 100).rjust(2, "0") if two_digit_year else str(year))
    return separator.join(parts)


def time_print_string(time: Time, hr24: bool = False, show_seconds: bool | None = None) -> str:
    """Pharo's `Time>>print24:showSeconds:on:`; by default (printOn:) 12-hour with
    seconds only when they are not zero."""
    seconds, nanos = divmod(time.nanos, NANOS_PER_SECOND)
    hour, rest = divmod(seconds, 3600)
    minute, second = divmod(rest, 60)
    if show_seconds is None:
        show_seconds = second != 0
    if hr24:
        text = str(hour).rjust(2, "0")
    else:
        text = str(hour - 12 if hour > 12 else (12 if hour < 1 else hour))
    text += ":" + str(minute).rjust(2, "0")
    if show_seconds:
        text += ":" + str(second).rjust(2, "0") + _nanos_suffix(nanos)
    if not hr24:
        text += " am" if hour < 12 else " pm"
    return text


def duration_print_string(duration: Duration) -> str:
    nanos = abs(duration.nanos)
    seconds, fraction = divmod(nanos, NANOS_PER_SECOND)
    days, rest = divmod(seconds, SECONDS_PER_DAY)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    sign = "-" if duration.nanos < 0 else ""
    return f"{sign}{days}:{hours:02d}:{minutes:02d}:{secs:02d}{_nanos_suffix(fraction)}"


def offset_print_string(offset_seconds: int) -> str:
    sign = "-" if offset_seconds < 0 else "+"
    hours, rest = divmod(abs(offset_seconds), 3600)
    minutes, seconds = divmod(rest, 60)
    text = f"{sign}{hours:02d}:{minutes:02d}"
    return text + (f":{seconds:02d}" if seconds else "")


def local_fields(value: DateAndTime) -> tuple[int, int, int]:
    """(julian day number, seconds of the day, nanoseconds) in the value's own offset."""
    days, nanos_of_day = divmod(value.local_nanos, NANOS_PER_DAY)
    seconds, nanos = divmod(nanos_of_day, NANOS_PER_SECOND)
    return days, seconds, nanos


def ymd_text(jdn: int) -> str:
    year, month, day = ymd_from_jdn(jdn)
    sign = "-" if year < 0 else ""
    return f"{sign}{abs(year):04d}-{month:02d}-{day:02d}"


def hms_text(seconds: int) -> str:
    hour, rest = divmod(seconds, 3600)
    minute, second = divmod(rest, 60)
    return f"{hour:02d}:{minute:02d}:{second:02d}"


def date_and_time_print_string(value: DateAndTime) -> str:
    jdn, seconds, nanos = local_fields(value)
    return (
        f"{ymd_text(jdn)}T{hms_text(seconds)}{_nanos_suffix(nanos)}"
        f"{offset_print_string(value.offset)}"
    )
