"""Duration and Time (a time of day). Both hold nanoseconds (objects.Duration/Time);
their printStrings are chronology.py's. `1 day`, `2 hours`, `90 seconds` ... are sent
to Numbers, as in Pharo."""

from __future__ import annotations

import math
import re
import time
from fractions import Fraction
from typing import TYPE_CHECKING, Any

from ..chronology import NANOS_PER_DAY, NANOS_PER_SECOND, SECONDS_PER_DAY, time_print_string
from ..kernel import new_string
from ..objects import Duration, Time
from ._registry import primitive
from .support import (
    Args,
    duration_arg,
    is_num,
    less_than_same_kind,
    nanos_from_seconds,
    number_result,
    parse_text_or_error,
)

if TYPE_CHECKING:
    from ..runtime import Interpreter

_UNITS = {
    "week": 7 * SECONDS_PER_DAY,
    "day": SECONDS_PER_DAY,
    "hour": 3600,
    "minute": 60,
    "second": 1,
}


def _number_arg(it: Interpreter, value: Any) -> bool:
    if is_num(value) and not (type(value) is float and not math.isfinite(value)):
        return True
    it.error("Error", f"{it.print_string(value)} is not a finite number")
    return False


# ---------------------------------------------------------------------- Number>>days ...


def _unit(seconds_per_unit: int) -> Any:
    def prim(it: Interpreter, rcv: Any, args: Args) -> Any:
        if not _number_arg(it, rcv):
            return None
        return Duration(nanos_from_seconds(Fraction(rcv) * seconds_per_unit))

    return prim


for _name, _seconds in _UNITS.items():
    primitive("Number", _name, _name + "s")(_unit(_seconds))


@primitive("Number", "milliSeconds", "milliSecond")
def _milli_seconds(it: Interpreter, rcv: Any, args: Args) -> Any:
    return Duration(math.trunc(Fraction(rcv) * 1_000_000)) if _number_arg(it, rcv) else None


@primitive("Number", "nanoSeconds", "nanoSecond")
def _nano_seconds(it: Interpreter, rcv: Any, args: Args) -> Any:
    return Duration(math.trunc(Fraction(rcv))) if _number_arg(it, rcv) else None


# ---------------------------------------------------------------------- Duration class


@primitive("Duration class", "days:hours:minutes:seconds:")
def _days_hours_minutes_seconds(it: Interpreter, rcv: Any, args: Args) -> Any:
    if not all(_number_arg(it, a) for a in args):
        return None
    days, hours, minutes, seconds = (Fraction(a) for a in args)
    return Duration(nanos_from_seconds(((days * 24 + hours) * 60 + minutes) * 60 + seconds))


@primitive("Duration class", "days:hours:minutes:seconds:nanoSeconds:")
def _with_nanos(it: Interpreter, rcv: Any, args: Args) -> Any:
    base = _days_hours_minutes_seconds(it, rcv, args[:4])
    if base is None or not _number_arg(it, args[4]):
        return None
    return Duration(base.nanos + math.trunc(Fraction(args[4])))


def _class_unit(seconds_per_unit: int) -> Any:
    def prim(it: Interpreter, rcv: Any, args: Args) -> Any:
        if not _number_arg(it, args[0]):
            return None
        return Duration(nanos_from_seconds(Fraction(args[0]) * seconds_per_unit))

    return prim


for _name, _seconds in _UNITS.items():
    primitive("Duration class", _name + "s:")(_class_unit(_seconds))


@primitive("Duration class", "milliSeconds:")
def _class_milli_seconds(it: Interpreter, rcv: Any, args: Args) -> Any:
    return _milli_seconds(it, args[0], ())


@primitive("Duration class", "nanoSeconds:")
def _class_nano_seconds(it: Interpreter, rcv: Any, args: Args) -> Any:
    return _nano_seconds(it, args[0], ())


@primitive("Duration class", "seconds:nanoSeconds:")
def _seconds_nano_seconds(it: Interpreter, rcv: Any, args: Args) -> Any:
    if not (_number_arg(it, args[0]) and _number_arg(it, args[1])):
        return None
    return Duration(nanos_from_seconds(args[0]) + math.trunc(Fraction(args[1])))


