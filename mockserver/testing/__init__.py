"""Helpers for testing against the emulator: a server in a thread, authenticated sessions, in-process mode
(`mock_sp_api`), the pytest plugin's fixtures (`plugin.py`) and Hypothesis strategies (`strategies.py`)."""

from __future__ import annotations

from typing import Any

_LAZY = {
    "SpApiMock": "mockserver.testing.inprocess",
    "mock_sp_api": "mockserver.testing.inprocess",
    "active_mock": "mockserver.testing.inprocess",
    "VendorSandbox": "mockserver.testing.served",
    "AdminApi": "mockserver.testing.admin",
}


def __getattr__(name: str) -> Any:  # imported on first use: the pytest plugin loads this package early
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(name)


TOOLKIT_INSTALL = "pip install 'vendor-sandbox[toolkit]'"


def require_toolkit(module: str) -> None:
    """A clear ImportError naming the extra to install, where the toolkit's `module` is missing."""
    import importlib

    try:
        importlib.import_module(module)
    except ModuleNotFoundError as error:
        raise ModuleNotFoundError(
            f"this part of vendor-sandbox's toolkit needs {module}: `{TOOLKIT_INSTALL}`", name=module
        ) from error


__all__ = ["TOOLKIT_INSTALL", "AdminApi", "SpApiMock", "VendorSandbox", "active_mock", "mock_sp_api"]
