"""The emulator's own document host, in the role of Amazon's S3: report documents at the pre-signed URLs that
getReportDocument issues, fetched without an SP-API token (the signature is the authority) and refused as S3
refuses them (an expired, altered or unsigned URL is 403, an unknown document 404, in S3's XML)."""

from __future__ import annotations

from html import escape as _escape
from typing import TYPE_CHECKING

from flask import Blueprint, Response, request

from mockserver.domain.reports.documents import CONTENT_TYPE, PATH_PREFIX
from mockserver.ids import unique_id

if TYPE_CHECKING:
    from mockserver.app import Sandbox


def _xml_text(value: str) -> str:
    """Text as an XML element holds it (what xml.sax.saxutils.escape does, without importing XML)."""
    return _escape(value, quote=False)


def create_downloads_blueprint(sandbox: Sandbox) -> Blueprint:
    blueprint = Blueprint("documents", __name__, url_prefix=PATH_PREFIX.rstrip("/"))

    @blueprint.route("/<path:document_id>", methods=["GET", "HEAD"])
    def document(document_id: str) -> Response:
        request_id = unique_id().replace("-", "")[:16].upper()
        found = sandbox.reports.download(document_id, request.args.to_dict())
        if found.status != 200:
            fields = "".join(f"<{name}>{_xml_text(value)}</{name}>" for name, value in found.details)
            body = (
                '<?xml version="1.0" encoding="UTF-8"?>\n'
                f"<Error><Code>{found.code}</Code><Message>{_xml_text(found.message)}</Message>{fields}"
                f"<RequestId>{request_id}</RequestId><HostId>{request_id}</HostId></Error>"
            )
            return Response(
                body,
                status=found.status,
                content_type="application/xml",
                headers={"x-amz-request-id": request_id},
            )
        response = Response(found.body, content_type=CONTENT_TYPE, headers={"x-amz-request-id": request_id})
        if found.content_encoding:
            response.headers["Content-Encoding"] = found.content_encoding
        if found.etag:
            response.set_etag(found.etag)
        response.make_conditional(request, accept_ranges=True, complete_length=len(found.body))
        return response

    return blueprint


__all__ = ["create_downloads_blueprint"]