@primitive("Duration class", "zero", "new")
def _zero(it: Interpreter, rcv: Any, args: Args) -> Any:
    return Duration(0)


_DURATION_TEXT = re.compile(r"\s*(-)?(\d+):(\d+):(\d+):(\d+)(?:\.(\d{1,9}))?")


def parse_duration(text: str) -> Duration | None:
    """'[-]D:HH:MM:SS[.nanos]', the printString form."""
    match = _DURATION_TEXT.match(text)
    if match is None:
        return None
    sign, days, hours, minutes, seconds, fraction = match.groups()
    total = ((int(days) * 24 + int(hours)) * 60 + int(minutes)) * 60 + int(seconds)
    nanos = total * NANOS_PER_SECOND + int((fraction or "").ljust(9, "0") or 0)
    return Duration(-nanos if sign else nanos)


@primitive("Duration class", "fromString:", "readFrom:")
def _duration_from_string(it: Interpreter, rcv: Any, args: Args) -> Any:
    return parse_text_or_error(
        it, args[0], parse_duration, lambda: "a Duration is written [-]D:HH:MM:SS[.nanos]"
    )


@primitive("String", "asDuration")
def _string_as_duration(it: Interpreter, rcv: Any, args: Args) -> Any:
    return _duration_from_string(it, None, (rcv,))


# ---------------------------------------------------------------------- Duration


def _parts(duration: Duration) -> tuple[int, int]:
    """(whole seconds, nanoseconds), both truncated toward zero like Pharo's ivars."""
    seconds = abs(duration.nanos) // NANOS_PER_SECOND
    nanos = abs(duration.nanos) % NANOS_PER_SECOND
    sign = -1 if duration.nanos < 0 else 1
    return sign * seconds, sign * nanos


def _field(fn: Any) -> Any:
    def prim(it: Interpreter, rcv: Any, args: Args) -> Any:
        return fn(_parts(rcv)[0])

    return prim


def _quo(a: int, b: int) -> int:
    """Integer division truncated toward zero (Smalltalk's quo:), b > 0."""
    quotient = abs(a) // b
    return quotient if a >= 0 else -quotient


def _rem(a: int, b: int) -> int:
    return a - _quo(a, b) * b


primitive("Duration", "days")(_field(lambda s: _quo(s, SECONDS_PER_DAY)))
primitive("Duration", "hours")(_field(lambda s: _quo(_rem(s, SECONDS_PER_DAY), 3600)))
primitive("Duration", "minutes")(_field(lambda s: _quo(_rem(s, 3600), 60)))
primitive("Duration", "seconds")(_field(lambda s: _rem(s, 60)))
primitive("Duration", "asSeconds", "totalSeconds")(_field(lambda s: s))


@primitive("Duration", "nanoSeconds")
def _duration_nanos(it: Interpreter, rcv: Any, args: Args) -> Any:
    return _parts(rcv)[1]


@primitive("Duration", "asNanoSeconds")
def _as_nano_seconds(it: Interpreter, rcv: Any, args: Args) -> Any:
    return rcv.nanos


@primitive("Duration", "asMilliSeconds")
def _as_milli_seconds(it: Interpreter, rcv: Any, args: Args) -> Any:
    return _quo(rcv.nanos, 1_000_000)


@primitive("Duration", "asDuration")
def _as_duration(it: Interpreter, rcv: Any, args: Args) -> Any:
    return rcv


def _duration_binary(fn: Any) -> Any:
    def prim(it: Interpreter, rcv: Any, args: Args) -> Any:
        other = duration_arg(it, args[0])
        return None if other is None else fn(rcv.nanos, other)

    return prim


primitive("Duration", "+")(_duration_binary(lambda a, b: Duration(a + b)))
primitive("Duration", "-")(_duration_binary(lambda a, b: Duration(a - b)))
primitive("Duration", "<")(_duration_binary(lambda a, b: a < b))


@primitive("Duration", "*")
def _duration_times(it: Interpreter, rcv: Any, args: Args) -> Any:
    if not _number_arg(it, args[0]):
        return None
    return Duration(math.trunc(rcv.nanos * Fraction(args[0])))


