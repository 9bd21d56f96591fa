/* vendor-sandbox inspector: reads the /_sandbox/ admin API and draws it. Plain JavaScript, no build step,
   no network but this server. Everything from the API is set as text (never as HTML): the journal holds
   whatever clients sent. */
"use strict";

const ADMIN = "/_sandbox";
const UI = "/_sandbox/ui";
const HEADERS = { "X-Requested-With": "vendor-sandbox-inspector" };
const POLL_MS = 1500;
const MAX_ROWS = 500;

// -- helpers ---------------------------------------------------------------------------------------------
function el(tag, attributes, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (name === "class") node.className = value;
    else if (name === "text") node.textContent = value;
    else if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    else node.setAttribute(name, value === true ? "" : String(value));
  }
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

const $ = (selector) => document.querySelector(selector);

function fill(node, ...children) {
  node.replaceChildren(...children.flat(Infinity).filter((child) => child !== null && child !== undefined && child !== false));
}
const account = () => document.body.dataset.account;
const uiLink = (path) => `${UI}${path}${path.includes("?") ? "&" : "?"}account=${encodeURIComponent(account())}`;

function showError(message) {
  const banner = $("#error-banner");
  if (!banner) return;
  banner.hidden = !message;
  banner.textContent = message || "";
}

async function api(method, path, body) {
  const options = { method, headers: { ...HEADERS }, credentials: "same-origin" };
  if (body !== undefined) {
    options.headers["Content-Type"] = "application/json";
    options.body = JSON.stringify(body);
  }
  const response = await fetch(ADMIN + path, options);
  const text = await response.text();
  let document_ = null;
  try { document_ = text ? JSON.parse(text) : null; } catch (error) { document_ = text; }
  if (!response.ok) {
    const first = document_ && document_.errors && document_.errors[0];
    const detail = first ? `${first.message} ${first.details || ""}`.trim() : `${response.status}`;
    const error = new Error(detail);
    error.status = response.status;
    throw error;
  }
  return document_;
}

const get = (path) => api("GET", path);

function json(value) {
  return el("pre", { class: "json" }, value === undefined || value === null ? "(none)" : JSON.stringify(value, null, 2));
}

function badge(text, kind) { return el("span", { class: `badge ${kind || ""}` }, text); }

function statusBadge(status) {
  const kind = status === 0 ? "bad" : status < 300 ? "ok" : status === 429 ? "warn" : status < 500 ? "warn" : "bad";
  return badge(status === 0 ? "dropped" : String(status), kind);
}

function outcomeBadge(status) {
  const kind = { Success: "ok", SUCCESS: "ok", Failure: "bad", FAILURE: "bad", Processing: "muted", submitted: "muted" }[status];
  return badge(status, kind || "muted");
}

function clockTime(epochSeconds) {
  const moment = new Date(epochSeconds * 1000);
  return moment.toLocaleTimeString([], { hour12: false }) + "." + String(moment.getMilliseconds()).padStart(3, "0");
}

function ruleLink(rule) {
  return el("a", { href: uiLink(`/rules`) + `#rule-${rule}`, class: "rule-link", "data-rule": rule }, el("code", {}, rule));
}

function facts(pairs) {
  const list = el("dl", { class: "facts" });
  for (const [name, value] of pairs) {
    if (value === undefined || value === null || value === "") continue;
    list.append(el("dt", {}, name), el("dd", {}, value));
  }
  return list;
}

function headerTable(headers) {
  const entries = Object.entries(headers || {});
  if (!entries.length) return el("p", { class: "muted" }, "(no headers recorded)");
  return facts(entries.map(([name, value]) => [name, el("code", {}, String(value))]));
}

function setRows(body, rows, emptyText, columns) {
  fill(body, ...rows);
  if (!rows.length) body.append(el("tr", {}, el("td", { colspan: columns, class: "muted" }, emptyText)));
}

// -- header: account picker and the sandbox clock ----------------------------------------------------------
function header() {
  const select = $("#account-select");
  if (select) {
    select.addEventListener("change", () => {
      const url = new URL(window.location.href);
      url.searchParams.set("account", select.value);
      if (url.pathname.startsWith(`${UI}/world/`)) url.pathname = `${UI}/world`;
      window.location.href = url.toString();
    });
  }
  // The clock shown is the latest known: a read still in flight when a newer clock arrives (the page's own
  // change, or a later read) is dropped, or the header and the clock page would go back in time.
  const latest = latestAnswer();
  const show = async (answer) => {
    try {
      const clock = await latest(answer);
      if (!clock) return;
      $("#header-clock").textContent = `${clock.now}${clock.frozen ? " (frozen)" : ""}`;
      document.dispatchEvent(new CustomEvent("sandbox-clock", { detail: clock }));
    } catch (error) { /* the clock is decoration here; errors show where they matter */ }
  };
  const refresh = () => show(get("/clock"));
  refresh();
  window.setInterval(refresh, 10000);
  // With the clock an admin call answered, shown at once; without, read again.
  return (clock) => (clock ? show(Promise.resolve(clock)) : refresh());
}

