"""Reports as the Reports API keeps them: created IN_QUEUE, IN_PROGRESS from the middle of the processing
time, then DONE, FATAL or CANCELLED when it has passed, all on the sandbox clock; cancelled on request only
while IN_QUEUE; listed newest first with every filter of getReports; kept 90 days, as Amazon keeps them.

A report's outcome is decided by the first call that finds its processing time over (`settle`): the report
and its document are then stored, and read back unchanged ever after.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from mockserver.domain.clock import parse_iso
from mockserver.domain.errors import InvalidInput, NotFound
from mockserver.domain.paging import encode_token, invalid_next_token, listing_state
from mockserver.domain.reports.demand import number
from mockserver.domain.reports.documents import DOCUMENTS, delete_document, document_id, store_document
from mockserver.domain.reports.rules import CANCELLED, DONE, FATAL
from mockserver.domain.reports.state import PENDING, REPORTS, ReportsState
from mockserver.ids import unique_id

if TYPE_CHECKING:
    from mockserver.domain.reports.processing import Batch

IN_QUEUE = "IN_QUEUE"
IN_PROGRESS = "IN_PROGRESS"
RETENTION = timedelta(days=90)  # "Reports are retained for a maximum of 90 days."
DEFAULT_PAGE_SIZE = 10
_LISTING = "reports"
_FILTERS = ("reportTypes", "processingStatuses", "marketplaceIds", "pageSize", "createdSince", "createdUntil")


def _batch(state: ReportsState, account: str) -> Batch:
    """What the reports decided in one call share. The report builders are imported with the first call
    that may decide a report, not with the server: they are a tenth of its start-up's imports."""
    from mockserver.domain.reports.processing import Batch

    return Batch(state, account)


def amazon_time(timestamp: float) -> str:
    """Date-times as the Reports API writes them: `2021-11-03T09:52:55+00:00`."""
    return datetime.fromtimestamp(int(timestamp), UTC).isoformat()


def _collection(account: str) -> str:
    return f"{REPORTS}:{account}"


def create(
    state: ReportsState,
    account: str,
    request: dict[str, Any],
    created: float,
    *,
    schedule_id: str | None = None,
) -> str:
    """Store a new report (IN_QUEUE) and return its id. A schedule's report has an id made from the schedule
    and its time, so a second process running the same schedule makes the same report, not another."""
    processing = state.processing_time
    record: dict[str, Any] = {
        "reportType": request["reportType"],
        "request": request,
        "created": created,
        "startAt": created + processing / 2,
        "endAt": created + processing,
        "status": IN_QUEUE,
    }
    if schedule_id is not None:
        record["reportScheduleId"] = schedule_id
        report_id = number(account, schedule_id, int(created), digits=12)
        if not state.store.put_if_absent(_collection(account), report_id, {**record, "reportId": report_id}):
            return report_id
    else:
        while True:
            report_id = number(unique_id(), digits=12)
            if state.store.put_if_absent(_collection(account), report_id, {**record, "reportId": report_id}):
                break
    pending = state.store.get(PENDING, account) or {"due": {}}
    pending["due"][report_id] = record["endAt"]
    state.store.put(PENDING, account, pending)
    return report_id


def status_at(record: dict[str, Any], now: float) -> str:
    if record["status"] != IN_QUEUE:
        return str(record["status"])
    if now < record["startAt"]:
        return IN_QUEUE
    return IN_PROGRESS


def settle(state: ReportsState, account: str, now: float) -> None:
    """Decide every report of the account whose processing time is over, oldest first."""
    pending = state.store.get(PENDING, account)
    if not pending or not pending.get("due"):
        return
    due = sorted((at, report_id) for report_id, at in pending["due"].items() if at <= now)
    if not due:
        return
    collection = _collection(account)
    batch = _batch(state, account)
    for _, report_id in due:
        record = state.store.get(collection, report_id)
        if record is not None and record["status"] == IN_QUEUE:
            _decide(state, account, record, batch)
        del pending["due"][report_id]
    state.store.put(PENDING, account, pending)