@primitive("Duration", "/")
def _duration_divide(it: Interpreter, rcv: Any, args: Args) -> Any:
    """By a Duration: their ratio (a Number); by a Number: a Duration."""
    arg = args[0]
    if type(arg) is Duration:
        if arg.nanos == 0:
            return it.error("ZeroDivide", None, dividend=rcv)
        return number_result(Fraction(rcv.nanos, arg.nanos))
    if not _number_arg(it, arg):
        return None
    if arg == 0:
        return it.error("ZeroDivide", None, dividend=rcv)
    return Duration(math.trunc(rcv.nanos / Fraction(arg)))


@primitive("Duration", "negated")
def _negated(it: Interpreter, rcv: Any, args: Args) -> Any:
    return Duration(-rcv.nanos)


@primitive("Duration", "abs")
def _abs(it: Interpreter, rcv: Any, args: Args) -> Any:
    return Duration(abs(rcv.nanos))


@primitive("Duration", "negative")
def _negative(it: Interpreter, rcv: Any, args: Args) -> Any:
    return rcv.nanos < 0


@primitive("Duration", "positive")
def _positive(it: Interpreter, rcv: Any, args: Args) -> Any:
    return rcv.nanos >= 0


@primitive("Duration", "isZero")
def _is_zero(it: Interpreter, rcv: Any, args: Args) -> Any:
    return rcv.nanos == 0


@primitive("Duration", "hash")
@primitive("Time", "hash")
def _value_hash(it: Interpreter, rcv: Any, args: Args) -> Any:
    return hash(rcv) & 0x0FFFFFFF


# ---------------------------------------------------------------------- Time class


def make_time(it: Interpreter, seconds: Any, nanos: Any = 0) -> Any:
    """A Time from seconds since midnight (wrapped into one day)."""
    if not (_number_arg(it, seconds) and _number_arg(it, nanos)):
        return None
    return Time((nanos_from_seconds(seconds) + math.trunc(Fraction(nanos))) % NANOS_PER_DAY)


@primitive("Time class", "hour:minute:second:")
def _hour_minute_second(it: Interpreter, rcv: Any, args: Args) -> Any:
    if not all(_number_arg(it, a) for a in args):
        return None
    hour, minute, second = args
    return make_time(it, (Fraction(hour) * 60 + minute) * 60 + second)


@primitive("Time class", "hour:minute:second:nanoSecond:")
def _hour_minute_second_nanos(it: Interpreter, rcv: Any, args: Args) -> Any:
    if not all(_number_arg(it, a) for a in args):
        return None
    hour, minute, second, nanos = args
    return make_time(it, (Fraction(hour) * 60 + minute) * 60 + second, nanos)


@primitive("Time class", "fromSeconds:", "seconds:")
def _time_from_seconds(it: Interpreter, rcv: Any, args: Args) -> Any:
    return make_time(it, args[0])


@primitive("Time class", "seconds:nanoSeconds:")
def _time_seconds_nanos(it: Interpreter, rcv: Any, args: Args) -> Any:
    return make_time(it, args[0], args[1])


@primitive("Time class", "midnight", "new")
def _midnight(it: Interpreter, rcv: Any, args: Args) -> Any:
    return Time(0)


@primitive("Time class", "noon")
def _noon(it: Interpreter, rcv: Any, args: Args) -> Any:
    return Time(12 * 3600 * NANOS_PER_SECOND)


@primitive("Time class", "now")
def _now(it: Interpreter, rcv: Any, args: Args) -> Any:
    """The time of day in UTC (the evaluator's local time zone)."""
    return Time(time.time_ns() % NANOS_PER_DAY)


_TIME_TEXT = re.compile(
    r"\s*(\d{1,2})(?::(\d{1,2}))?(?::(\d{1,2})(?:\.(\d{1,9}))?)?\s*([aApP][mM])?"
)