// -- journal -------------------------------------------------------------------------------------------------
function journalRow(entry) {
  const extras = [];
  if (entry.fault) extras.push(badge(`fault: ${entry.fault}`, "warn"));
  for (const rule of entry.violations || []) extras.push(badge(rule, "warn"));
  if (entry.notes) extras.push(badge("contract note", "bad"));
  if (entry.transaction) {
    extras.push(outcomeBadge(entry.transaction.status));
    for (const rule of entry.transaction.rules || []) extras.push(" ", el("code", { class: "muted" }, rule));
  }
  const link = el("a", { href: uiLink(`/exchange/${encodeURIComponent(entry.request_id)}`), class: "exchange-link" },
    entry.operation_id || "(no operation)");
  return el("tr", { "data-sequence": entry.sequence, "data-request-id": entry.request_id,
                    "data-outcome": entry.transaction ? entry.transaction.status : "" },
    el("td", { class: "mono" }, clockTime(entry.time)),
    el("td", { class: "nowrap" }, entry.account || "—"),
    el("td", { class: "nowrap" }, entry.application || "—"),
    el("td", {}, link),
    el("td", { class: "path" }, `${entry.method} ${entry.path}`),
    el("td", {}, statusBadge(entry.status)),
    el("td", {}, entry.answered_by),
    el("td", { class: "num" }, entry.latency_ms.toFixed(1)),
    el("td", {}, extras));
}

async function journalPage() {
  const form = $("#journal-filters");
  const rows = $("#journal-rows");
  const operations = $("#filter-operation");
  let last = 0;
  let generation = 0;
  try {
    const listing = await get("/operations");
    const seen = new Set();
    for (const operation of listing.operations) {
      if (seen.has(operation.operation_id)) continue;
      seen.add(operation.operation_id);
      operations.append(el("option", { value: operation.operation_id }, operation.operation_id));
    }
  } catch (error) { showError(error.message); }

  function query(after) {
    const data = new FormData(form);
    const params = new URLSearchParams({ view: "summary", limit: after ? "200" : "100" });
    for (const name of ["account", "operation", "status", "answered_by"]) {
      if (data.get(name)) params.set(name, data.get(name));
    }
    if (data.get("window")) params.set("since", String(Date.now() / 1000 - Number(data.get("window"))));
    if (after) params.set("after", String(after));
    return `/journal?${params}`;
  }

  async function load(fresh) {
    const mine = fresh ? ++generation : generation;
    if (fresh) { last = 0; fill(rows); }
    try {
      const result = await get(query(last));
      if (mine !== generation) return;
      showError("");
      const entries = result.entries;
      for (const entry of entries) {
        const row = journalRow(entry);
        if (!fresh) row.classList.add("new");
        rows.prepend(row);
        last = Math.max(last, entry.sequence);
      }
      while (rows.children.length > MAX_ROWS) rows.lastChild.remove();
      $("#journal-empty").hidden = rows.children.length > 0;
      $("#journal-count").textContent = `${rows.children.length} shown`;
    } catch (error) { showError(`Journal: ${error.message}`); }
  }

  form.addEventListener("change", () => load(true));
  $("#journal-clear").addEventListener("click", async () => {
    await api("DELETE", "/journal");
    load(true);
  });
  await load(true);
  window.setInterval(() => { if ($("#journal-live").checked) load(false); }, POLL_MS);
}

// -- one exchange ------------------------------------------------------------------------------------------
function transactionOutcome(body) {
  if (!body || typeof body !== "object") return null;
  const payload = body.payload && typeof body.payload === "object" ? body.payload : body;
  const status = payload.transactionStatus;
  if (status && typeof status === "object") {
    let errors = status.errors;
    if (errors && !Array.isArray(errors)) errors = errors.errors;
    return { id: status.transactionId, status: status.status, errors: Array.isArray(errors) ? errors : [] };
  }
  if (typeof payload.transactionId === "string") return { id: payload.transactionId, status: "submitted", errors: [] };
  return null;
}

function brokenRules(errors) {
  return (errors || []).map((error) => {
    const details = String(error.details || "");
    const match = details.match(/: rule ([A-Za-z0-9_.-]+)/);
    return { rule: match ? match[1] : null, error };
  });
}

