"""Render README's pictures from a real run: docs/images/inspector.png and docs/images/grafana-panel.png.

An emulator serves a client workload (pages of purchase orders, details, acknowledgements some of which break
a rule, polls, with fault rules adding latency and 503s) while Debian's Prometheus scrapes it with the
scrape config of deploy/. Then:
- the inspector's live journal is photographed by Chromium;
- two panels of deploy/grafana/dashboards/vendor-sandbox.json are drawn from Prometheus' answers to the
  dashboard's own queries (query_range), in the look of Grafana's time-series panel, and photographed too.
  Grafana itself is not run here (no Grafana package where this runs): the numbers are real, the frame is
  ours, and README says so.

    python docs/render_images.py          # about two minutes; needs /usr/bin/chromium and prometheus
"""

from __future__ import annotations

import json
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from html import escape
from pathlib import Path
from typing import Any

import requests
import yaml

REPOSITORY = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPOSITORY))

from mockserver.testing.server import RunningEmulator, start_emulator  # noqa: E402
from tests.server import retail_support  # noqa: E402

IMAGES = REPOSITORY / "docs" / "images"
DASHBOARD = json.loads((REPOSITORY / "deploy/grafana/dashboards/vendor-sandbox.json").read_text())
WORKLOAD_SECONDS = 100
STEP = 2
COLOURS = ["#73bf69", "#f2cc0c", "#8ab8ff", "#ff780a", "#f2495c", "#5794f2", "#b877d9", "#fade2a"]
OPERATIONS = "getPurchaseOrders|getPurchaseOrder|submitAcknowledgement|getTransaction"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start_prometheus(target: str, scratch: Path) -> tuple[subprocess.Popen[bytes], str]:
    config = yaml.safe_load((REPOSITORY / "deploy/prometheus/prometheus.yml").read_text())
    config["global"]["scrape_interval"] = "1s"
    config["scrape_configs"][0]["static_configs"][0]["targets"] = [target]
    (scratch / "prometheus.yml").write_text(yaml.safe_dump(config))
    port = free_port()
    binary = shutil.which("prometheus")
    if binary is None:
        raise SystemExit("needs Prometheus (Debian: apt-get install prometheus)")
    process = subprocess.Popen(
        [
            binary,
            f"--config.file={scratch / 'prometheus.yml'}",
            f"--storage.tsdb.path={scratch / 'tsdb'}",
            f"--web.listen-address=127.0.0.1:{port}",
            "--log.level=warn",
        ]
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            up = requests.get(f"{url}/api/v1/query", params={"query": "up == 1"}, timeout=2).json()
            if up["data"]["result"]:
                return process, url
        except (requests.ConnectionError, KeyError):
            pass
        if time.monotonic() > deadline:
            raise SystemExit("Prometheus never scraped the emulator")
        time.sleep(0.5)


def workload(emulator: RunningEmulator, stop: threading.Event) -> None:
    """A vendor's integration at work: listing, reading, acknowledging, polling; one in five
    acknowledgements names the wrong selling party."""
    session = emulator.session()
    base = emulator.base_url
    chance = random.Random(7)
    while not stop.is_set():
        # Half an hour of sandbox time per round: new purchase orders keep arriving to acknowledge.
        requests.post(f"{base}/_sandbox/clock/advance", json={"seconds": 1800}, timeout=30)
        listing = session.get(
            f"{base}{retail_support.ORDERS}/purchaseOrders",
            params={"limit": 20, "purchaseOrderState": "New", "sortOrder": "DESC"},
            timeout=30,
        )
        orders = listing.json().get("payload", {}).get("orders", []) if listing.ok else []
        for order in orders[:3]:
            session.get(
                f"{base}{retail_support.ORDERS}/purchaseOrders/{order['purchaseOrderNumber']}", timeout=30
            )
        new = [order for order in orders if order["purchaseOrderState"] == "New"]
        if new:
            order = chance.choice(new)
            body = retail_support.acknowledgement(order)
            if chance.random() < 0.2:
                body = retail_support.acknowledgement(order, sellingParty={"partyId": "NOT-OURS"})
            answer = session.post(f"{base}{retail_support.ACK}", json=body, timeout=30)
            if answer.status_code == 202:
                transaction = answer.json()["payload"]["transactionId"]
                time.sleep(0.3)
                session.get(f"{base}/vendor/transactions/v1/transactions/{transaction}", timeout=30)
        time.sleep(chance.uniform(0.05, 0.25))


def arm_faults(emulator: RunningEmulator) -> None:
    rules = [
        {
            "operation": "getPurchaseOrder",
            "action": "latency",
            "params": {"distribution": "lognormal", "median": 0.04, "sigma": 0.8, "max": 0.5},
            "probability": 0.5,
        },
        {"operation": "getPurchaseOrders", "action": "service_unavailable", "probability": 0.1},
        {
            "operation": "submitAcknowledgement",
            "action": "latency",
            "params": {"seconds": 0.12},
            "probability": 0.3,
        },
    ]
    assert requests.post(f"{emulator.base_url}/_sandbox/faults", json=rules, timeout=10).status_code == 201


def query_range(url: str, expression: str, start: float, end: float) -> list[dict[str, Any]]:
    expression = expression.replace("$__rate_interval", "15s").replace("$operation", OPERATIONS)
    answer = requests.get(
        f"{url}/api/v1/query_range",
        params={"query": expression, "start": start, "end": end, "step": STEP},
        timeout=30,
    ).json()
    assert answer["status"] == "success", answer
    result: list[dict[str, Any]] = answer["data"]["result"]
    return result


def legend(template: str, labels: dict[str, str]) -> str:
    for name, value in labels.items():
        template = template.replace("{{" + name + "}}", value)
    return template


def panel_svg(
    title: str, unit: str, series: list[tuple[str, list[tuple[float, float]]]], start: float, end: float
) -> str:
    width, height, left, right, top, bottom = 760, 330, 64, 230, 36, 34
    plot_w, plot_h = width - left - right, height - top - bottom
    values = [value for _, points in series for _, value in points]
    high = max(values) * 1.1 if values else 1.0
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        'font-family="Inter, Helvetica, Arial, sans-serif">',
        f'<rect width="{width}" height="{height}" rx="4" fill="#181b1f" stroke="#2c3235"/>',
        f'<text x="14" y="23" fill="#ccccdc" font-size="14" font-weight="500">{escape(title)}</text>',
    ]
    for step in range(5):
        value = high * step / 4
        y = top + plot_h - plot_h * step / 4
        label = f"{value * 1000:.0f} ms" if unit == "s" else f"{value:.1f} req/s"
        parts.append(f'<line x1="{left}" x2="{left + plot_w}" y1="{y:.1f}" y2="{y:.1f}" stroke="#2c3235"/>')
        parts.append(
            f'<text x="{left - 8}" y="{y + 4:.1f}" fill="#8e8e8e" font-size="11" '
            f'text-anchor="end">{label}</text>'
        )
    for step in range(6):
        moment = start + (end - start) * step / 5
        x = left + plot_w * step / 5
        parts.append(
            f'<text x="{x:.1f}" y="{height - 12}" fill="#8e8e8e" font-size="11" text-anchor="middle">'
            f"{time.strftime('%H:%M:%S', time.gmtime(moment))}</text>"
        )
    for index, (name, points) in enumerate(series):
        colour = COLOURS[index % len(COLOURS)]
        path = " ".join(
            f"{'M' if number == 0 else 'L'}{left + plot_w * (moment - start) / (end - start):.1f},"
            f"{top + plot_h - plot_h * value / high:.1f}"
            for number, (moment, value) in enumerate(points)
        )
        parts.append(f'<path d="{path}" fill="none" stroke="{colour}" stroke-width="2"/>')
        y = top + 8 + index * 18
        parts.append(f'<rect x="{left + plot_w + 16}" y="{y - 4}" width="14" height="4" fill="{colour}"/>')
        parts.append(
            f'<text x="{left + plot_w + 36}" y="{y + 1}" fill="#ccccdc" font-size="11">{escape(name)}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def panel(title: str) -> dict[str, Any]:
    return next(item for item in DASHBOARD["panels"] if item["title"] == title)


def draw_panels(url: str, start: float, end: float) -> str:
    svgs = []
    for title, keep in (
        ("Request rate by operation", None),
        ("Latency p50 / p95 / p99 by operation", ("getPurchaseOrder", "submitAcknowledgement")),
    ):
        chosen = panel(title)
        series = []
        for target in chosen["targets"]:
            for item in query_range(url, target["expr"], start, end):
                if keep and item["metric"].get("operation") not in keep:
                    continue
                points = [(float(moment), float(value)) for moment, value in item["values"] if value != "NaN"]
                series.append((legend(target["legendFormat"], item["metric"]), points))
        series.sort(key=lambda entry: entry[0])
        svgs.append(
            panel_svg(chosen["title"], chosen["fieldConfig"]["defaults"]["unit"], series[:8], start, end)
        )
    return (
        '<html><body style="margin:0;background:#111217;padding:12px;display:flex;gap:12px">'
        + "".join(svgs)
        + "</body></html>"
    )


def photograph(emulator: RunningEmulator, panels_html: str) -> None:
    from playwright.sync_api import sync_playwright

    IMAGES.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path="/usr/bin/chromium", headless=True, args=["--no-sandbox", "--disable-gpu"]
        )
        # The newest exchanges include a Failure and the rule it broke.
        session = emulator.session()
        order = retail_support.new_purchase_order(emulator, session)
        broken = retail_support.acknowledgement(order, sellingParty={"partyId": "NOT-OURS"})
        retail_support.submit(emulator, session, retail_support.ACK, broken)
        page = browser.new_page(viewport={"width": 1440, "height": 860})
        page.goto(f"{emulator.base_url}/_sandbox/ui/?account=acme-na")
        page.wait_for_selector("#journal-rows tr[data-outcome=Failure]")
        page.wait_for_timeout(500)
        page.screenshot(path=str(IMAGES / "inspector.png"))
        page.set_viewport_size({"width": 1568, "height": 354})
        page.set_content(panels_html)
        page.screenshot(path=str(IMAGES / "grafana-panel.png"))
        browser.close()


def main() -> None:
    with tempfile.TemporaryDirectory() as scratch:
        emulator = start_emulator(
            data_dir=Path(scratch) / "data",
            store="memory",
            seed_size=200,
            processing_delay=0.2,
            rate_scale=5.0,
        )
        prometheus, url = start_prometheus(emulator.base_url.removeprefix("http://"), Path(scratch))
        try:
            arm_faults(emulator)
            stop = threading.Event()
            client = threading.Thread(target=workload, args=(emulator, stop))
            start = time.time()
            client.start()
            time.sleep(WORKLOAD_SECONDS)
            stop.set()
            client.join()
            time.sleep(3)
            end = time.time()
            photograph(emulator, draw_panels(url, start + 20, end))
        finally:
            prometheus.terminate()
            prometheus.wait()
            emulator.stop()
    print(f"wrote {IMAGES / 'inspector.png'} and {IMAGES / 'grafana-panel.png'}")


if __name__ == "__main__":
    main()
