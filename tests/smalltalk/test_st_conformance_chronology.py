"""Conformance rows for Date, Time, DateAndTime and Duration, from Pharo 12's printOn:
methods (Date>>printOn: is `printOn: aStream format: #(1 2 3 $  3 1)`, Time>>printOn:
is `print24: false showSeconds: (self seconds ~= 0)`, DateAndTime prints ISO 8601 with
its offset, Duration prints `[-]D:HH:MM:SS[.nanos]`) and the accessors named.

Every row builds its dates explicitly (no `today`/`now` values, only their class), and
DateAndTimes either give an offset or use the evaluator's local offset, +00:00 (Pharo
would use the machine's; docs/smalltalk.md)."""

from __future__ import annotations

import pytest
from conformance_support import check_error, check_print, params

D = "(Date year: 2024 month: 3 day: 1)"
T = "(Time hour: 14 minute: 5 second: 0)"
DT = "(DateAndTime year: 2024 month: 3 day: 1 hour: 10 minute: 20 second: 30 offset: 2 hours)"

DURATIONS = [
    ("Duration days: 1 hours: 2 minutes: 3 seconds: 4", "1:02:03:04"),
    ("1 day", "1:00:00:00"),
    ("2 days", "2:00:00:00"),
    ("2 hours", "0:02:00:00"),
    ("90 seconds", "0:00:01:30"),
    ("1.5 seconds", "0:00:00:01.5"),
    ("1 week", "7:00:00:00"),
    ("Duration zero", "0:00:00:00"),
    ("Duration seconds: 3661", "0:01:01:01"),
    ("Duration minutes: 90", "0:01:30:00"),
    ("Duration milliSeconds: 1500", "0:00:00:01.5"),
    ("Duration hours: 25", "1:01:00:00"),
    ("1 hour negated", "-0:01:00:00"),
    ("(1 hour + 30 minutes) asSeconds", "5400"),
    ("1 day asSeconds", "86400"),
    ("1 hour asMilliSeconds", "3600000"),
    ("2 hours * 3", "0:06:00:00"),
    ("1 day / 2", "0:12:00:00"),
    ("1 day / 1 hour", "24"),
    ("1 day - 1 hour", "0:23:00:00"),
    ("1 hour < 1 day", "true"),
    ("1 day > 1 hour", "true"),
    ("60 minutes = 1 hour", "true"),
    ("(Duration minutes: 90) hours", "1"),
    ("(Duration minutes: 90) minutes", "30"),
    ("(Duration days: 2 hours: 3 minutes: 4 seconds: 5) days", "2"),
    ("(Duration days: 2 hours: 3 minutes: 4 seconds: 5) seconds", "5"),
    ("1 hour negated negative", "true"),
    ("Duration zero isZero", "true"),
    ("1 hour abs = 1 hour negated abs", "true"),
    ("(Set with: 1 hour with: 60 minutes) size", "1"),
    ("Duration fromString: '1:02:03:04'", "1:02:03:04"),
    ("'0:00:10:00' asDuration = 10 minutes", "true"),
    ("(1 hour max: 1 day) = 1 day", "true"),
]

TIMES = [
    ("Time hour: 14 minute: 5 second: 0", "2:05 pm"),
    ("Time hour: 10 minute: 20 second: 30", "10:20:30 am"),
    ("Time hour: 0 minute: 0 second: 0", "12:00 am"),
    ("Time noon", "12:00 pm"),
    ("Time midnight", "12:00 am"),
    ("Time hour: 12 minute: 30 second: 5", "12:30:05 pm"),
    # print24: 24 hours, always with seconds
    (T + " print24", "'14:05:00'"),
    ("(Time hour: 9 minute: 5 second: 3) print24", "'09:05:03'"),
    (T + " hour", "14"),
    (T + " hour24", "14"),
    (T + " hour12", "2"),
    (T + " minute", "5"),
    (T + " second", "0"),
    (T + " asSeconds", "50700"),
    (T + " hhmm24", "'1405'"),
    (T + " meridianAbbreviation", "'PM'"),
    ("Time fromSeconds: 3661", "1:01:01 am"),
    ("Time fromString: '14:05:30'", "2:05:30 pm"),
    ("Time fromString: '2:05 pm'", "2:05 pm"),
    ("'10:20' asTime", "10:20 am"),
    ("(Time hour: 10 minute: 0 second: 0) addSeconds: 90", "10:01:30 am"),
    ("(Time hour: 10 minute: 0 second: 0) addTime: 90 minutes", "11:30 am"),
    ("(Time hour: 1 minute: 2 second: 3) asDuration", "0:01:02:03"),
    ("(Time hour: 1 minute: 0 second: 0) < (Time hour: 2 minute: 0 second: 0)", "true"),
    ("(Time hour: 1 minute: 0 second: 0) = (Time fromSeconds: 3600)", "true"),
    ("Time now class", "Time"),
]