function errorList(errors) {
  const list = el("ul", { class: "check-list broken-rules" });
  for (const { rule, error } of brokenRules(errors)) {
    list.append(el("li", {}, rule ? ruleLink(rule) : el("code", {}, error.code), " ",
      badge(error.code, "bad"), " ", error.message, el("div", { class: "muted mono" }, error.details || "")));
  }
  return list;
}

async function exchangePage() {
  const requestId = $("#exchange").dataset.requestId;
  let entry;
  try {
    const result = await get(`/journal?request_id=${encodeURIComponent(requestId)}&limit=0`);
    entry = result.entries[0];
  } catch (error) { showError(error.message); return; }
  if (!entry) {
    $("#exchange-summary").textContent = "This exchange is no longer in the journal (it keeps the newest; a reset clears it).";
    return;
  }
  fill($("#exchange-summary"), facts([
    ["time", new Date(entry.time * 1000).toISOString()],
    ["account", entry.account], ["application", entry.application],
    ["operation", entry.operation], ["status", statusBadge(entry.status)],
    ["answered by", entry.answered_by], ["latency", `${entry.latency_ms} ms`],
    ["notes", (entry.notes || []).join("; ")],
  ]));
  const outcome = transactionOutcome(entry.response_body);
  if (outcome) await showOutcome(entry, outcome);
  if (entry.fault) {
    const box = $("#exchange-fault");
    box.hidden = false;
    fill(box, el("h3", {}, `Fault applied: ${entry.fault.action}`), facts(Object.entries(entry.fault)
      .map(([name, value]) => [name, name === "rule" ? el("a", { href: uiLink("/faults") }, String(value)) : JSON.stringify(value)])));
  }
  if ((entry.violations || []).length) {
    const box = $("#exchange-violations");
    box.hidden = false;
    fill(box, el("h3", {}, "Strict mode: rules this request broke"),
      el("ul", { class: "check-list" }, entry.violations.map((item) => el("li", {}, el("code", {}, item.rule), " ", item.message))));
  }
  const query = Object.entries(entry.query || {}).map(([name, values]) => [name, [].concat(values).join(", ")]);
  fill($("#exchange-request"), 
    el("p", { class: "mono" }, `${entry.method} ${entry.path}`),
    query.length ? el("h4", {}, "Query") : null, query.length ? facts(query) : null,
    el("h4", {}, "Headers"), headerTable(entry.request_headers),
    el("h4", {}, "Body"), json(entry.request_body));
  fill($("#exchange-response"), 
    el("p", {}, statusBadge(entry.status)),
    el("h4", {}, "Headers"), headerTable(entry.response_headers),
    el("h4", {}, "Body"), json(entry.response_body));
}

async function showOutcome(entry, outcome) {
  const box = $("#exchange-outcome");
  let status = outcome.status;
  let errors = outcome.errors;
  const where = entry.account ? uiLink(`/world/${entry.account}/transactions/${encodeURIComponent(outcome.id)}`) : null;
  if (status === "submitted" && entry.account) {
    try {  // what became of the submission since
      const transaction = await get(`/world/${encodeURIComponent(entry.account)}/transactions/${encodeURIComponent(outcome.id)}`);
      status = transaction.status;
      errors = transaction.errors;
    } catch (error) { /* another family's, or reset since */ }
  }
  box.hidden = false;
  if (status !== "Failure" && status !== "FAILURE") box.classList.remove("alert");
  fill(box, 
    el("h3", {}, "Transaction ", el("code", {}, outcome.id), " ", outcomeBadge(status)),
    where ? el("p", {}, el("a", { href: where, class: "transaction-link" }, "open the transaction")) : null,
    errors && errors.length ? el("h4", {}, "Broken rules") : null,
    errors && errors.length ? errorList(errors) : null);
}

// -- the world -----------------------------------------------------------------------------------------------
function tile(label, value, parts) {
  return el("div", { class: "tile" }, el("div", { class: "label" }, label), el("div", { class: "value" }, value),
    parts ? el("div", { class: "parts" }, parts) : null);
}

function stateBadge(state, count) {
  return badge(`${state} ${count}`, count && state === "Failure" ? "bad" : count && state === "Success" ? "ok" : "muted");
}

function countText(item) { return `${item.count}${item.more ? "+" : ""}`; }

