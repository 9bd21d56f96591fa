"""Report schedules: a report type, its marketplaces and options, and an ISO 8601 period. As the sandbox clock
passes a schedule's `nextReportCreationTime`, the schedule creates its report (created at that time, with
its reportScheduleId) and the time moves on by the period (P1M by calendar months). A new schedule of the
same report type and marketplaces cancels and replaces the old one, as Amazon's do.

The report a schedule creates covers what has just ended: the last whole reportPeriod (DAY: yesterday; WEEK:
last Sunday to Saturday; ...) for the period reports, the last whole hour for the real-time reports (the
hour before it for traffic, whose data comes an hour late); the forecast, coupon and promotion reports take
their ranges as a requested one does. When the clock jumps, the reports of the last 90 days (Amazon keeps
reports no longer) are created, at most SCHEDULE_CATCH_UP of them.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

from mockserver.domain.clock import parse_iso
from mockserver.domain.errors import InvalidInput, NotFound
from mockserver.domain.reports import periods
from mockserver.domain.reports import reports as report_log
from mockserver.domain.reports.demand import number
from mockserver.domain.reports.report_types import HOURS, PERIOD, REAL_TIME_TRAFFIC, REPORT_TYPES
from mockserver.domain.reports.specification import type_and_marketplaces
from mockserver.domain.reports.state import SCHEDULES, ReportsState
from mockserver.ids import unique_id

SCHEDULE_CATCH_UP = 200
CREATION_TOLERANCE = timedelta(minutes=5)  # a nextReportCreationTime this far in the past is taken as now
_PERIOD = re.compile(r"P(?:(\d+)M|(\d+)D)$|PT(?:(\d+)H|(\d+)M)$")


def period_step(period: str) -> tuple[int, timedelta]:
    """(calendar months, time) one period adds."""
    match = _PERIOD.match(period)
    if match is None:
        raise InvalidInput(f"period: {period!r} is not an ISO 8601 period")
    months, days, hours, minutes = match.groups()
    if months:
        return int(months), timedelta(0)
    if days:
        return 0, timedelta(days=int(days))
    if hours:
        return 0, timedelta(hours=int(hours))
    return 0, timedelta(minutes=int(minutes or 0))


def add_period(moment: datetime, period: str, count: int = 1) -> datetime:
    months, step = period_step(period)
    if not months:
        return moment + step * count
    index = moment.year * 12 + moment.month - 1 + months * count
    year, month = divmod(index, 12)
    day = moment.day
    while True:  # the 31st of a shorter month is its last day
        try:
            return moment.replace(year=year, month=month + 1, day=day)
        except ValueError:
            day -= 1


def _collection(account: str) -> str:
    return f"{SCHEDULES}:{account}"


def create_schedule(state: ReportsState, account: str, body: dict[str, Any], now: datetime) -> str:
    report_type, marketplaces = type_and_marketplaces(state.account(account), body)
    period = str(body.get("period"))
    period_step(period)
    next_time = now
    if body.get("nextReportCreationTime"):
        try:
            next_time = parse_iso(str(body["nextReportCreationTime"]))
        except (ValueError, OverflowError):
            raise InvalidInput(
                f"nextReportCreationTime: {body['nextReportCreationTime']!r} is not an ISO 8601 date-time"
            ) from None
        if next_time < now - CREATION_TOLERANCE:
            raise InvalidInput(
                f"rule schedule-next-creation-time: nextReportCreationTime {next_time:%Y-%m-%dT%H:%M:%SZ} is "
                f"in the past (now is {now:%Y-%m-%dT%H:%M:%SZ})"
            )
        next_time = max(next_time, now)
    collection = _collection(account)
    for key, existing in list(state.store.scan(collection)):
        if existing["reportType"] == report_type and sorted(existing["marketplaceIds"]) == sorted(
            marketplaces
        ):
            state.store.delete(collection, key)  # replaced, as Amazon replaces it
    while True:
        schedule_id = number(unique_id(), digits=11)
        schedule: dict[str, Any] = {
            "reportScheduleId": schedule_id,
            "reportType": report_type,
            "marketplaceIds": marketplaces,
            "period": period,
            "nextReportCreationTime": next_time.replace(microsecond=0).timestamp(),
        }
        options = body.get("reportOptions")
        if isinstance(options, dict) and options:
            schedule["reportOptions"] = {str(key): str(value) for key, value in options.items()}
        if state.store.put_if_absent(collection, schedule_id, schedule):
            return schedule_id


def view(schedule: dict[str, Any]) -> dict[str, Any]:
    found: dict[str, Any] = {
        "reportScheduleId": schedule["reportScheduleId"],
        "reportType": schedule["reportType"],
        "marketplaceIds": list(schedule["marketplaceIds"]),
    }
    if schedule.get("reportOptions"):
        found["reportOptions"] = dict(schedule["reportOptions"])
    found["period"] = schedule["period"]
    found["nextReportCreationTime"] = report_log.amazon_time(schedule["nextReportCreationTime"])
    return found


def run_schedules(state: ReportsState, account: str, now: datetime) -> None:
    """Create the reports the account's schedules owe by `now`, and move each schedule on."""
    collection = _collection(account)
    stamp = now.timestamp()
    for key, schedule in list(state.store.scan(collection)):
        if schedule["nextReportCreationTime"] > stamp:
            continue
        due, following = due_times(schedule, stamp)
        for moment in due:
            report_log.create(
                state,
                account,
                scheduled_request(schedule, moment),
                moment.timestamp(),
                schedule_id=schedule["reportScheduleId"],
            )
        if state.store.get(collection, key) is not None:  # not cancelled meanwhile
            state.store.put(collection, key, {**schedule, "nextReportCreationTime": following.timestamp()})