def _decide(state: ReportsState, account: str, record: dict[str, Any], batch: Batch) -> dict[str, Any]:
    """Process a report whose time is over and store it with its outcome (and its document)."""
    from mockserver.domain.reports.processing import produce  # loaded by `_batch` already

    report_id = record["reportId"]
    created = datetime.fromtimestamp(int(record["created"]), UTC)
    outcome = produce(state, account, record["request"], created, batch)
    record["status"] = outcome.status
    record["processed"] = True
    if outcome.rule:
        record["rule"] = outcome.rule
    if outcome.document is not None:
        record["reportDocumentId"] = document_id(state.account(account).region, account, report_id)
        store_document(state.store, record["reportDocumentId"], account, report_id, outcome.document)
    state.store.put(_collection(account), report_id, record)
    return record


def _overdue(
    state: ReportsState, account: str, record: dict[str, Any], now: float, batch: Batch
) -> dict[str, Any]:
    """A report read after its processing time is decided then, even if the index of reports still processing
    lost it (two processes writing the index at once): no report stays IN_PROGRESS for ever."""
    if record["status"] == IN_QUEUE and record["endAt"] <= now:
        return _decide(state, account, record, batch)
    return record


def view(record: dict[str, Any], now: float) -> dict[str, Any]:
    """The Report of getReport and getReports."""
    status = status_at(record, now)
    request = record["request"]
    created = amazon_time(record["created"])
    report: dict[str, Any] = {
        "marketplaceIds": list(request.get("marketplaceIds") or []),
        "reportId": record["reportId"],
        "reportType": record["reportType"],
        "dataStartTime": _data_time(request.get("dataStartTime"), created),
        "dataEndTime": _data_time(request.get("dataEndTime"), created),
    }
    if record.get("reportScheduleId"):
        report["reportScheduleId"] = record["reportScheduleId"]
    report["createdTime"] = created
    report["processingStatus"] = status
    if status == IN_PROGRESS or record.get("processed"):
        report["processingStartTime"] = amazon_time(record["startAt"])
    if record.get("processed"):
        report["processingEndTime"] = amazon_time(record["endAt"])
    if status in (DONE, FATAL) and record.get("reportDocumentId"):
        report["reportDocumentId"] = record["reportDocumentId"]
    return report


def _data_time(text: Any, default: str) -> str:
    """A requested date-time as Amazon echoes it (in UTC); the default, as Amazon's, is the creation time."""
    if not text:
        return default
    return parse_iso(str(text)).replace(microsecond=0).isoformat()


def _expired(record: dict[str, Any], now: float) -> bool:
    return bool(record["created"] < now - RETENTION.total_seconds())


def _forget(state: ReportsState, account: str, record: dict[str, Any]) -> None:
    state.store.delete(_collection(account), record["reportId"])
    if record.get("reportDocumentId"):
        delete_document(state.store, record["reportDocumentId"])


def get(state: ReportsState, account: str, report_id: str, now: float) -> dict[str, Any]:
    record = state.store.get(_collection(account), report_id)
    if record is None or _expired(record, now):
        if record is not None:
            _forget(state, account, record)
        raise NotFound(f"No report {report_id}.", "Report not found.")
    return view(_overdue(state, account, record, now, _batch(state, account)), now)


def cancel(state: ReportsState, account: str, report_id: str, now: float) -> None:
    collection = _collection(account)
    record = state.store.get(collection, report_id)
    if record is None or _expired(record, now):
        raise NotFound(f"No report {report_id}.", "Report not found.")
    record = _overdue(state, account, record, now, _batch(state, account))
    status = status_at(record, now)
    if status != IN_QUEUE:
        raise InvalidInput(
            f"rule report-cancel-in-queue: report {report_id} is {status}; only a report IN_QUEUE can be "
            "cancelled."
        )
    record["status"] = CANCELLED
    record["cancelledAt"] = now
    state.store.put(collection, report_id, record)
    pending = state.store.get(PENDING, account) or {"due": {}}
    if pending["due"].pop(report_id, None) is not None:
        state.store.put(PENDING, account, pending)