async function worldPage() {
  const who = encodeURIComponent(account());
  const summary = await get(`/world/${who}`).catch((error) => { showError(error.message); return null; });
  if (summary) {
    const pos = summary.purchase_orders;
    const df = summary.df_orders;
    const tx = summary.transactions;
    fill($("#world-summary"), 
      tile("purchase orders", pos.total, Object.entries(pos.by_state).map(([state, item]) => badge(`${state} ${countText(item)}`))),
      tile("shipment confirmations", summary.shipment_confirmations, [badge(`${summary.receiving} being received`, "muted")]),
      tile("shipments", summary.shipments), tile("invoices", summary.invoices),
      tile("Retail transactions", Object.values(tx.retail).reduce((a, b) => a + b, 0),
        Object.entries(tx.retail).map(([state, count]) => stateBadge(state, count))),
      tile("DF orders", df.total, Object.entries(df.by_status).map(([state, item]) => badge(`${state} ${countText(item)}`))),
      tile("DF transactions", Object.values(tx.direct_fulfillment).reduce((a, b) => a + b, 0),
        Object.entries(tx.direct_fulfillment).map(([state, count]) => stateBadge(state, count))),
      tile("DF labels · invoices", `${summary.df_labels} · ${summary.df_invoices}`));
    if (summary.other_collections.length) {
      $("#world-other").hidden = false;
      fill($("#world-other-list"), ...summary.other_collections.map((item) => {
        const name = item.collection.slice(0, item.collection.lastIndexOf(":"));
        const holder = el("div");
        return el("details", { ontoggle: async (event) => {
          if (!event.target.open || holder.childNodes.length) return;
          const found = await get(`/world/${who}/collections/${encodeURIComponent(name)}?limit=100`);
          holder.append(json(found.documents));
        } }, el("summary", {}, `${name} (${item.count})`), holder);
      }));
    }
  }
  pagedTable("#po-rows", "#po-more", "#po-state", (state, after) =>
    `/world/${who}/purchase-orders?limit=25${state ? `&state=${state}` : ""}${after ? `&after=${encodeURIComponent(after)}` : ""}`,
    "purchase_orders", (po) => el("tr", { "data-number": po.number },
      el("td", {}, el("a", { href: uiLink(`/world/${account()}/purchase-orders/${po.number}`) }, el("code", {}, po.number))),
      el("td", {}, badge(po.state, po.state === "New" ? "" : po.state === "Closed" ? "muted" : "ok")),
      el("td", {}, po.type), el("td", { class: "mono" }, po.created), el("td", {}, po.vendor_code), el("td", {}, po.ship_to),
      el("td", { class: "num" }, po.items), el("td", {}, po.confirmation.join(", ")), el("td", {}, po.receiving.join(", "))), 9);
  pagedTable("#df-rows", "#df-more", "#df-status", (status, after) =>
    `/world/${who}/df-orders?limit=25${status ? `&status=${status}` : ""}${after ? `&after=${encodeURIComponent(after)}` : ""}`,
    "df_orders", (order) => el("tr", {},
      el("td", {}, el("a", { href: uiLink(`/world/${account()}/df-orders/${order.number}`) }, el("code", {}, order.number))),
      el("td", {}, badge(order.status)), el("td", { class: "mono" }, order.created), el("td", {}, order.ship_from),
      el("td", { class: "num" }, order.items), el("td", {}, order.ship_method), el("td", {}, order.packing_slip ? "yes" : ""),
      el("td", {}, order.customer_invoice ? "yes" : "")), 8);
  const latestTransactions = latestAnswer();
  const transactions = async () => {
    const status = $("#tx-status").value;
    try {
      const found = await latestTransactions(get(`/world/${who}/transactions?limit=100${status ? `&status=${status}` : ""}`));
      if (!found) return;
      setRows($("#tx-rows"), found.transactions.map((item) => el("tr", { "data-status": item.status },
        el("td", { class: "mono" }, el("a", { href: uiLink(`/world/${account()}/transactions/${encodeURIComponent(item.transaction_id)}`) }, item.submitted || "?")),
        el("td", {}, item.family), el("td", {}, item.kind), el("td", {}, outcomeBadge(item.status)),
        el("td", { class: "mono" }, (item.documents || []).join(" ")),
        el("td", {}, (item.rules || []).map((rule) => [ruleLink(rule), " "])))), "No transactions yet.", 6);
    } catch (error) { showError(error.message); }
  };
  $("#tx-status").addEventListener("change", transactions);
  transactions();
  try {
    const found = await get(`/world/${who}/shipments?limit=50`);
    fill($("#world-shipments"), found.shipment_confirmations.length
      ? el("table", { class: "grid" }, el("thead", {}, el("tr", {}, ["identifier", "confirmed", "receive at", "state", "purchase orders"].map((name) => el("th", {}, name)))),
        el("tbody", {}, found.shipment_confirmations.map((item) => el("tr", {},
          el("td", {}, el("code", {}, item.identifier)), el("td", { class: "mono" }, item.created), el("td", { class: "mono" }, item.receive_at),
          el("td", {}, item.received ? badge("received", "ok") : badge("on its way", "muted")),
          el("td", {}, item.purchase_orders.map((number) => [el("a", { href: uiLink(`/world/${account()}/purchase-orders/${number}`) }, number), " "]))))))
      : el("p", { class: "muted" }, "No shipment confirmations yet."));
    const invoices = await get(`/world/${who}/invoices?limit=50`);
    fill($("#world-invoices"), invoices.invoices.length
      ? el("table", { class: "grid" }, el("thead", {}, el("tr", {}, ["number", "type", "created", "total", "purchase orders"].map((name) => el("th", {}, name)))),
        el("tbody", {}, invoices.invoices.map((item) => el("tr", {},
          el("td", {}, el("code", {}, item.identifier)), el("td", {}, item.type), el("td", { class: "mono" }, item.created),
          el("td", { class: "num" }, item.total ? `${item.total.amount} ${item.total.currencyCode}` : ""),
          el("td", {}, item.purchase_orders.join(", "))))))
      : el("p", { class: "muted" }, "No invoices yet."));
  } catch (error) { showError(error.message); }
}

