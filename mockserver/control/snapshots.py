"""Admin calls for snapshots (mockserver/snapshots.py): the whole world saved under a name and restored.

- `GET /_sandbox/snapshots`: the saved snapshots (name, when, the sandbox clock then, counts, size).
- `POST /_sandbox/snapshots` `{"name": "...", "replace": false}`: save the world now (201).
- `GET /_sandbox/snapshots/<name>`: one snapshot's description.
- `POST /_sandbox/snapshots/<name>/restore`: replace the world with it (tokens, journal and faults stay).
- `DELETE /_sandbox/snapshots/<name>`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from flask import Blueprint, jsonify
from flask.typing import ResponseReturnValue

from mockserver.control.inputs import json_object
from mockserver.snapshots import (
    SnapshotDirectory,
    SnapshotError,
    SnapshotExists,
    SnapshotMismatch,
    SnapshotNotFound,
    SnapshotStorageError,
)

if TYPE_CHECKING:
    from mockserver.app import Sandbox


def _error(error: SnapshotError) -> ResponseReturnValue:
    if isinstance(error, SnapshotNotFound):
        status, code, message = 404, "NotFound", "The requested resource was not found."
    elif isinstance(error, SnapshotExists | SnapshotMismatch):
        status, code, message = 409, "Conflict", "The snapshot cannot be used that way."
    elif isinstance(error, SnapshotStorageError):
        status, code, message = 500, "InternalFailure", "The snapshots directory cannot be used."
    else:
        status, code, message = 400, "InvalidInput", "Invalid snapshot request."
    return jsonify({"errors": [{"code": code, "message": message, "details": str(error)}]}), status


def create_snapshots_blueprint(sandbox: Sandbox) -> Blueprint:
    blueprint = Blueprint("snapshots", __name__, url_prefix="/_sandbox")
    directory = SnapshotDirectory(sandbox.settings.snapshot_directory)

    @blueprint.get("/snapshots")
    def list_snapshots() -> ResponseReturnValue:
        return jsonify({"directory": str(directory.directory), "snapshots": directory.list()})

    @blueprint.post("/snapshots")
    def save_snapshot() -> ResponseReturnValue:
        body = json_object("snapshot request")
        unknown = set(body) - {"name", "replace"}
        if unknown:
            return _error(SnapshotError(f"unknown field(s) {', '.join(sorted(unknown))}; use name, replace"))
        replace = body.get("replace", False)
        if not isinstance(replace, bool):
            return _error(SnapshotError("replace must be true or false"))
        name = body.get("name")
        if not isinstance(name, str):
            return _error(SnapshotError('send {"name": "..."}: the name to save the world under'))
        try:
            info = directory.save(name, sandbox, replace=replace)
        except SnapshotError as error:
            return _error(error)
        return jsonify(info.to_dict()), 201

    @blueprint.get("/snapshots/<name>")
    def describe_snapshot(name: str) -> ResponseReturnValue:
        try:
            return jsonify(directory.describe(name).to_dict())
        except SnapshotError as error:
            return _error(error)

    @blueprint.post("/snapshots/<name>/restore")
    def restore_snapshot(name: str) -> ResponseReturnValue:
        try:
            info = directory.restore(name, sandbox)
        except SnapshotError as error:
            return _error(error)
        return jsonify({"restored": name, **info.to_dict(), "clock_now": sandbox.clock.describe()})

    @blueprint.delete("/snapshots/<name>")
    def delete_snapshot(name: str) -> ResponseReturnValue:
        try:
            directory.delete(name)
        except SnapshotError as error:
            return _error(error)
        return jsonify({"status": "deleted", "name": name})

    return blueprint


__all__ = ["create_snapshots_blueprint"]