DATES = [
    ("Date newDay: 1 month: 3 year: 2024", "1 March 2024"),
    ("Date newDay: 1 month: #March year: 2024", "1 March 2024"),
    ("Date newDay: 15 month: 'apr' year: 1982", "15 April 1982"),
    ("Date year: 2024 month: 12 day: 25", "25 December 2024"),
    ("Date year: 2024 day: 60", "29 February 2024"),
    ("Date fromDays: 0", "1 January 1901"),
    (D + " year", "2024"),
    (D + " month", "3"),
    (D + " monthIndex", "3"),
    (D + " monthName", "#March"),
    (D + " dayOfMonth", "1"),
    (D + " dayOfWeek", "6"),
    (D + " dayOfWeekName", "#Friday"),
    (D + " dayOfYear", "61"),
    (D + " isLeapYear", "true"),
    (D + " daysInMonth", "31"),
    (D + " daysInYear", "366"),
    ("(Date year: 2023 month: 2 day: 1) daysInMonth", "28"),
    ("(Date year: 1900 month: 1 day: 1) isLeapYear", "false"),
    ("(Date year: 2000 month: 1 day: 1) isLeapYear", "true"),
    (D + " julianDayNumber", "2460371"),
    (D + " start", "2024-03-01T00:00:00+00:00"),
    # Date>>yyyymmdd is ISO 8601; mmddyyyy is `printFormat: #(2 1 3 $/ 1 1)`
    (D + " yyyymmdd", "'2024-03-01'"),
    (D + " mmddyyyy", "'3/1/2024'"),
    (D + " printFormat: #(3 2 1 $- 1 1 2)", "'2024-03-01'"),
    (D + " printFormat: #(1 2 3 $. 2 2)", "'1.Mar.24'"),
    (D + " printFormat: #(2 1 3 $  3 1)", "'March 1 2024'"),
    (D + " printString", "'1 March 2024'"),
    (D + " addDays: 30", "31 March 2024"),
    (D + " subtractDays: 1", "29 February 2024"),
    ("(Date year: 2024 month: 1 day: 31) addMonths: 1", "29 February 2024"),
    ("(Date year: 2024 month: 11 day: 15) addMonths: 3", "15 February 2025"),
    # Timespan>>-: a Date minus a Date is a Duration; plus a Duration, a Date
    ("(Date year: 2024 month: 3 day: 10) - " + D, "9:00:00:00"),
    ("(Date year: 2024 month: 3 day: 10) subtractDate: " + D, "9"),
    (D + " + 2 days", "3 March 2024"),
    (D + " - 1 day", "29 February 2024"),
    (D + " < (Date year: 2024 month: 3 day: 2)", "true"),
    (D + " = (Date newDay: 1 month: 3 year: 2024)", "true"),
    (D + " = (Date newDay: 2 month: 3 year: 2024)", "false"),
    ("(Set with: " + D + " with: (Date newDay: 1 month: 3 year: 2024)) size", "1"),
    ("{" + D + "}", "an Array(1 March 2024)"),
    # Date class>>readFrom: forms
    ("Date fromString: '2024-03-01'", "1 March 2024"),
    ("Date fromString: '1 March 2024'", "1 March 2024"),
    ("Date fromString: 'March 1, 2024'", "1 March 2024"),
    ("Date fromString: '3/1/2024'", "1 March 2024"),
    ("'2024-03-01' asDate", "1 March 2024"),
    ("Date nameOfMonth: 3", "#March"),
    ("Date nameOfDay: 1", "#Sunday"),
    ("Date daysInMonth: 2 forYear: 2023", "28"),
    ("Date daysInYear: 2024", "366"),
    ("Date today class", "Date"),
]