// Answers may arrive out of order (the first load and a filter changed at once, a poll and a change): only
// the answer to the latest request may be shown, or a table would hold rows of a filter no longer chosen.
function latestAnswer() {
  let issued = 0;
  return async (answer) => {
    const mine = ++issued;
    const found = await answer;
    return mine === issued ? found : null;
  };
}

function pagedTable(bodySelector, moreSelector, filterSelector, path, key, row, columns) {
  const body = $(bodySelector);
  const more = $(moreSelector);
  const filter = $(filterSelector);
  let next = null;
  const latest = latestAnswer();
  async function load(fresh) {
    try {
      const found = await latest(get(path(filter.value, fresh ? null : next)));
      if (!found) return;
      const rows = found[key].map(row);
      if (fresh) setRows(body, rows, "None.", columns); else body.append(...rows);
      next = found.next;
      more.hidden = !next;
    } catch (error) { showError(error.message); }
  }
  filter.addEventListener("change", () => load(true));
  more.addEventListener("click", () => load(false));
  load(true);
}

// -- one purchase order, transaction or DF order --------------------------------------------------------------
async function recordPage() {
  const { account: who, kind, identifier } = $("#record").dataset;
  let found;
  try {
    found = await get(`/world/${encodeURIComponent(who)}/${kind}/${encodeURIComponent(identifier)}`);
  } catch (error) {
    $("#record-body").textContent = error.message;
    return;
  }
  const parts = [];
  if (kind === "purchase-orders") {
    parts.push(el("section", { class: "card" }, el("h2", {}, "Purchase order ", el("code", {}, found.number), " ", badge(found.state)),
      facts([["type", found.type], ["created", found.created], ["updated", found.updated], ["vendor code", found.vendor_code],
             ["ship to", found.ship_to], ["window", found.window], ["confirmation", found.confirmation.join(", ")],
             ["receiving", found.receiving.join(", ")]])));
    parts.push(el("div", { class: "columns" },
      el("section", { class: "card" }, el("h3", {}, "History (sandbox time)"),
        el("ol", { class: "timeline", id: "po-history" }, found.history.map((item) => el("li", {}, el("time", {}, item.at), item.event)))),
      el("section", { class: "card" }, el("h3", {}, "Items"), el("table", { class: "grid" },
        el("thead", {}, el("tr", {}, ["item", "ordered", "accepted", "rejected", "cancelled", "shipped", "received", "invoiced"].map((name) => el("th", { class: name === "item" ? "" : "num" }, name)))),
        el("tbody", {}, Object.entries(found.tracking).map(([sequence, track]) => el("tr", {}, el("td", {}, sequence),
          ["ordered", "accepted", "rejected", "cancelled", "shipped", "received", "invoiced"].map((name) => el("td", { class: "num" }, track[name])))))))));
    parts.push(transactionsCard(who, found.transactions));
    const documents = found.documents;
    parts.push(el("section", { class: "card" }, el("h3", {}, "Documents"),
      ...Object.entries(documents).map(([name, items]) => el("details", { open: items.length ? true : undefined },
        el("summary", {}, `${name.replace("_", " ")} (${items.length})`), items.length ? json(items) : el("p", { class: "muted" }, "none")))));
    parts.push(el("section", { class: "card" }, el("details", {}, el("summary", {}, "The order as Amazon sends it"), json(found.order))));
  } else if (kind === "transactions") {
    parts.push(el("section", { class: found.status === "Failure" ? "card alert" : "card" },
      el("h2", {}, "Transaction ", el("code", {}, found.transaction_id), " ", outcomeBadge(found.status)),
      facts([["family", found.family], ["kind", found.kind], ["submitted (real time)", found.submitted],
             ["documents", (found.documents || []).join(" ")], ["duplicate of", found.duplicate_of]]),
      found.errors.length ? el("h3", {}, "Broken rules") : null, found.errors.length ? errorList(found.errors) : null));
    parts.push(el("section", { class: "card" }, el("h3", {}, "Submitted"), json(found.body)));
    if (found.result) parts.push(el("section", { class: "card" }, el("h3", {}, "What it made"), json(found.result)));
  } else {
    parts.push(el("section", { class: "card" }, el("h2", {}, "Direct Fulfillment order ", el("code", {}, found.number), " ", badge(found.status)),
      facts([["created", found.created], ["warehouse", found.ship_from], ["ship method", found.ship_method],
             ["packing slip", found.packing_slip ? "yes" : "no"], ["customer invoice", found.customer_invoice ? "yes" : "no"]])));
    parts.push(el("section", { class: "card" }, el("h3", {}, "What happened to it"), json(found.track)));
    parts.push(transactionsCard(who, found.transactions));
    parts.push(el("section", { class: "card" }, el("h3", {}, "Shipping label"), json(found.label)));
    parts.push(el("section", { class: "card" }, el("h3", {}, `Invoices (${found.invoices.length})`), json(found.invoices)));
    parts.push(el("section", { class: "card" }, el("details", {}, el("summary", {}, "The order as Amazon sends it"), json(found.order))));
  }
  fill($("#record-body"), ...parts);
}

