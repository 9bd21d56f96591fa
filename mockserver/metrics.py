"""Prometheus metrics of one emulator (`GET /metrics`, served by control/metrics.py).

What is counted, and where it is counted:
- every exchange the journal records (SP-API calls, and LWA exchanges a fault hit): requests by operation,
  route template, status and how they were answered, their latency, 429s and injected faults. The journal
  calls `observe_exchange` as it records; nothing is added to the gateway's line.
- LWA grants by type and status, around the token endpoint's view (app.py).
- transactions by result as the transaction logs decide them (`TransactionLog.observers`).
- journal and store sizes, read when scraped.

Labels are the operation (its API, operationId, method and route template), never a path as requested: a
purchase-order number in a label would make one series per PO. Names follow Prometheus' conventions: the
`vendor_sandbox_` prefix, base units (seconds, bytes), `_total` for counters.

Multiprocess: with `PROMETHEUS_MULTIPROC_DIR` set (or `use_multiprocess_directory`, which `serve` with
workers calls before any worker starts), counters and histograms live in prometheus-client's memory-mapped
files and a scrape of any worker sums every worker's (`MultiProcessCollector`). The gauges read at scrape time
(store and journal sizes) are read from the store and the journal, which the workers share.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from prometheus_client import CollectorRegistry, Counter, Histogram, values
from prometheus_client.core import GaugeMetricFamily, InfoMetricFamily, Metric
from prometheus_client.exposition import choose_encoder
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.process_collector import ProcessCollector
from prometheus_client.registry import Collector

from mockserver import __version__
from mockserver.journal import JournalEntry

if TYPE_CHECKING:
    from mockserver.app import Sandbox
    from mockserver.contracts.model import Operation

log = logging.getLogger(__name__)

PREFIX = "vendor_sandbox"
MULTIPROCESS_VARIABLE = "PROMETHEUS_MULTIPROC_DIR"
# From a cached stateful answer (~0.5 ms) to an injected latency or a trickled body (seconds).
LATENCY_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
GRANT_TYPES = frozenset({"refresh_token", "client_credentials", "authorization_code"})
LWA_PATH_PREFIX = "/auth/o2/"
# The label of an exchange no operation answered (an unknown path, a wrong method): never the path itself.
UNMATCHED_ROUTE = "unmatched"

REQUEST_LABELS = ("api", "operation", "method", "route", "status", "answered_by")
LATENCY_LABELS = ("api", "operation", "method", "route")
THROTTLE_LABELS = ("api", "operation", "route", "source")
FAULT_LABELS = ("endpoint", "action", "api", "operation")
TRANSACTION_LABELS = ("family", "kind", "result")
GRANT_LABELS = ("grant_type", "status")


def multiprocess_enabled() -> bool:
    return bool(os.environ.get(MULTIPROCESS_VARIABLE))


def use_multiprocess_directory(directory: Path) -> None:
    """Count into memory-mapped files in `directory`, shared by every worker process started from now on.

    prometheus-client picks its value class when it is imported; a server that imported it before it knew it
    would start workers switches it here, before any metric exists."""
    directory.mkdir(parents=True, exist_ok=True)
    os.environ[MULTIPROCESS_VARIABLE] = str(directory)
    values.ValueClass = values.get_value_class()


@dataclass(frozen=True)
class OperationLabels:
    """The metric labels of an operation: its API, operationId, method and route template."""

    api: str
    operation: str
    method: str
    route: str


UNMATCHED = OperationLabels("", "", "", UNMATCHED_ROUTE)


def operation_labels(operations: Iterable[Operation]) -> dict[str, OperationLabels]:
    return {
        operation.name: OperationLabels(
            operation.api.api_id, operation.operation_id, operation.method, operation.path
        )
        for operation in operations
    }


class _Instruments:
    """The counters and histograms themselves (one set per emulator; one per process in multiprocess mode,
    where two sets would overwrite each other's files)."""

    def __init__(self, registry: CollectorRegistry | None) -> None:
        self.requests = Counter(
            f"{PREFIX}_requests",
            "SP-API requests answered, by operation (route template), status and how they were answered "
            "(stateful, generated, static-case, error:<stage>, fault:<action>).",
            REQUEST_LABELS,
            registry=registry,
        )
        self.latency = Histogram(
            f"{PREFIX}_request_duration_seconds",
            "Time from receiving an SP-API request to its answer, injected latency included.",
            LATENCY_LABELS,
            buckets=LATENCY_BUCKETS,
            registry=registry,
        )
        self.throttled = Counter(
            f"{PREFIX}_throttled_requests",
            "SP-API requests answered 429: by the usage plan's token bucket, or by a fault (throttle storm, "
            "quota_exceeded).",
            THROTTLE_LABELS,
            registry=registry,
        )
        self.faults = Counter(
            f"{PREFIX}_faults_injected",
            "Faults the chaos rules (or a fault header) injected, by action; endpoint sp-api or lwa.",
            FAULT_LABELS,
            registry=registry,
        )
        self.transactions = Counter(
            f"{PREFIX}_transactions",
            "Submissions decided, by family (retail, direct_fulfillment), kind and result (Success/Failure).",
            TRANSACTION_LABELS,
            registry=registry,
        )
        self.grants = Counter(
            f"{PREFIX}_lwa_grants",
            "Token requests the LWA endpoint answered, by grant type and HTTP status.",
            GRANT_LABELS,
            registry=registry,
        )


_process_instruments: _Instruments | None = None
_process_lock = threading.Lock()


def _shared_instruments() -> _Instruments:
    global _process_instruments
    with _process_lock:
        if _process_instruments is None:
            _process_instruments = _Instruments(None)
        return _process_instruments


class SandboxMetrics:
    """The metrics of one emulator: observers the journal, the transaction logs and the LWA view call, and the
    exposition of `/metrics`."""

    def __init__(
        self,
        labels: dict[str, OperationLabels],
        state: Callable[[], Iterator[Metric]] | None = None,
    ) -> None:
        self.multiprocess = multiprocess_enabled()
        self._labels = labels
        self._state = state
        if self.multiprocess:
            self.instruments = _shared_instruments()
        else:
            self._own = CollectorRegistry(auto_describe=True)
            self.instruments = _Instruments(self._own)
        # (operation, status, answered_by) -> the children to count it with: labels() takes a lock and
        # builds a tuple of strings; an exchange should cost two increments, not that.
        self._exchange_children: dict[tuple[str | None, int, str], tuple[Any, Any, Any]] = {}
        self._lock = threading.Lock()

    # Observers ----------------------------------------------------------------------------------------
    def observe_exchange(self, entry: JournalEntry) -> None:
        """One exchange, as the journal records it."""
        fault = entry.fault
        if entry.operation is None and entry.path.startswith(LWA_PATH_PREFIX):
            # An LWA exchange is journaled only when a fault hit it; it is no SP-API request.
            if fault is not None:
                self._count_fault("lwa", fault, UNMATCHED)
            return
        key = (entry.operation, entry.status, entry.answered_by)
        children = self._exchange_children.get(key)
        if children is None:
            children = self._children_for(key)
        requests, latency, throttled = children
        requests.inc()
        latency.observe(entry.latency_ms / 1000.0)
        if throttled is not None:
            throttled.inc()
        if fault is not None:
            self._count_fault("sp-api", fault, self._labels_of(entry.operation))

    def _labels_of(self, operation: str | None) -> OperationLabels:
        if operation is None:
            return UNMATCHED
        return self._labels.get(operation, UNMATCHED)

    def _children_for(self, key: tuple[str | None, int, str]) -> tuple[Any, Any, Any]:
        operation, status, answered_by = key
        labels = self._labels_of(operation)
        instruments = self.instruments
        throttled = None
        if status == 429:
            source = "usage_plan" if answered_by == "error:throttle" else "fault"
            throttled = instruments.throttled.labels(labels.api, labels.operation, labels.route, source)
        children = (
            instruments.requests.labels(
                labels.api, labels.operation, labels.method, labels.route, str(status), answered_by
            ),
            instruments.latency.labels(labels.api, labels.operation, labels.method, labels.route),
            throttled,
        )
        with self._lock:
            self._exchange_children[key] = children
        return children

    def _count_fault(self, endpoint: str, fault: dict[str, Any], labels: OperationLabels) -> None:
        action = str(fault.get("action") or "unknown")
        self.instruments.faults.labels(endpoint, action, labels.api, labels.operation).inc()

    def transaction_observer(self, family: str) -> Callable[[str, str], None]:
        """What a transaction log calls as it decides a transaction: (kind, result)."""
        counter = self.instruments.transactions

        def decided(kind: str, result: str) -> None:
            counter.labels(family, kind, result).inc()

        return decided

    def observe_grant(self, grant_type: str, status: int) -> None:
        """A token request the LWA endpoint answered; an unknown grant type is counted as `other`."""
        label = grant_type if grant_type in GRANT_TYPES else ("missing" if not grant_type else "other")
        self.instruments.grants.labels(label, str(status)).inc()

    # Exposition ---------------------------------------------------------------------------------------
    def exposition(self, accept: str | None) -> tuple[bytes, str]:
        """The metrics in the format the scraper asked for (Prometheus text, or OpenMetrics)."""
        registry = CollectorRegistry(auto_describe=False)
        if self.multiprocess:
            MultiProcessCollector(registry)
        else:
            registry.register(_Forward(self._own))
            registry.register(ProcessCollector(registry=None))
        if self._state is not None:
            registry.register(_StateCollector(self._state))
        encoder, content_type = choose_encoder(accept or "")
        return encoder(registry), content_type

    @classmethod
    def attach(cls, sandbox: Sandbox) -> SandboxMetrics:
        """The metrics of `sandbox`, observing its journal, its transaction logs and its state."""
        operations = list(sandbox.registry.operations)
        if sandbox.static_registry is not None and sandbox.static_registry is not sandbox.registry:
            operations += list(sandbox.static_registry.operations)
        metrics = cls(operation_labels(operations), lambda: state_metrics(sandbox))
        sandbox.journal.observers.append(metrics.observe_exchange)
        sandbox.retail.transactions.observers.append(metrics.transaction_observer("retail"))
        sandbox.direct_fulfillment.transactions.observers.append(
            metrics.transaction_observer("direct_fulfillment")
        )
        return metrics


class _Forward(Collector):
    """An emulator's own registry, collected into the registry of one scrape."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self._registry = registry

    def collect(self) -> Iterable[Metric]:
        return self._registry.collect()


class _StateCollector(Collector):
    def __init__(self, state: Callable[[], Iterator[Metric]]) -> None:
        self._state = state

    def collect(self) -> Iterable[Metric]:
        try:
            return list(self._state())
        except Exception:  # a damaged store must not take the counters down with it: the health call says so
            log.exception("reading the store's sizes for /metrics failed")
            return []


def state_metrics(sandbox: Sandbox) -> Iterator[Metric]:
    """Gauges read when scraped: what the emulator is, and how big its journal and store are."""
    settings = sandbox.settings
    info = InfoMetricFamily(f"{PREFIX}_build", "The emulator: version, store kind, mode and region.")
    info.add_metric(
        [],
        {
            "version": __version__,
            "store": settings.store,
            "mode": settings.mode,
            "region": settings.region,
        },
    )
    yield info
    journal = sandbox.journal
    entries = GaugeMetricFamily(f"{PREFIX}_journal_entries", "Exchanges the journal keeps now.")
    entries.add_metric([], len(journal))
    yield entries
    size = GaugeMetricFamily(
        f"{PREFIX}_journal_bytes", "About how much memory the journal's exchanges hold.", unit="bytes"
    )
    size.add_metric([], journal.bytes)
    yield size
    limit = GaugeMetricFamily(
        f"{PREFIX}_journal_max_bytes", "The journal's byte budget (oldest dropped past it).", unit="bytes"
    )
    limit.add_metric([], journal.max_bytes)
    yield limit
    documents = GaugeMetricFamily(
        f"{PREFIX}_store_documents",
        "Documents in the store by collection (and account, for per-account collections).",
        labels=["collection", "account"],
    )
    for collection in sandbox.store.collections():
        name, _, account = collection.partition(":")
        documents.add_metric([name, account], sandbox.store.count(collection))
    yield documents
    purchase_orders = GaugeMetricFamily(
        f"{PREFIX}_purchase_orders", "Purchase orders in the world, by account.", labels=["account"]
    )
    df_orders = GaugeMetricFamily(
        f"{PREFIX}_df_orders", "Direct Fulfillment orders in the world, by account.", labels=["account"]
    )
    for account in sandbox.accounts.accounts:
        purchase_orders.add_metric([account], sandbox.purchase_orders.count(account))
        df_orders.add_metric([account], sandbox.df_orders.count(account))
    yield purchase_orders
    yield df_orders
    rules = GaugeMetricFamily(f"{PREFIX}_fault_rules", "Fault rules armed now.")
    rules.add_metric([], len(sandbox.chaos.rules.rules()))
    yield rules


__all__ = [
    "LATENCY_BUCKETS",
    "MULTIPROCESS_VARIABLE",
    "PREFIX",
    "SandboxMetrics",
    "multiprocess_enabled",
    "use_multiprocess_directory",
]
