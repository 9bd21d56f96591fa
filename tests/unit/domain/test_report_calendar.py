"""The vendor reports' calendar and the model's primitives, without HTTP: Sunday-to-Saturday weeks, calendar
months, quarters and years; spans and lookbacks; ISO 8601 schedule periods; hours that add up to their day;
Amazon's document JSON."""

from __future__ import annotations

import itertools
import json
from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mockserver.domain.reports import periods
from mockserver.domain.reports.demand import split_by_hour, uniforms
from mockserver.domain.reports.documents import encode
from mockserver.domain.reports.schedules import add_period, due_times

DAYS = st.dates(min_value=date(2001, 1, 1), max_value=date(2190, 12, 31))


@given(DAYS, st.sampled_from(periods.PERIODS))
def test_every_day_lies_in_exactly_one_period_bounded_by_its_first_and_last_day(
    day: date, period: str
) -> None:
    first, last = periods.period_start(day, period), periods.period_end(day, period)
    assert first <= day <= last
    assert periods.period_start(last, period) == first
    assert periods.next_period_start(day, period) == last + timedelta(days=1)
    if period == periods.WEEK:
        assert first.strftime("%A") == "Sunday" and last.strftime("%A") == "Saturday"
    if period == periods.QUARTER:
        assert first.month in (1, 4, 7, 10) and first.day == 1


@given(DAYS, DAYS, st.sampled_from(periods.PERIODS))
def test_periods_between_tile_the_range_without_gaps(one: date, other: date, period: str) -> None:
    start, end = min(one, other), max(one, other)
    if (end - start).days > 4000:
        end = start + timedelta(days=4000)
    found = periods.periods_between(start, end, period)
    assert found[0][0] == periods.period_start(start, period)
    assert found[-1][1] == periods.period_end(end, period)
    assert all(left[1] + timedelta(days=1) == right[0] for left, right in itertools.pairwise(found))
    assert periods.count_periods(start, end, period) == len(found)


def test_the_last_ended_period_is_the_whole_one_before_today() -> None:
    wednesday = date(2024, 6, 12)
    assert periods.last_ended_period(wednesday, periods.WEEK) == (date(2024, 6, 2), date(2024, 6, 8))
    assert periods.last_ended_period(wednesday, periods.MONTH) == (date(2024, 5, 1), date(2024, 5, 31))
    assert periods.last_ended_period(wednesday, periods.QUARTER) == (date(2024, 1, 1), date(2024, 3, 31))
    assert periods.last_ended_period(wednesday, periods.YEAR) == (date(2023, 1, 1), date(2023, 12, 31))
    assert periods.last_ended_period(wednesday, periods.DAY) == (date(2024, 6, 11), date(2024, 6, 11))


def test_lookbacks_count_whole_periods_back_from_the_current_one() -> None:
    today = date(2024, 6, 12)
    assert periods.shift_periods(today, periods.DAY, -1460) == today - timedelta(days=1460)
    assert periods.shift_periods(today, periods.MONTH, -48) == date(2020, 6, 1)
    assert periods.shift_periods(today, periods.QUARTER, -16) == date(2020, 4, 1)
    assert periods.shift_periods(today, periods.YEAR, -4) == date(2020, 1, 1)
    assert periods.shift_periods(today, periods.WEEK, -208) == date(2024, 6, 9) - timedelta(weeks=208)


def test_schedule_periods_add_calendar_months_and_fixed_times() -> None:
    start = datetime(2024, 1, 31, 10, tzinfo=UTC)
    assert add_period(start, "P1M") == datetime(2024, 2, 29, 10, tzinfo=UTC)
    assert add_period(start, "P1M", 2) == datetime(2024, 3, 31, 10, tzinfo=UTC)
    assert add_period(start, "PT5M", 3) == start + timedelta(minutes=15)
    assert add_period(start, "PT84H") == start + timedelta(hours=84)
    assert add_period(start, "P14D") == start + timedelta(days=14)


def test_a_schedule_behind_by_years_catches_up_on_the_retained_days_only() -> None:
    start = datetime(2024, 1, 1, tzinfo=UTC)
    schedule = {"nextReportCreationTime": start.timestamp(), "period": "PT5M"}
    now = start + timedelta(days=3650, minutes=2)
    due, following = due_times(schedule, now.timestamp())
    assert len(due) == 200  # the newest, never a hundred thousand
    assert due[-1] == start + timedelta(days=3650) and following == due[-1] + timedelta(minutes=5)
    monthly = {"nextReportCreationTime": start.timestamp(), "period": "P1M"}
    due, following = due_times(monthly, (start + timedelta(days=200)).timestamp())
    assert due == [datetime(2024, month, 1, tzinfo=UTC) for month in (5, 6, 7)]  # within 90 days
    assert following == datetime(2024, 8, 1, tzinfo=UTC)


@given(st.integers(min_value=0, max_value=100_000), st.floats(min_value=0, max_value=0.9999))
def test_hours_add_up_to_their_day(total: int, phase: float) -> None:
    hours = split_by_hour(total, phase)
    assert len(hours) == 24 and sum(hours) == total and min(hours) >= 0


def test_draws_are_a_pure_function_of_their_key() -> None:
    assert uniforms(1, "acme-na", "B0X", 738000) == uniforms(1, "acme-na", "B0X", 738000)
    assert uniforms(1, "acme-na", "B0X", 738000) != uniforms(2, "acme-na", "B0X", 738000)
    assert all(0 <= value < 1 for value in uniforms("any"))


def test_documents_are_written_as_amazons_report_service_writes_them() -> None:
    document = {
        "reportSpecification": {"marketplaceIds": ["ATVPDKIKX0DER"], "reportOptions": {}},
        "rows": [{"asin": "B0X", "units": 1, "amount": 1.5}, {"asin": "B0Y", "units": 0, "amount": 0.0}],
        "none": [],
    }
    text = encode(document).decode()
    assert text == (
        "{\n"
        '  "reportSpecification" : {\n'
        '    "marketplaceIds" : [ "ATVPDKIKX0DER" ],\n'
        '    "reportOptions" : { }\n'
        "  },\n"
        '  "rows" : [ {\n'
        '    "asin" : "B0X",\n'
        '    "units" : 1,\n'
        '    "amount" : 1.5\n'
        "  }, {\n"
        '    "asin" : "B0Y",\n'
        '    "units" : 0,\n'
        '    "amount" : 0.0\n'
        "  } ],\n"
        '  "none" : [ ]\n'
        "}"
    )
    assert json.loads(text) == document


@pytest.mark.parametrize("value", ["Ünïcode \u2013 \u201cquotes\u201d", 'a "b" \\ c', "\u0001"])
def test_documents_keep_any_text_as_json_reads_it(value: str) -> None:
    assert json.loads(encode({"name": value})) == {"name": value}