function transactionsCard(who, transactions) {
  return el("section", { class: "card" }, el("h3", {}, `Transactions naming it (${transactions.length})`),
    transactions.length ? el("table", { class: "grid" }, el("tbody", {}, transactions.map((item) => el("tr", {},
      el("td", { class: "mono" }, el("a", { href: uiLink(`/world/${who}/transactions/${encodeURIComponent(item.transaction_id)}`) }, item.submitted)),
      el("td", {}, item.kind), el("td", {}, outcomeBadge(item.status)),
      el("td", {}, (item.rules || []).map((rule) => [ruleLink(rule), " "]))))))
      : el("p", { class: "muted" }, "none"));
}

// -- the clock -----------------------------------------------------------------------------------------------
function clockPage(refreshHeader) {
  let frozen = false;
  const draw = (clock) => {
    frozen = clock.frozen;
    $("#clock-now").textContent = clock.now;
    $("#clock-state").textContent = clock.frozen ? "frozen" : "running";
    $("#clock-state").className = `badge ${clock.frozen ? "warn" : "ok"}`;
    $("#clock-offset").textContent = clock.offset_seconds;
    $("#clock-freeze").textContent = clock.frozen ? "Unfreeze" : "Freeze";
  };
  const change = async (body) => {
    try {
      refreshHeader(await api("POST", "/clock", body));  // the header and this page (its event) at once
      showError("");
    } catch (error) { showError(`Clock: ${error.message}`); }
  };
  document.addEventListener("sandbox-clock", (event) => draw(event.detail));
  for (const button of document.querySelectorAll("[data-advance]")) {
    button.addEventListener("click", () => change({ advance: Number(button.dataset.advance) }));
  }
  $("#clock-freeze").addEventListener("click", () => change({ freeze: !frozen }));
  $("#clock-advance-form").addEventListener("submit", (event) => {
    event.preventDefault();
    change({ advance: Number($("#advance-seconds").value) });
  });
  $("#clock-set-form").addEventListener("submit", (event) => {
    event.preventDefault();
    change({ set: $("#clock-set").value });
  });
}

// -- faults ----------------------------------------------------------------------------------------------------
function describeMatch(rule) {
  const parts = [];
  for (const name of ["operation", "method", "path", "account", "application"]) {
    if (rule[name]) parts.push(`${name} ${[].concat(rule[name]).join("|")}`);
  }
  if (rule.header) parts.push(`header ${JSON.stringify(rule.header)}`);
  return parts.join(", ") || "every call";
}