def due_times(schedule: dict[str, Any], stamp: float) -> tuple[list[datetime], datetime]:
    """The creation times a schedule owes by `stamp` (those within the reports' retention, at most
    SCHEDULE_CATCH_UP, the latest), and its next creation time after them."""
    start = datetime.fromtimestamp(schedule["nextReportCreationTime"], UTC)
    oldest = stamp - report_log.RETENTION.total_seconds()
    months, step = period_step(schedule["period"])
    if not months:
        seconds = step.total_seconds()
        last = int((stamp - start.timestamp()) // seconds)
        first = max(0, last - SCHEDULE_CATCH_UP + 1, int(-(-(oldest - start.timestamp()) // seconds)))
        due = [start + step * index for index in range(first, last + 1)]
        return due, start + step * (last + 1)
    found: list[datetime] = []
    count = 0
    moment = start
    while moment.timestamp() <= stamp:
        if moment.timestamp() >= oldest:
            found.append(moment)
        count += 1
        moment = add_period(start, schedule["period"], count)
    return found[-SCHEDULE_CATCH_UP:], moment


def scheduled_request(schedule: dict[str, Any], moment: datetime) -> dict[str, Any]:
    """The request of the report a schedule creates at `moment`: its range is what has just ended."""
    report_type = REPORT_TYPES[schedule["reportType"]]
    request: dict[str, Any] = {
        "reportType": report_type.name,
        "marketplaceIds": list(schedule["marketplaceIds"]),
    }
    options = dict(schedule.get("reportOptions") or {})
    if options:
        request["reportOptions"] = options
    if report_type.dates == PERIOD and options.get("reportPeriod") in periods.PERIODS:
        first, last = periods.last_ended_period(moment.date(), options["reportPeriod"])
        request["dataStartTime"] = f"{first.isoformat()}T00:00:00Z"
        request["dataEndTime"] = f"{last.isoformat()}T23:59:59Z"
    elif report_type.dates == HOURS:
        end = moment.replace(minute=0, second=0, microsecond=0)
        if report_type is REAL_TIME_TRAFFIC:
            end -= timedelta(hours=1)
        request["dataStartTime"] = (end - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
        request["dataEndTime"] = end.strftime("%Y-%m-%dT%H:%M:%SZ")
    return request


def get_schedule(state: ReportsState, account: str, schedule_id: str) -> dict[str, Any]:
    schedule = state.store.get(_collection(account), schedule_id)
    if schedule is None:
        raise NotFound(f"No report schedule {schedule_id}.", "Report schedule not found.")
    return view(schedule)


def list_schedules(state: ReportsState, account: str, report_types: list[str]) -> dict[str, Any]:
    found = [
        view(schedule)
        for _, schedule in state.store.scan(_collection(account))
        if schedule["reportType"] in report_types
    ]
    found.sort(key=lambda item: (item["reportType"], item["reportScheduleId"]))
    return {"reportSchedules": found}


def cancel_schedule(state: ReportsState, account: str, schedule_id: str) -> None:
    if not state.store.delete(_collection(account), schedule_id):
        raise NotFound(f"No report schedule {schedule_id}.", "Report schedule not found.")


__all__ = [
    "SCHEDULE_CATCH_UP",
    "add_period",
    "cancel_schedule",
    "create_schedule",
    "due_times",
    "get_schedule",
    "list_schedules",
    "run_schedules",
    "scheduled_request",
    "view",
]
