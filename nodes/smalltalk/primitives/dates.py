"""Date (a day: Julian day number, starting at midnight UTC) and DateAndTime (an
instant with an offset), after Pharo 12's Date, Timespan and DateAndTime. The
evaluator's local time zone is UTC: constructors that use Pharo's local offset
(`DateAndTime year:month:day:hour:minute:second:`, `now`) use +00:00."""

from __future__ import annotations

import re
import time
from typing import TYPE_CHECKING, Any

from ..chronology import (
    DAY_NAMES,
    MONTH_NAMES,
    NANOS_PER_DAY,
    NANOS_PER_SECOND,
    SECONDS_PER_DAY,
    SQUEAK_EPOCH_JDN,
    UNIX_EPOCH_JDN,
    date_format,
    day_of_week,
    day_of_year,
    days_in_month,
    is_leap_year,
    jdn_from_ymd,
    local_fields,
    month_index,
    ymd_from_jdn,
)
from ..kernel import new_string
from ..objects import Char, Date, DateAndTime, Duration, Time
from ._registry import primitive
from .support import (
    Args,
    duration_arg,
    elements,
    is_num,
    less_than_same_kind,
    nanos_from_seconds,
    parse_text_or_error,
    text_of,
)

if TYPE_CHECKING:
    from ..runtime import Interpreter


def _ints(it: Interpreter, values: tuple[Any, ...]) -> bool:
    if all(type(v) is int for v in values):
        return True
    it.error("Error", "Integers expected")
    return False


def _month_arg(it: Interpreter, value: Any) -> int | None:
    """A month index, or a month name (String or Symbol, full or first three letters)."""
    if type(value) is int and 1 <= value <= 12:
        return value
    text = text_of(value)
    index = month_index(text) if text is not None else None
    if index is None:
        it.error("Error", f"{it.print_string(value)} is not a month")
    return index


def _checked_jdn(it: Interpreter, year: int, month: int, day: int) -> int | None:
    if not 1 <= day <= days_in_month(year, month):
        it.error("Error", f"{day} is not a day of {MONTH_NAMES[month - 1]} {year}")
        return None
    return jdn_from_ymd(year, month, day)


def date_and_time(jdn: int, seconds: int, nanos: int, offset: int) -> DateAndTime:
    """From local fields (day, seconds of the day, nanoseconds) and an offset."""
    local = (jdn * SECONDS_PER_DAY + seconds) * NANOS_PER_SECOND + nanos
    return DateAndTime(local - offset * NANOS_PER_SECOND, offset)


def _offset_seconds(it: Interpreter, value: Any) -> int | None:
    """An offset given as a Duration (Pharo) or as a number of hours."""
    if type(value) is Duration:
        return value.nanos // NANOS_PER_SECOND
    if type(value) is int:
        return value * 3600
    it.error("Error", f"{it.print_string(value)} is not an offset (a Duration)")
    return None


# ---------------------------------------------------------------------- Date class


@primitive("Date class", "newDay:month:year:")
def _new_day_month_year(it: Interpreter, rcv: Any, args: Args) -> Any:
    day, month, year = args
    index = _month_arg(it, month)
    if index is None or not _ints(it, (day, year)):
        return None
    jdn = _checked_jdn(it, year, index, day)
    return None if jdn is None else Date(jdn)


@primitive("Date class", "year:month:day:")
def _year_month_day(it: Interpreter, rcv: Any, args: Args) -> Any:
    year, month, day = args
    return _new_day_month_year(it, rcv, (day, month, year))


@primitive("Date class", "year:day:")
def _year_day(it: Interpreter, rcv: Any, args: Args) -> Any:
    """The `day`th day of `year` (1 is the first of January)."""
    year, day = args
    if not _ints(it, (year, day)):
        return None
    return Date(jdn_from_ymd(year, 1, 1) + day - 1)