function describeTrigger(rule) {
  const parts = [];
  if (rule.nth) parts.push(`call ${[].concat(rule.nth).join(", ")}`);
  if (rule.first !== undefined) parts.push(`first ${rule.first}`);
  if (rule.probability !== undefined) parts.push(`p=${rule.probability}`);
  if (rule.times !== undefined) parts.push(`at most ${rule.times}`);
  if (rule.window) parts.push(`from ${rule.window.start}s to ${rule.window.end}s`);
  return parts.join(", ") || "always";
}

async function faultsPage() {
  const latest = latestAnswer();  // a poll answered after a rule was added or removed is older than the list
  const load = async () => {
    try {
      const listing = await latest(get("/faults"));
      if (!listing) return;
      const rows = listing.rules.map((rule) => el("tr", { "data-rule-id": rule.id },
        el("td", {}, el("code", {}, rule.id)), el("td", {}, rule.endpoint), el("td", {}, describeMatch(rule)),
        el("td", {}, describeTrigger(rule)), el("td", {}, badge(rule.action, "warn")),
        el("td", { class: "mono" }, rule.params ? JSON.stringify(rule.params) : ""),
        el("td", { class: "num" }, rule.matched), el("td", { class: "num" }, rule.fired),
        el("td", {}, el("button", { type: "button", class: "danger remove-rule", onclick: async () => {
          try { await api("DELETE", `/faults/${encodeURIComponent(rule.id)}`); } catch (error) { showError(error.message); }
          load();
        } }, "Remove"))));
      fill($("#fault-rows"), ...rows);
      $("#faults-empty").hidden = rows.length > 0;
      fill($("#fault-storms"), ...(listing.storms || []).map((storm) => el("p", {}, badge("throttle storm", "warn"), " ", JSON.stringify(storm))));
    } catch (error) { showError(error.message); }
  };
  $("#faults-clear").addEventListener("click", async () => {
    if (!window.confirm("Remove every fault rule?")) return;
    await api("DELETE", "/faults");
    load();
  });
  $("#fault-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const data = new FormData(event.target);
    const rule = { action: data.get("action"), endpoint: data.get("endpoint") };
    for (const name of ["operation", "account", "method", "path", "description"]) {
      if (data.get(name)) rule[name] = data.get(name);
    }
    for (const name of ["first", "times"]) if (data.get(name)) rule[name] = Number(data.get(name));
    if (data.get("probability")) rule.probability = Number(data.get("probability"));
    if (data.get("nth")) rule.nth = String(data.get("nth")).split(",").map((item) => Number(item.trim()));
    $("#fault-error").textContent = "";
    try {
      if (data.get("params")) rule.params = JSON.parse(data.get("params"));
      await api("POST", "/faults", rule);
      event.target.reset();
    } catch (error) {
      $("#fault-error").textContent = error.message;
    }
    load();
  });
  load();
  window.setInterval(load, 3000);
}

// -- reports ---------------------------------------------------------------------------------------------------
async function reportsPage() {
  try {
    const verdict = await get("/report/retries");
    const holder = $("#verdict");
    if (!verdict.clients.length) {
      fill(holder, el("p", { class: "muted" }, "No client has retried anything yet."));
    } else {
      fill(holder, badge(verdict.passed ? "PASS" : "FAIL", verdict.passed ? "ok" : "bad"),
        ...verdict.clients.map((client) => el("div", { class: "verdict-client" },
          el("h3", {}, badge(client.passed ? "PASS" : "FAIL", client.passed ? "ok" : "bad"), " ", client.application, " ",
            el("span", { class: "muted" }, client.user_agent || "(no user agent)")),
          el("ul", { class: "check-list" }, client.checks.map((check) => el("li", {},
            badge(check.passed ? "ok" : "failed", check.passed ? "ok" : "bad"), " ", el("b", {}, check.name), ": ", check.detail))),
          client.evidence.length ? el("details", {}, el("summary", {}, `evidence: ${client.evidence.length} retried call(s)`),
            el("table", { class: "grid" }, el("tbody", {}, client.evidence.map((call) => el("tr", {},
              el("td", { class: "path" }, `${call.method} ${call.path}`),
              el("td", {}, call.attempts.map((attempt) => [badge(`${attempt.at}s: ${attempt.status}${attempt.fault ? ` (${attempt.fault})` : ""}`,
                attempt.status && attempt.status < 300 ? "ok" : "warn"), " "]))))))) : null)));
    }
  } catch (error) { showError(error.message); }
  const select = $("#conformance-application");
  const draw = async () => {
    try {
      const application = select.value;
      const report = await get(`/report/conformance${application ? `?application=${encodeURIComponent(application)}` : ""}`);
      fill($("#conformance"), 
        el("p", {}, badge(report.conforms ? "conforms" : "violations", report.conforms ? "ok" : "bad"), " ",
          `${report.calls} call(s) to ${report.operations.length} operation(s), ${report.violation_count} violation(s), ${report.never_exercised.length} operation(s) never exercised`),
        el("table", { class: "grid" }, el("thead", {}, el("tr", {}, ["operation", "calls", "statuses", "violations"].map((name) => el("th", {}, name)))),
          el("tbody", {}, report.operations.map((row) => el("tr", {},
            el("td", {}, row.operation_id || row.operation), el("td", { class: "num" }, row.calls),
            el("td", {}, Object.entries(row.statuses).map(([status, count]) => [statusBadge(Number(status)), ` ×${count} `])),
            el("td", {}, row.violations.map((item) => el("div", {}, badge(item.rule, "warn"), ` ×${item.count} `, item.message))))))));
    } catch (error) { showError(error.message); }
  };
  try {
    const accounts = await get("/accounts");
    for (const name of [...new Set(accounts.accounts.map((item) => item.application))]) {
      select.append(el("option", { value: name }, name));
    }
  } catch (error) { showError(error.message); }
  select.addEventListener("change", draw);
  draw();
}

