"""Reports API handlers: thin, stateful, answering bare (the Reports API has no `payload` envelope)."""

from __future__ import annotations

from typing import Any

from mockserver.domain.reports.service import ReportsWorld
from mockserver.handlers.common import account_of, json_body, stateful
from mockserver.pipeline.gateway import Call, Handler

API_ID = "reports/2021-06-30"


def reports_handlers(world: ReportsWorld) -> dict[str, Handler]:
    """Handlers by operationId."""

    def create_report(call: Call) -> tuple[int, Any]:
        return 202, {"reportId": world.create_report(account_of(call), json_body(call))}

    def get_reports(call: Call) -> tuple[int, Any]:
        return 200, world.list_reports(account_of(call), call.request.query)

    def get_report(call: Call) -> tuple[int, Any]:
        return 200, world.get_report(account_of(call), str(call.request.path["reportId"]))

    def cancel_report(call: Call) -> tuple[int, Any]:
        world.cancel_report(account_of(call), str(call.request.path["reportId"]))
        return 200, None

    def get_report_document(call: Call) -> tuple[int, Any]:
        document = str(call.request.path["reportDocumentId"])
        encoding = bool(call.request.query.get("enableContentEncodingUrlHeader"))
        return 200, world.report_document(account_of(call), document, call.origin, encoding)

    def create_report_schedule(call: Call) -> tuple[int, Any]:
        return 201, {"reportScheduleId": world.create_schedule(account_of(call), json_body(call))}

    def get_report_schedules(call: Call) -> tuple[int, Any]:
        return 200, world.list_schedules(account_of(call), list(call.request.query["reportTypes"]))

    def get_report_schedule(call: Call) -> tuple[int, Any]:
        return 200, world.get_schedule(account_of(call), str(call.request.path["reportScheduleId"]))

    def cancel_report_schedule(call: Call) -> tuple[int, Any]:
        world.cancel_schedule(account_of(call), str(call.request.path["reportScheduleId"]))
        return 200, None

    answers = {
        "createReport": create_report,
        "getReports": get_reports,
        "getReport": get_report,
        "cancelReport": cancel_report,
        "getReportDocument": get_report_document,
        "createReportSchedule": create_report_schedule,
        "getReportSchedules": get_report_schedules,
        "getReportSchedule": get_report_schedule,
        "cancelReportSchedule": cancel_report_schedule,
    }
    return {operation_id: stateful(answer, envelope=False) for operation_id, answer in answers.items()}