def document_owner(state: ReportsState, account: str, document: str) -> dict[str, Any]:
    """The report whose document this is, if it is the account's (another's is as unknown as none)."""
    stored = state.store.get(DOCUMENTS, document)
    if stored is None or stored.get("account") != account:
        raise NotFound(f"No report document {document}.", "Report document not found.")
    record = state.store.get(_collection(account), str(stored["reportId"]))
    if record is None:
        raise NotFound(f"No report document {document}.", "Report document not found.")
    return record


def list_reports(state: ReportsState, account: str, query: dict[str, Any], now: float) -> dict[str, Any]:
    """getReports: either reportTypes (with the other filters) or a nextToken alone."""
    token = query.get("nextToken")
    if token:
        others = [name for name in _FILTERS if name in query]
        if others:
            raise InvalidInput(
                f"rule reports-next-token-alone: nextToken must be the only parameter; also sent: "
                f"{', '.join(others)}"
            )
        filters = listing_state(token, _LISTING, account)
        if filters is None or not isinstance(filters.get("after"), list):
            raise invalid_next_token()
    else:
        if not query.get("reportTypes"):
            raise InvalidInput("rule reports-filter-required: either reportTypes or nextToken is required")
        since = _query_time(query, "createdSince", now - RETENTION.total_seconds())
        until = _query_time(query, "createdUntil", now)
        if since > until:
            raise InvalidInput(
                f"rule reports-created-window: createdSince {amazon_time(since)} is after createdUntil "
                f"{amazon_time(until)}"
            )
        filters = {
            "kind": _LISTING,
            "account": account,
            "types": list(query["reportTypes"]),
            "statuses": list(query.get("processingStatuses") or []),
            "marketplaces": list(query.get("marketplaceIds") or []),
            "since": since,
            "until": until,
            "size": int(query.get("pageSize") or DEFAULT_PAGE_SIZE),
        }
    matches: list[tuple[float, str, dict[str, Any]]] = []
    batch = _batch(state, account)
    for key, scanned in state.store.scan(_collection(account)):
        if _expired(scanned, now):
            _forget(state, account, scanned)
            continue
        record = _overdue(state, account, scanned, now, batch)
        if not _matches(record, filters, now):
            continue
        matches.append((record["created"], key, record))
    matches.sort(key=lambda item: (item[0], item[1]), reverse=True)
    after = filters.get("after")
    if after is not None:
        last = (float(after[0]), str(after[1]))
        matches = [item for item in matches if (item[0], item[1]) < last]
    size = int(filters["size"])
    page = matches[:size]
    payload: dict[str, Any] = {"reports": [view(record, now) for _, _, record in page]}
    if len(matches) > size:
        payload["nextToken"] = encode_token({**filters, "after": [page[-1][0], page[-1][1]]})
    return payload


def _query_time(query: dict[str, Any], name: str, default: float) -> float:
    text = query.get(name)
    if not text:
        return default
    try:
        return parse_iso(str(text)).timestamp()
    except (ValueError, OverflowError):
        raise InvalidInput(f"{name}: {text!r} is not an ISO 8601 date-time") from None


def _matches(record: dict[str, Any], filters: dict[str, Any], now: float) -> bool:
    if record["reportType"] not in filters["types"]:
        return False
    if filters["statuses"] and status_at(record, now) not in filters["statuses"]:
        return False
    marketplaces = filters["marketplaces"]
    if marketplaces and not set(marketplaces) & set(record["request"].get("marketplaceIds") or []):
        return False
    created = int(record["created"])  # createdTime has whole seconds: the filters compare those
    return bool(filters["since"] <= created <= filters["until"])


__all__ = [
    "DEFAULT_PAGE_SIZE",
    "IN_PROGRESS",
    "IN_QUEUE",
    "RETENTION",
    "amazon_time",
    "cancel",
    "create",
    "document_owner",
    "get",
    "list_reports",
    "settle",
    "status_at",
    "view",
]