// -- snapshots -------------------------------------------------------------------------------------------------
async function snapshotsPage(refreshHeader) {
  const latest = latestAnswer();
  const load = async () => {
    try {
      const listing = await latest(get("/snapshots"));
      if (!listing) return;
      $("#snapshot-directory").textContent = listing.directory;
      setRows($("#snapshot-rows"), listing.snapshots.map((item) => el("tr", { "data-name": item.name },
        el("td", {}, el("code", {}, item.name)),
        ...(item.problem ? [el("td", { colspan: 6, class: "error" }, item.problem)] : [
          el("td", { class: "mono" }, item.saved_at),
          el("td", { class: "mono" }, `${new Date(item.clock.now * 1000).toISOString().slice(0, 19)}Z${item.clock.frozen ? " (frozen)" : ""}`),
          el("td", { class: "num" }, item.counts.purchase_orders), el("td", { class: "num" }, item.counts.df_orders),
          el("td", { class: "num" }, item.counts.documents), el("td", { class: "num" }, `${Math.ceil(item.bytes / 1024)} KB`)]),
        el("td", {},
          item.problem ? null : el("button", { type: "button", class: "restore", onclick: async () => {
            if (!window.confirm(`Replace the world with snapshot ${item.name}?`)) return;
            try { await api("POST", `/snapshots/${encodeURIComponent(item.name)}/restore`); showError(""); refreshHeader(); }
            catch (error) { showError(error.message); }
          } }, "Restore"), " ",
          el("button", { type: "button", class: "danger", onclick: async () => {
            if (!window.confirm(`Delete snapshot ${item.name}?`)) return;
            await api("DELETE", `/snapshots/${encodeURIComponent(item.name)}`).catch((error) => showError(error.message));
            load();
          } }, "Delete")))), "No snapshots yet.", 8);
    } catch (error) { showError(error.message); }
  };
  $("#snapshot-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const data = new FormData(event.target);
    $("#snapshot-error").textContent = "";
    try {
      await api("POST", "/snapshots", { name: data.get("name"), replace: data.get("replace") === "on" });
      event.target.reset();
    } catch (error) { $("#snapshot-error").textContent = error.message; }
    load();
  });
  load();
}

// -- accounts: copy buttons ----------------------------------------------------------------------------------
function accountsPage() {
  for (const button of document.querySelectorAll("button.copy")) {
    button.addEventListener("click", async () => {
      const text = button.dataset.copy;
      try {
        await navigator.clipboard.writeText(text);
      } catch (error) {  // no clipboard API (plain http on another host): copy through a selection
        const area = el("textarea", {}, text);
        document.body.append(area);
        area.select();
        document.execCommand("copy");
        area.remove();
      }
      const label = button.textContent;
      button.textContent = "copied";
      window.setTimeout(() => { button.textContent = label; }, 1200);
    });
  }
}

// -- start -----------------------------------------------------------------------------------------------------
document.addEventListener("DOMContentLoaded", () => {
  const refreshHeader = header();
  const pages = {
    journal: () => ($("#journal-filters") ? journalPage() : $("#exchange") ? exchangePage() : null),
    world: () => ($("#record") ? recordPage() : $("#world-summary") ? worldPage() : null),
    clock: () => clockPage(refreshHeader),
    faults: faultsPage,
    reports: reportsPage,
    snapshots: () => snapshotsPage(refreshHeader),
    accounts: accountsPage,
  };
  const start = pages[document.body.dataset.page];
  if (start) Promise.resolve(start()).catch((error) => showError(error.message));
});