@primitive("Date class", "newDay:year:")
def _new_day_year(it: Interpreter, rcv: Any, args: Args) -> Any:
    return _year_day(it, rcv, (args[1], args[0]))


@primitive("Date class", "fromDays:")
def _from_days(it: Interpreter, rcv: Any, args: Args) -> Any:
    """Days since 1 January 1901 (Pharo's epoch)."""
    if not _ints(it, args):
        return None
    return Date(SQUEAK_EPOCH_JDN + args[0])


@primitive("Date class", "julianDayNumber:")
def _julian_day_number(it: Interpreter, rcv: Any, args: Args) -> Any:
    return Date(args[0]) if _ints(it, args) else None


@primitive("Date class", "today")
def _today(it: Interpreter, rcv: Any, args: Args) -> Any:
    return Date(UNIX_EPOCH_JDN + time.time_ns() // NANOS_PER_DAY)


@primitive("Date class", "nameOfMonth:")
def _name_of_month(it: Interpreter, rcv: Any, args: Args) -> Any:
    index = args[0]
    if type(index) is not int or not 1 <= index <= 12:
        return it.error("SubscriptOutOfBounds", None, subscript=index, lowerBound=1, upperBound=12)
    return MONTH_NAMES[index - 1]


@primitive("Date class", "nameOfDay:")
def _name_of_day(it: Interpreter, rcv: Any, args: Args) -> Any:
    index = args[0]
    if type(index) is not int or not 1 <= index <= 7:
        return it.error("SubscriptOutOfBounds", None, subscript=index, lowerBound=1, upperBound=7)
    return DAY_NAMES[index - 1]


@primitive("Date class", "indexOfMonth:")
def _index_of_month(it: Interpreter, rcv: Any, args: Args) -> Any:
    return _month_arg(it, args[0])


@primitive("Date class", "dayOfWeek:")
def _day_of_week_index(it: Interpreter, rcv: Any, args: Args) -> Any:
    text = (text_of(args[0]) or "").lower()
    for index, name in enumerate(DAY_NAMES, start=1):
        if name.lower() == text or (len(text) >= 3 and name.lower().startswith(text)):
            return index
    return it.error("Error", f"{it.print_string(args[0])} is not a day name")


@primitive("Date class", "daysInMonth:forYear:")
def _days_in_month_for_year(it: Interpreter, rcv: Any, args: Args) -> Any:
    index = _month_arg(it, args[0])
    if index is None or not _ints(it, args[1:]):
        return None
    return days_in_month(args[1], index)


@primitive("Date class", "daysInYear:")
def _days_in_year(it: Interpreter, rcv: Any, args: Args) -> Any:
    return (366 if is_leap_year(args[0]) else 365) if _ints(it, args) else None


@primitive("Date class", "isLeapYear:")
def _class_is_leap_year(it: Interpreter, rcv: Any, args: Args) -> Any:
    return is_leap_year(args[0]) if _ints(it, args) else None


_WORD_OR_NUMBER = re.compile(r"[A-Za-z]+|\d+")


def parse_date(text: str) -> Date | None:
    """The forms of Pharo's Date class>>readFrom:: `2024-03-01` (ISO), `1 March 2024`,
    `March 1, 2024`, `3/1/2024` (month first), `1-mar-2024`."""
    iso = re.match(r"\s*(-?\d{4,})-(\d{1,2})-(\d{1,2})", text)
    tokens = _WORD_OR_NUMBER.findall(text)
    try:
        if iso:
            year, month, day = (int(g) for g in iso.groups())
        elif len(tokens) >= 3 and tokens[0].isdigit() and not tokens[1].isdigit():
            day, year = int(tokens[0]), int(tokens[2])
            month = month_index(tokens[1]) or 0
        elif len(tokens) >= 3 and not tokens[0].isdigit():
            month, day, year = month_index(tokens[0]) or 0, int(tokens[1]), int(tokens[2])
        elif len(tokens) >= 3:
            month, day, year = (int(t) for t in tokens[:3])
        else:
            return None
    except ValueError:
        return None
    if not 1 <= month <= 12 or not 1 <= day <= days_in_month(year, month):
        return None
    return Date(jdn_from_ymd(year, month, day))


@primitive("Date class", "fromString:", "readFrom:")
def _date_from_string(it: Interpreter, rcv: Any, args: Args) -> Any:
    return parse_text_or_error(
        it, args[0], parse_date, lambda: f"{it.print_string(args[0])} is not a date"
    )


@primitive("String", "asDate")
def _string_as_date(it: Interpreter, rcv: Any, args: Args) -> Any:
    return _date_from_string(it, None, (rcv,))


# ---------------------------------------------------------------------- Date


def _ymd(rcv: Date) -> tuple[int, int, int]:
    return ymd_from_jdn(rcv.jdn)


primitive("Date", "year")(lambda it, rcv, args: _ymd(rcv)[0])
primitive("Date", "month", "monthIndex")(lambda it, rcv, args: _ymd(rcv)[1])
primitive("Date", "dayOfMonth", "day")(lambda it, rcv, args: _ymd(rcv)[2])
primitive("Date", "monthName")(lambda it, rcv, args: MONTH_NAMES[_ymd(rcv)[1] - 1])
primitive("Date", "dayOfWeek")(lambda it, rcv, args: day_of_week(rcv.jdn))
primitive("Date", "dayOfWeekName")(lambda it, rcv, args: DAY_NAMES[day_of_week(rcv.jdn) - 1])
primitive("Date", "dayOfYear")(lambda it, rcv, args: day_of_year(rcv.jdn))
primitive("Date", "julianDayNumber")(lambda it, rcv, args: rcv.jdn)
primitive("Date", "isLeapYear")(lambda it, rcv, args: is_leap_year(_ymd(rcv)[0]))
primitive("Date", "daysInMonth")(lambda it, rcv, args: days_in_month(*_ymd(rcv)[:2]))
primitive("Date", "daysInYear")(lambda it, rcv, args: 366 if is_leap_year(_ymd(rcv)[0]) else 365)
primitive("Date", "asDate")(lambda it, rcv, args: rcv)
primitive("Date", "duration")(lambda it, rcv, args: Duration(NANOS_PER_DAY))
primitive("Date", "asSeconds")(lambda it, rcv, args: (rcv.jdn - SQUEAK_EPOCH_JDN) * SECONDS_PER_DAY)


@primitive("Date", "monthAbbreviation")
def _month_abbreviation(it: Interpreter, rcv: Any, args: Args) -> Any:
    return new_string(MONTH_NAMES[_ymd(rcv)[1] - 1][:3])


@primitive("Date", "dayOfWeekAbbreviation")
def _day_abbreviation(it: Interpreter, rcv: Any, args: Args) -> Any:
    return new_string(DAY_NAMES[day_of_week(rcv.jdn) - 1][:3])


@primitive("Date", "start", "asDateAndTime")
def _date_start(it: Interpreter, rcv: Any, args: Args) -> Any:
    return date_and_time(rcv.jdn, 0, 0, 0)


@primitive("Date", "addDays:")
def _add_days(it: Interpreter, rcv: Any, args: Args) -> Any:
    return Date(rcv.jdn + args[0]) if _ints(it, args) else None


@primitive("Date", "subtractDays:")
def _subtract_days(it: Interpreter, rcv: Any, args: Args) -> Any:
    return Date(rcv.jdn - args[0]) if _ints(it, args) else None


@primitive("Date", "addMonths:")
def _add_months(it: Interpreter, rcv: Any, args: Args) -> Any:
    """The same day `n` months later, clamped to the end of a shorter month."""
    if not _ints(it, args):
        return None
    year, month, day = _ymd(rcv)
    total = year * 12 + (month - 1) + args[0]
    new_year, new_month = divmod(total, 12)
    new_month += 1
    return Date(jdn_from_ymd(new_year, new_month, min(day, days_in_month(new_year, new_month))))


@primitive("Date", "subtractDate:")
def _subtract_date(it: Interpreter, rcv: Any, args: Args) -> Any:
    """Days between the dates (an Integer)."""
    other = args[0]
    if type(other) is not Date:
        return it.error("Error", f"{it.print_string(other)} is not a Date")
    return rcv.jdn - other.jdn


@primitive("Date", "+")
def _date_plus(it: Interpreter, rcv: Any, args: Args) -> Any:
    """Timespan>>+: the Date in which `start + aDuration` falls."""
    nanos = duration_arg(it, args[0])
    if nanos is None:
        return None
    return Date(rcv.jdn + nanos // NANOS_PER_DAY)


@primitive("Date", "-")
def _date_minus(it: Interpreter, rcv: Any, args: Args) -> Any:
    """A Date minus a Date (or DateAndTime) is a Duration; minus a Duration, a Date."""
    other = args[0]
    if type(other) is Date:
        return Duration((rcv.jdn - other.jdn) * NANOS_PER_DAY)
    if type(other) is DateAndTime:
        start = date_and_time(rcv.jdn, 0, 0, 0)
        return Duration(start.utc_nanos - other.utc_nanos)
    nanos = duration_arg(it, other)
    return None if nanos is None else Date(rcv.jdn + (-nanos) // NANOS_PER_DAY)


primitive("Date", "<")(less_than_same_kind(Date, "jdn"))


@primitive("Date", "hash")
@primitive("DateAndTime", "hash")
def _hash(it: Interpreter, rcv: Any, args: Args) -> Any:
    return hash(rcv) & 0x0FFFFFFF


@primitive("Date", "yyyymmdd")
def _yyyymmdd(it: Interpreter, rcv: Any, args: Args) -> Any:
    """ISO 8601: `printOn: aStream format: #(3 2 1 $- 1 1 2)`."""
    return new_string(date_format(rcv.jdn, (3, 2, 1), "-", 1, False, True))


@primitive("Date", "mmddyyyy")
def _mmddyyyy(it: Interpreter, rcv: Any, args: Args) -> Any:
    """U.S. style, `printFormat: #(2 1 3 $/ 1 1)`: '3/1/2024'."""
    return new_string(date_format(rcv.jdn, (2, 1, 3), "/", 1, False, False))


@primitive("Date", "printFormat:")
def _print_format(it: Interpreter, rcv: Any, args: Args) -> Any:
    """Date>>printOn:format:: #(item item item separator monthFormat yearFormat
    [twoDigits]); items 1 day, 2 month, 3 year; separator a Character or its code
    (0 for none); month format 1 number, 2 'Mar', 3 'March'; year format 1 '2024',
    2 '24'; twoDigits > 1 pads day and month numbers."""
    spec = elements(args[0])
    if len(spec) < 6 or sorted(spec[:3]) != [1, 2, 3]:
        return it.error("Error", "printFormat: needs #(item item item separator month year)")
    separator = spec[3]
    sep_text = separator.text if type(separator) is Char else chr(separator) if separator else ""
    return new_string(
        date_format(
            rcv.jdn,
            (spec[0], spec[1], spec[2]),
            sep_text,
            spec[4],
            spec[5] == 2,
            len(spec) > 6 and spec[6] > 1,
        )
    )


# ---------------------------------------------------------------------- DateAndTime class


@primitive("DateAndTime class", "year:month:day:hour:minute:second:offset:")
def _dt_full(it: Interpreter, rcv: Any, args: Args) -> Any:
    year, month, day, hour, minute, second, offset = args
    return _make_date_and_time(it, year, month, day, hour, minute, second, offset)


@primitive("DateAndTime class", "year:month:day:hour:minute:second:")
def _dt_local(it: Interpreter, rcv: Any, args: Args) -> Any:
    year, month, day, hour, minute, second = args
    return _make_date_and_time(it, year, month, day, hour, minute, second, 0)


@primitive("DateAndTime class", "year:month:day:hour:minute:")
def _dt_minutes(it: Interpreter, rcv: Any, args: Args) -> Any:
    year, month, day, hour, minute = args
    return _make_date_and_time(it, year, month, day, hour, minute, 0, 0)


@primitive("DateAndTime class", "year:month:day:")
def _dt_midnight(it: Interpreter, rcv: Any, args: Args) -> Any:
    year, month, day = args
    return _make_date_and_time(it, year, month, day, 0, 0, 0, 0)


def _make_date_and_time(
    it: Interpreter,
    year: Any,
    month: Any,
    day: Any,
    hour: Any,
    minute: Any,
    second: Any,
    offset: Any,
) -> Any:
    index = _month_arg(it, month)
    seconds_offset = _offset_seconds(it, offset)
    if index is None or seconds_offset is None or not _ints(it, (year, day, hour, minute)):
        return None
    if not is_num(second):
        return it.error("Error", "the seconds must be a Number")
    jdn = _checked_jdn(it, year, index, day)
    if jdn is None:
        return None
    nanos = (hour * 60 + minute) * 60 * NANOS_PER_SECOND + nanos_from_seconds(second)
    return date_and_time(jdn, 0, nanos, seconds_offset)


@primitive("DateAndTime class", "date:time:")
def _date_time(it: Interpreter, rcv: Any, args: Args) -> Any:
    date, time_of_day = args
    if type(date) is not Date or type(time_of_day) is not Time:
        return it.error("Error", "date:time: needs a Date and a Time")
    return date_and_time(date.jdn, 0, time_of_day.nanos, 0)


@primitive("DateAndTime class", "fromSeconds:")
def _from_seconds(it: Interpreter, rcv: Any, args: Args) -> Any:
    """Seconds since 1 January 1901 00:00 UTC."""
    if not _ints(it, args):
        return None
    return DateAndTime((SQUEAK_EPOCH_JDN * SECONDS_PER_DAY + args[0]) * NANOS_PER_SECOND, 0)


@primitive("DateAndTime class", "fromUnixTime:")
def _from_unix_time(it: Interpreter, rcv: Any, args: Args) -> Any:
    if not _ints(it, args):
        return None
    return DateAndTime((UNIX_EPOCH_JDN * SECONDS_PER_DAY + args[0]) * NANOS_PER_SECOND, 0)


@primitive("DateAndTime class", "epoch")
def _epoch(it: Interpreter, rcv: Any, args: Args) -> Any:
    return DateAndTime(SQUEAK_EPOCH_JDN * NANOS_PER_DAY, 0)


@primitive("DateAndTime class", "unixEpoch")
def _unix_epoch(it: Interpreter, rcv: Any, args: Args) -> Any:
    return DateAndTime(UNIX_EPOCH_JDN * NANOS_PER_DAY, 0)


@primitive("DateAndTime class", "now")
def _now(it: Interpreter, rcv: Any, args: Args) -> Any:
    return DateAndTime(UNIX_EPOCH_JDN * NANOS_PER_DAY + time.time_ns(), 0)


@primitive("DateAndTime class", "today")
def _dt_today(it: Interpreter, rcv: Any, args: Args) -> Any:
    return DateAndTime((UNIX_EPOCH_JDN + time.time_ns() // NANOS_PER_DAY) * NANOS_PER_DAY, 0)


@primitive("DateAndTime class", "julianDayNumber:")
def _dt_julian_day_number(it: Interpreter, rcv: Any, args: Args) -> Any:
    return DateAndTime(args[0] * NANOS_PER_DAY, 0) if _ints(it, args) else None


_ISO = re.compile(
    r"\s*(-?\d{4,})-(\d{1,2})-(\d{1,2})"
    r"(?:[T ](\d{1,2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?)?"
    r"\s*(Z|[+-]\d{1,2}(?::?\d{2})?)?"
)


def parse_date_and_time(text: str) -> DateAndTime | None:
    """ISO 8601: `2024-03-01T10:20:30[.nanos][Z|+hh:mm]`; a date alone is midnight;
    without an offset, the local one (+00:00)."""
    match = _ISO.match(text)
    if match is None:
        return None
    year, month, day, hour, minute, second, fraction, zone = match.groups()
    if not 1 <= int(month) <= 12 or not 1 <= int(day) <= days_in_month(int(year), int(month)):
        return None
    seconds = (int(hour or 0) * 60 + int(minute or 0)) * 60 + int(second or 0)
    nanos = int((fraction or "").ljust(9, "0") or 0)
    offset = 0
    if zone and zone != "Z":
        digits = zone[1:].replace(":", "")
        offset = int(digits[:2]) * 3600 + int(digits[2:] or 0) * 60
        offset = -offset if zone[0] == "-" else offset
    return date_and_time(jdn_from_ymd(int(year), int(month), int(day)), seconds, nanos, offset)


@primitive("DateAndTime class", "fromString:", "readFrom:")
def _dt_from_string(it: Interpreter, rcv: Any, args: Args) -> Any:
    return parse_text_or_error(
        it,
        args[0],
        parse_date_and_time,
        lambda: f"{it.print_string(args[0])} is not an ISO 8601 date and time",
    )


@primitive("String", "asDateAndTime")
def _string_as_date_and_time(it: Interpreter, rcv: Any, args: Args) -> Any:
    return _dt_from_string(it, None, (rcv,))


# ---------------------------------------------------------------------- DateAndTime


def _local(rcv: DateAndTime) -> tuple[int, int, int]:
    return local_fields(rcv)


def _local_ymd(rcv: DateAndTime) -> tuple[int, int, int]:
    return ymd_from_jdn(_local(rcv)[0])


primitive("DateAndTime", "year")(lambda it, rcv, args: _local_ymd(rcv)[0])
primitive("DateAndTime", "month", "monthIndex")(lambda it, rcv, args: _local_ymd(rcv)[1])
primitive("DateAndTime", "dayOfMonth", "day")(lambda it, rcv, args: _local_ymd(rcv)[2])
primitive("DateAndTime", "hour", "hour24")(lambda it, rcv, args: _local(rcv)[1] // 3600)
primitive("DateAndTime", "hour12")(lambda it, rcv, args: (_local(rcv)[1] // 3600 - 1) % 12 + 1)
primitive("DateAndTime", "minute")(lambda it, rcv, args: _local(rcv)[1] // 60 % 60)
primitive("DateAndTime", "second")(lambda it, rcv, args: _local(rcv)[1] % 60)
primitive("DateAndTime", "nanoSecond")(lambda it, rcv, args: _local(rcv)[2])
primitive("DateAndTime", "julianDayNumber")(lambda it, rcv, args: _local(rcv)[0])
primitive("DateAndTime", "dayOfWeek")(lambda it, rcv, args: day_of_week(_local(rcv)[0]))
primitive("DateAndTime", "dayOfYear")(lambda it, rcv, args: day_of_year(_local(rcv)[0]))
primitive("DateAndTime", "monthName")(lambda it, rcv, args: MONTH_NAMES[_local_ymd(rcv)[1] - 1])
primitive("DateAndTime", "isLeapYear")(lambda it, rcv, args: is_leap_year(_local_ymd(rcv)[0]))
primitive("DateAndTime", "daysInMonth")(lambda it, rcv, args: days_in_month(*_local_ymd(rcv)[:2]))
primitive("DateAndTime", "offset")(lambda it, rcv, args: Duration(rcv.offset * NANOS_PER_SECOND))
primitive("DateAndTime", "asDateAndTime")(lambda it, rcv, args: rcv)
primitive("DateAndTime", "asDate")(lambda it, rcv, args: Date(_local(rcv)[0]))


@primitive("DateAndTime", "dayOfWeekName")
def _dt_day_name(it: Interpreter, rcv: Any, args: Args) -> Any:
    return DAY_NAMES[day_of_week(_local(rcv)[0]) - 1]


@primitive("DateAndTime", "asTime")
def _dt_as_time(it: Interpreter, rcv: Any, args: Args) -> Any:
    _jdn, seconds, nanos = _local(rcv)
    return Time(seconds * NANOS_PER_SECOND + nanos)


@primitive("DateAndTime", "asSeconds")
def _dt_as_seconds(it: Interpreter, rcv: Any, args: Args) -> Any:
    """Seconds since Pharo's epoch (1 January 1901 00:00 UTC)."""
    return rcv.utc_nanos // NANOS_PER_SECOND - SQUEAK_EPOCH_JDN * SECONDS_PER_DAY


@primitive("DateAndTime", "asUnixTime")
def _dt_as_unix_time(it: Interpreter, rcv: Any, args: Args) -> Any:
    return rcv.utc_nanos // NANOS_PER_SECOND - UNIX_EPOCH_JDN * SECONDS_PER_DAY


@primitive("DateAndTime", "offset:", "utcOffset:")
def _dt_with_offset(it: Interpreter, rcv: Any, args: Args) -> Any:
    """The same instant seen from another offset."""
    offset = _offset_seconds(it, args[0])
    return None if offset is None else DateAndTime(rcv.utc_nanos, offset)


@primitive("DateAndTime", "asUTC")
def _dt_as_utc(it: Interpreter, rcv: Any, args: Args) -> Any:
    return DateAndTime(rcv.utc_nanos, 0)


@primitive("DateAndTime", "translateTo:")
def _dt_translate_to(it: Interpreter, rcv: Any, args: Args) -> Any:
    """The same local date and time in another offset (another instant)."""
    offset = _offset_seconds(it, args[0])
    if offset is None:
        return None
    jdn, seconds, nanos = _local(rcv)
    return date_and_time(jdn, seconds, nanos, offset)


@primitive("DateAndTime", "midnight")
def _dt_midnight_of(it: Interpreter, rcv: Any, args: Args) -> Any:
    return date_and_time(_local(rcv)[0], 0, 0, rcv.offset)


@primitive("DateAndTime", "noon")
def _dt_noon_of(it: Interpreter, rcv: Any, args: Args) -> Any:
    return date_and_time(_local(rcv)[0], 12 * 3600, 0, rcv.offset)


@primitive("DateAndTime", "meridianAbbreviation")
def _dt_meridian(it: Interpreter, rcv: Any, args: Args) -> Any:
    return new_string("AM" if _local(rcv)[1] < 12 * 3600 else "PM")


@primitive("DateAndTime", "+")
def _dt_plus(it: Interpreter, rcv: Any, args: Args) -> Any:
    nanos = duration_arg(it, args[0])
    return None if nanos is None else DateAndTime(rcv.utc_nanos + nanos, rcv.offset)


@primitive("DateAndTime", "-")
def _dt_minus(it: Interpreter, rcv: Any, args: Args) -> Any:
    """Minus a DateAndTime (or a Date): the Duration between; minus a Duration: a
    DateAndTime."""
    other = args[0]
    if type(other) is DateAndTime:
        return Duration(rcv.utc_nanos - other.utc_nanos)
    if type(other) is Date:
        return Duration(rcv.utc_nanos - other.jdn * NANOS_PER_DAY)
    nanos = duration_arg(it, other)
    return None if nanos is None else DateAndTime(rcv.utc_nanos - nanos, rcv.offset)


primitive("DateAndTime", "<")(less_than_same_kind(DateAndTime, "utc_nanos"))


@primitive("DateAndTime", "printYMD", "yyyymmdd")
def _dt_ymd(it: Interpreter, rcv: Any, args: Args) -> Any:
    return new_string(date_format(_local(rcv)[0], (3, 2, 1), "-", 1, False, True))