DATES_AND_TIMES = [
    (
        "DateAndTime year: 2024 month: 3 day: 1 hour: 10 minute: 20 second: 30 offset: 0 hours",
        "2024-03-01T10:20:30+00:00",
    ),
    (DT, "2024-03-01T10:20:30+02:00"),
    (
        "DateAndTime year: 2024 month: 3 day: 1 hour: 10 minute: 20 second: 30 "
        "offset: (5 hours + 30 minutes) negated",
        "2024-03-01T10:20:30-05:30",
    ),
    ("DateAndTime fromString: '2024-03-01T10:20:30+02:00'", "2024-03-01T10:20:30+02:00"),
    ("DateAndTime fromString: '2024-03-01T10:20:30.5+02:00'", "2024-03-01T10:20:30.5+02:00"),
    ("DateAndTime fromString: '2024-03-01T10:20:30Z'", "2024-03-01T10:20:30+00:00"),
    ("'1999-12-31T23:59:59+01:00' asDateAndTime", "1999-12-31T23:59:59+01:00"),
    (DT + " year", "2024"),
    (DT + " month", "3"),
    (DT + " dayOfMonth", "1"),
    (DT + " hour", "10"),
    (DT + " minute", "20"),
    (DT + " second", "30"),
    (DT + " offset", "0:02:00:00"),
    (DT + " dayOfWeekName", "#Friday"),
    (DT + " monthName", "#March"),
    (DT + " asDate", "1 March 2024"),
    (DT + " asTime", "10:20:30 am"),
    # the same instant in another offset
    (DT + " asUTC", "2024-03-01T08:20:30+00:00"),
    (DT + " offset: 0 hours", "2024-03-01T08:20:30+00:00"),
    (DT + " = (DateAndTime fromString: '2024-03-01T08:20:30Z')", "true"),
    (DT + " < (DateAndTime fromString: '2024-03-01T09:00:00Z')", "true"),
    (DT + " + 1 day", "2024-03-02T10:20:30+02:00"),
    (DT + " - 30 seconds", "2024-03-01T10:20:00+02:00"),
    (DT + " + (Duration hours: 14)", "2024-03-02T00:20:30+02:00"),
    (DT + " - (DateAndTime fromString: '2024-03-01T00:00:00+00:00')", "0:08:20:30"),
    ("(DateAndTime fromString: '2024-03-02T00:00:00Z') - " + DT, "0:15:39:30"),
    ("DateAndTime fromUnixTime: 0", "1970-01-01T00:00:00+00:00"),
    ("(DateAndTime fromUnixTime: 86400) asUnixTime", "86400"),
    (DT + " asUnixTime", "1709281230"),
    ("DateAndTime epoch", "1901-01-01T00:00:00+00:00"),
    ("(DateAndTime fromSeconds: 86400) asSeconds", "86400"),
    (DT + " midnight", "2024-03-01T00:00:00+02:00"),
    ("DateAndTime now class", "DateAndTime"),
]


@pytest.mark.parametrize(("code", "expected"), params(DURATIONS))
def test_durations(code: str, expected: str) -> None:
    check_print(code, expected)


@pytest.mark.parametrize(("code", "expected"), params(TIMES))
def test_times(code: str, expected: str) -> None:
    check_print(code, expected)


@pytest.mark.parametrize(("code", "expected"), params(DATES))
def test_dates(code: str, expected: str) -> None:
    check_print(code, expected)


@pytest.mark.parametrize(("code", "expected"), params(DATES_AND_TIMES))
def test_dates_and_times(code: str, expected: str) -> None:
    check_print(code, expected)


ERRORS = [
    ("Date newDay: 30 month: 2 year: 2024", "Error"),
    ("Date newDay: 1 month: 13 year: 2024", "Error"),
    ("Date fromString: 'not a date'", "Error"),
    ("1 day / 0", "ZeroDivide"),
    ("Date nameOfMonth: 13", "SubscriptOutOfBounds"),
]


@pytest.mark.parametrize(("code", "error_class"), params(ERRORS))
def test_chronology_errors(code: str, error_class: str) -> None:
    check_error(code, error_class)
