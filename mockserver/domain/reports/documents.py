"""Report documents as Amazon serves them: JSON as Amazon's report service writes it (its Java pretty
printer), GZIP-compressed, kept in the store, and fetched from a pre-signed URL that needs no SP-API token and
expires five minutes after it was issued (S3's query-string authentication, checked on the sandbox clock).

The URL is signed with a key the store keeps (made once per data directory), so a URL stays good across a
restart and for every worker sharing the store, and one whose expiry or document was edited is refused.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import hmac
import json
import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from mockserver.store import Store

DOCUMENTS = "reports.documents"
SIGNING_KEY = ("reports", "signing-key")
URL_LIFETIME = 300  # seconds: "This URL expires after 5 minutes."
PATH_PREFIX = "/_documents/"
GZIP = "GZIP"
CONTENT_TYPE = "application/json; charset=UTF-8"
ALGORITHM = "AWS4-HMAC-SHA256"
_DATE_FORMAT = "%Y%m%dT%H%M%SZ"


def encode(document: Any) -> bytes:
    """JSON as Amazon's report documents are written: two-space indented objects, `"key" : value`, arrays
    on one line (`[ "A", "B" ]`, `[ {` ... `}, {` ... `} ]`), UTF-8."""
    parts: list[str] = []
    _write(document, 0, parts)
    return "".join(parts).encode()


def _write(value: Any, level: int, out: list[str]) -> None:
    if isinstance(value, dict):
        if not value:
            out.append("{ }")
            return
        inner = "\n" + "  " * (level + 1)
        out.append("{")
        separator = ""
        for key, item in value.items():
            out.append(separator)
            out.append(inner)
            out.append(json.dumps(str(key), ensure_ascii=False))
            out.append(" : ")
            _write(item, level + 1, out)
            separator = ","
        out.append("\n" + "  " * level + "}")
    elif isinstance(value, list | tuple):
        if not value:
            out.append("[ ]")
            return
        out.append("[ ")
        for index, item in enumerate(value):
            if index:
                out.append(", ")
            _write(item, level, out)
        out.append(" ]")
    else:
        out.append(json.dumps(value, ensure_ascii=False))


def document_id(region: str, account: str, report_id: str) -> str:
    """The report's document id, Amazon's shape, the same whichever process makes the document."""
    name = uuid.uuid5(uuid.NAMESPACE_URL, f"vendor-sandbox:{account}:{report_id}")
    return f"amzn1.spdoc.1.4.{region}.{name}"


def store_document(store: Store, document_id: str, account: str, report_id: str, content: Any) -> None:
    body = gzip.compress(encode(content), mtime=0)
    store.put(
        DOCUMENTS,
        document_id,
        {
            "account": account,
            "reportId": report_id,
            "compressionAlgorithm": GZIP,
            "body": base64.b64encode(body).decode(),
            "etag": hashlib.md5(body, usedforsecurity=False).hexdigest(),
        },
    )


def delete_document(store: Store, document_id: str) -> None:
    store.delete(DOCUMENTS, document_id)


def _signing_key(store: Store) -> bytes:
    stored = store.get(*SIGNING_KEY)
    if stored is None:
        store.put_if_absent(*SIGNING_KEY, {"key": secrets.token_hex(32)})
        stored = store.get(*SIGNING_KEY) or {}
    return bytes.fromhex(str(stored["key"]))


def _signature(key: bytes, document: str, issued: str, expires: str, encoding: str) -> str:
    message = f"{ALGORITHM}\n{document}\n{issued}\n{expires}\n{encoding}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def presigned_query(store: Store, document: str, issued: datetime, content_encoding: bool) -> dict[str, str]:
    """The query of the document's pre-signed URL, issued at `issued` (sandbox time)."""
    stamp = issued.astimezone(UTC).strftime(_DATE_FORMAT)
    encoding = "gzip" if content_encoding else ""
    query = {
        "X-Amz-Algorithm": ALGORITHM,
        "X-Amz-Date": stamp,
        "X-Amz-Expires": str(URL_LIFETIME),
        "X-Amz-SignedHeaders": "host",
    }
    if encoding:
        query["response-content-encoding"] = encoding
    query["X-Amz-Signature"] = _signature(_signing_key(store), document, stamp, str(URL_LIFETIME), encoding)
    return query


@dataclass(frozen=True)
class Download:
    """What the document URL answers: the document, or S3's refusal (status, code, message, more fields)."""

    status: int
    body: bytes = b""
    content_encoding: str | None = None
    etag: str = ""
    code: str = ""
    message: str = ""
    details: tuple[tuple[str, str], ...] = ()


def download(store: Store, document: str, query: dict[str, str], now: datetime) -> Download:
    """The document behind a pre-signed URL, checked as S3 checks one: signed, unexpired, existing."""
    signature = query.get("X-Amz-Signature")
    stamp = query.get("X-Amz-Date")
    expires = query.get("X-Amz-Expires")
    if not signature or not stamp or not expires or query.get("X-Amz-Algorithm") != ALGORITHM:
        return Download(
            403,
            code="AccessDenied",
            message="Query-string authentication version 4 requires the X-Amz-Algorithm, X-Amz-Credential, "
            "X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders, and X-Amz-Expires parameters.",
        )
    encoding = query.get("response-content-encoding", "")
    expected = _signature(_signing_key(store), document, stamp, expires, encoding)
    if not hmac.compare_digest(signature, expected):
        return Download(
            403,
            code="SignatureDoesNotMatch",
            message="The request signature we calculated does not match the signature you provided. Check "
            "your key and signing method.",
        )
    issued = datetime.strptime(stamp, _DATE_FORMAT).replace(tzinfo=UTC)
    expiry = issued.timestamp() + int(expires)
    if now.timestamp() > expiry:
        return Download(
            403,
            code="AccessDenied",
            message="Request has expired",
            details=(
                ("X-Amz-Expires", expires),
                ("Expires", datetime.fromtimestamp(expiry, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")),
                ("ServerTime", now.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")),
            ),
        )
    stored = store.get(DOCUMENTS, document)
    if stored is None:
        return Download(
            404, code="NoSuchKey", message="The specified key does not exist.", details=(("Key", document),)
        )
    return Download(
        200,
        body=base64.b64decode(stored["body"]),
        content_encoding="gzip" if encoding == "gzip" else None,
        etag=str(stored.get("etag", "")),
    )


__all__ = [
    "CONTENT_TYPE",
    "DOCUMENTS",
    "GZIP",
    "PATH_PREFIX",
    "URL_LIFETIME",
    "Download",
    "delete_document",
    "document_id",
    "download",
    "encode",
    "presigned_query",
    "store_document",
]