def parse_time(text: str) -> Time | None:
    """'14:05', '14:05:30', '14:05:30.25', '2:05 pm', '2 pm'."""
    match = _TIME_TEXT.match(text)
    if match is None:
        return None
    hour_text, minute, second, fraction, meridian = match.groups()
    hour = int(hour_text)
    if minute is None and meridian is None:
        return None
    if meridian is not None:
        if not 1 <= hour <= 12:
            return None
        hour = hour % 12 + (12 if meridian.lower() == "pm" else 0)
    minutes, seconds = int(minute or 0), int(second or 0)
    if hour > 23 or minutes > 59 or seconds > 59:
        return None
    nanos = int((fraction or "").ljust(9, "0") or 0)
    return Time(((hour * 60 + minutes) * 60 + seconds) * NANOS_PER_SECOND + nanos)


@primitive("Time class", "fromString:", "readFrom:")
def _time_from_string(it: Interpreter, rcv: Any, args: Args) -> Any:
    return parse_text_or_error(
        it, args[0], parse_time, lambda: "a Time is written hh:mm[:ss] [am|pm]"
    )


@primitive("String", "asTime")
def _string_as_time(it: Interpreter, rcv: Any, args: Args) -> Any:
    return _time_from_string(it, None, (rcv,))


# ---------------------------------------------------------------------- Time


def _time_field(fn: Any) -> Any:
    def prim(it: Interpreter, rcv: Any, args: Args) -> Any:
        return fn(rcv.nanos // NANOS_PER_SECOND)

    return prim


primitive("Time", "hour", "hour24", "hours")(_time_field(lambda s: s // 3600))
primitive("Time", "hour12")(_time_field(lambda s: (s // 3600 - 1) % 12 + 1))
primitive("Time", "minute", "minutes")(_time_field(lambda s: s // 60 % 60))
primitive("Time", "second", "seconds")(_time_field(lambda s: s % 60))
primitive("Time", "asSeconds")(_time_field(lambda s: s))


@primitive("Time", "nanoSecond")
def _time_nanos(it: Interpreter, rcv: Any, args: Args) -> Any:
    return rcv.nanos % NANOS_PER_SECOND


@primitive("Time", "asNanoSeconds")
def _time_as_nanos(it: Interpreter, rcv: Any, args: Args) -> Any:
    return rcv.nanos


@primitive("Time", "asDuration")
def _time_as_duration(it: Interpreter, rcv: Any, args: Args) -> Any:
    return Duration(rcv.nanos)


@primitive("Time", "asTime")
def _time_as_time(it: Interpreter, rcv: Any, args: Args) -> Any:
    return rcv


@primitive("Time", "meridianAbbreviation")
def _meridian(it: Interpreter, rcv: Any, args: Args) -> Any:
    return new_string("AM" if rcv.nanos < 12 * 3600 * NANOS_PER_SECOND else "PM")


@primitive("Time", "print24")
def _print24(it: Interpreter, rcv: Any, args: Args) -> Any:
    """'14:05:00': 24 hours, always with seconds."""
    return new_string(time_print_string(rcv, hr24=True, show_seconds=True))


@primitive("Time", "hhmm24")
def _hhmm24(it: Interpreter, rcv: Any, args: Args) -> Any:
    seconds = rcv.nanos // NANOS_PER_SECOND
    return new_string(f"{seconds // 3600:02d}{seconds // 60 % 60:02d}")


@primitive("Time", "addSeconds:")
def _add_seconds(it: Interpreter, rcv: Any, args: Args) -> Any:
    """Wraps around midnight (this Time is always within one day)."""
    if not _number_arg(it, args[0]):
        return None
    return Time((rcv.nanos + nanos_from_seconds(args[0])) % NANOS_PER_DAY)


@primitive("Time", "addTime:", "+")
def _add_time(it: Interpreter, rcv: Any, args: Args) -> Any:
    """A Time or a Duration added (wrapping around midnight)."""
    other = args[0]
    if type(other) not in (Time, Duration):
        return it.error("Error", f"{it.print_string(other)} is not a Time or a Duration")
    return Time((rcv.nanos + other.nanos) % NANOS_PER_DAY)


@primitive("Time", "subtractTime:")
def _subtract_time(it: Interpreter, rcv: Any, args: Args) -> Any:
    other = args[0]
    if type(other) not in (Time, Duration):
        return it.error("Error", f"{it.print_string(other)} is not a Time or a Duration")
    return Time((rcv.nanos - other.nanos) % NANOS_PER_DAY)


primitive("Time", "<")(less_than_same_kind(Time, "nanos"))
