// Keel's operator UI: a live blotter, an order ticket and an order's timeline.
// No build step: plain modern JavaScript against Keel's own HTTP API and WebSocket stream.
"use strict";

const state = { key: null, orders: new Map(), lastSeq: null, sortKey: "order_id", sortUp: false, socket: null };
const $ = (id) => document.getElementById(id);
const TERMINAL = new Set(["FILLED", "CANCELED", "REJECTED", "EXPIRED"]);

// -- signing in: the key comes from the form, or once from the URL's #key=... fragment --
function start() {
  const fragment = new URLSearchParams(location.hash.slice(1));
  if (fragment.get("key")) {
    sessionStorage.setItem("keel-key", fragment.get("key"));
    history.replaceState(null, "", location.pathname);  // the key does not stay in the address bar
  }
  state.key = sessionStorage.getItem("keel-key");
  if (state.key) { enter(); } else { $("login").hidden = false; }
}

$("login-form").addEventListener("submit", (e) => {
  e.preventDefault();
  sessionStorage.setItem("keel-key", $("key").value.trim());
  state.key = sessionStorage.getItem("keel-key");
  enter();
});

async function api(path, options = {}) {
  const response = await fetch(path, {
    ...options,
    headers: { "Authorization": `Bearer ${state.key}`, "Content-Type": "application/json", ...(options.headers || {}) },
  });
  const body = await response.json().catch(() => ({}));
  if (!response.ok) { const error = new Error(body.detail || response.statusText); error.status = response.status; error.body = body; throw error; }
  return body;
}

async function enter() {
  try {
    const page = await api("/v1/orders?limit=1000");
    $("login").hidden = true;
    $("desk").hidden = false;
    for (const order of page.orders) state.orders.set(order.order_id, order);
    render();
    connect();
    watch();
  } catch (error) {
    sessionStorage.removeItem("keel-key");
    $("desk").hidden = true;
    $("login").hidden = false;
    $("login-error").textContent = error.status === 401 ? "That key is not valid." : `Keel did not answer: ${error.message}`;
  }
}

// -- the live stream: every committed event; on a reconnect, since the last one seen --
function connect() {
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  const since = state.lastSeq === null ? "" : `&since=${state.lastSeq}`;
  const socket = new WebSocket(`${scheme}://${location.host}/v1/stream?token=${encodeURIComponent(state.key)}${since}`);
  state.socket = socket;
  socket.onopen = () => $("live").classList.add("on");
  socket.onclose = () => { $("live").classList.remove("on"); setTimeout(connect, 1000); };
  socket.onmessage = (message) => {
    const event = JSON.parse(message.data);
    state.lastSeq = event.seq;
    refresh(event.order_id);
    if (event.type.startsWith("Exception") || event.type.startsWith("Resolution")) loadExceptions();
  };
}

const pending = new Set();
async function refresh(orderId) {
  if (pending.has(orderId)) return;
  pending.add(orderId);
  await new Promise((resolve) => setTimeout(resolve, 30));  // one fetch for a burst of events
  pending.delete(orderId);
  try {
    state.orders.set(orderId, await api(`/v1/orders/${encodeURIComponent(orderId)}`));
    render();
    if ($("order-id").textContent === orderId) showOrder(orderId);
  } catch (error) { /* an order this user may not see */ }
}

// -- the blotter: filter, sort, status colours --
function render() {
  const words = $("filter").value.trim().toUpperCase().split(/\s+/).filter(Boolean);
  const rows = [...state.orders.values()].filter((o) => {
    const text = `${o.order_id} ${o.account} ${o.symbol} ${o.side} ${o.status} ${o.client_order_id || ""}`.toUpperCase();
    return words.every((w) => text.includes(w));
  });
  const key = state.sortKey, sign = state.sortUp ? 1 : -1;
  const numeric = ["qty", "limit_price", "cum_qty", "leaves_qty", "avg_px"].includes(key);
  rows.sort((a, b) => {
    const x = a[key] ?? "", y = b[key] ?? "";
    return sign * (numeric ? Number(x) - Number(y) : String(x).localeCompare(String(y)));
  });
  $("orders").replaceChildren(...rows.map(row));
}

function cell(text, className) {
  const td = document.createElement("td");
  td.textContent = text ?? "";
  if (className) td.className = className;
  return td;
}

function row(o) {
  const tr = document.createElement("tr");
  tr.dataset.orderId = o.order_id;
  const status = document.createElement("span");
  status.className = `status status-${o.status}`;
  status.textContent = o.status;
  const statusCell = document.createElement("td");
  statusCell.append(status);
  const actions = document.createElement("td");
  if (!TERMINAL.has(o.status)) {
    const change = document.createElement("button");
    change.textContent = "Replace";
    change.className = "replace";
    change.addEventListener("click", async (e) => {
      e.stopPropagation();
      const qty = prompt(`New quantity for ${o.order_id}`, o.qty);
      if (qty === null) return;
      const price = o.limit_price === null ? null : prompt("New limit price", o.limit_price);
      const body = { qty: qty.trim() };
      if (price) body.limit_price = price.trim();
      try { await api(`/v1/orders/${encodeURIComponent(o.order_id)}/replace`, { method: "POST", body: JSON.stringify(body) }); }
      catch (error) {
        const reasons = (error.body && error.body.errors || []).map((x) => `${x.field}: ${x.reason}`).join("; ");
        $("ticket-result").textContent = `Replace refused: ${reasons || error.message}`;
      }
    });
    actions.append(change);
    const cancel = document.createElement("button");
    cancel.textContent = "Cancel";
    cancel.className = "cancel";
    cancel.addEventListener("click", async (e) => {
      e.stopPropagation();
      try { await api(`/v1/orders/${encodeURIComponent(o.order_id)}/cancel`, { method: "POST" }); }
      catch (error) { $("ticket-result").textContent = `Cancel refused: ${error.message}`; }
    });
    actions.append(cancel);
  }
  tr.append(cell(o.order_id), cell(o.account), cell(o.symbol), cell(o.side), cell(o.qty, "num"),
    cell(o.limit_price, "num"), statusCell, cell(o.cum_qty, "num"), cell(o.leaves_qty, "num"),
    cell(o.avg_px, "num"), cell((o.updated_at || "").slice(11, 23)), actions);
  tr.addEventListener("click", () => showOrder(o.order_id));
  return tr;
}

$("filter").addEventListener("input", render);
document.querySelectorAll("#blotter th[data-key]").forEach((th) => th.addEventListener("click", () => {
  state.sortUp = state.sortKey === th.dataset.key ? !state.sortUp : true;
  state.sortKey = th.dataset.key;
  render();
}));

// -- the ticket --
$("ticket-form").addEventListener("submit", async (e) => {
  e.preventDefault();
  const form = new FormData(e.target);
  const order = Object.fromEntries([...form.entries()].filter(([, v]) => v !== ""));
  if (order.type === "MARKET") delete order.limit_price;
  try {
    const placed = await api("/v1/orders", { method: "POST", body: JSON.stringify(order) });
    state.orders.set(placed.order_id, placed);
    render();
    $("ticket-result").textContent = `Order ${placed.order_id}: ${placed.status}`;
  } catch (error) {
    const reasons = (error.body && error.body.errors || []).map((x) => `${x.field}: ${x.reason}`).join("; ");
    $("ticket-result").textContent = `Refused: ${reasons || error.message}`;
  }
});

// -- one order: what happened, in order --
async function showOrder(orderId) {
  try {
    const story = await api(`/v1/orders/${encodeURIComponent(orderId)}/timeline`);
    $("order").hidden = false;
    $("order-id").textContent = orderId;
    const facts = $("order-facts");
    facts.replaceChildren();
    for (const fact of story.facts || []) { const dd = document.createElement("dd"); dd.textContent = fact; facts.append(dd); }
    $("timeline").replaceChildren(...story.timeline.map((t) => {
      const tr = document.createElement("tr");
      tr.append(cell((t.processed_time || "").replace("T", " ").slice(0, 23)), cell(t.type), cell(t.summary), cell(t.input_source));
      return tr;
    }));
    $("fills").replaceChildren(...story.fills.map((f) => {
      const tr = document.createElement("tr");
      tr.append(cell(f.fill_id), cell(f.exec_id), cell(f.qty, "num"), cell(f.price, "num"), cell((f.event_time || "").slice(11, 23)));
      return tr;
    }));
    $("order-exceptions").replaceChildren(...(story.exceptions || []).map((x) => {
      const tr = document.createElement("tr");
      const resolution = x.status === "RESOLVED" ? `${x.resolution_kind || "cleared"} by ${x.resolved_by}${x.approved_by ? `, approved by ${x.approved_by}` : ""}: ${x.resolution}` : "";
      tr.append(cell(x.exception_id), cell(x.kind), cell(x.summary), cell(x.status), cell(resolution));
      return tr;
    }));
  } catch (error) { $("ticket-result").textContent = `Cannot show ${orderId}: ${error.message}`; }
}
$("close-order").addEventListener("click", () => { $("order").hidden = true; $("order-id").textContent = ""; });

// -- what else an operator watches: venue sessions, halts, open exceptions --
async function watch() {
  await Promise.all([loadVenues(), loadHalts(), loadExceptions(), loadPositions(), loadRuns()]);
  setTimeout(watch, 3000);
}

async function loadVenues() {
  try {
    const { venues } = await api("/v1/venues");
    $("venues").replaceChildren(...venues.map((v) => {
      const span = document.createElement("span");
      span.className = v.logged_on ? "up" : "down";
      span.textContent = `${v.venue} ${v.logged_on ? "●" : "○"} ${v.state} `;
      span.title = `${v.session}: next out ${v.next_sender_seq}, next in ${v.next_target_seq}`;
      return span;
    }));
  } catch (error) { /* shown again on the next tick */ }
}

async function loadHalts() {
  try {
    const { halts } = await api("/v1/kill-switch");
    $("halts").hidden = halts.length === 0;
    $("halts").textContent = halts.map((h) => `New orders halted for ${h.scope === "*" ? "every account" : h.scope}: ${h.reason} (${h.actor})`).join(" · ");
  } catch (error) { /* shown again on the next tick */ }
}

// -- the exceptions queue: take one, resolve it with a comment, approve what changes the books --
const RESOLUTIONS = ["EXPLAINED", "BOOKED_MISSING_FILL", "BUSTED_FILL", "CORRECTED_MAPPING"];
const NEEDS_FILL = { BOOKED_MISSING_FILL: ["exec_id", "qty", "price"], BUSTED_FILL: ["exec_id"] };

async function loadExceptions() {
  if ($("exception-rows").contains(document.activeElement)) return;  // someone is typing a comment
  try {
    const { exceptions } = await api("/v1/exceptions?limit=1000");
    const open = exceptions.filter((x) => x.status !== "RESOLVED");
    $("exception-rows").replaceChildren(...open.map(exceptionRow));
  } catch (error) { /* shown again on the next tick */ }
}

function exceptionRow(x) {
  const tr = document.createElement("tr");
  tr.dataset.exceptionId = x.exception_id;
  const status = document.createElement("span");
  status.className = `status exception-${x.status}`;
  status.textContent = x.status;
  const statusCell = document.createElement("td");
  statusCell.append(status);
  const work = document.createElement("td");
  work.className = "work";
  work.addEventListener("click", (e) => e.stopPropagation());
  if (x.status === "AWAITING_APPROVAL") {
    const proposal = x.proposal || {};
    const what = document.createElement("span");
    const terms = proposal.qty ? ` ${proposal.qty} @ ${proposal.price} exec ${proposal.exec_id}` : proposal.exec_id ? ` exec ${proposal.exec_id}` : "";
    what.textContent = `${proposal.actor} proposes ${proposal.kind}${terms}: ${proposal.comment} `;
    work.append(what, button("Approve", "approve", () => step(x, "approve", {})),
      button("Decline", "decline", () => step(x, "decline", { comment: prompt("Why decline?") || "" })));
  } else {
    if (x.status === "OPEN") work.append(button("Take", "take", () => step(x, "acknowledge", {})));
    const kind = document.createElement("select");
    kind.className = "resolution-kind";
    kind.append(...RESOLUTIONS.map((k) => Object.assign(document.createElement("option"), { value: k, textContent: k })));
    const comment = Object.assign(document.createElement("input"), { className: "comment", placeholder: "comment (why)" });
    const fill = Object.fromEntries(["exec_id", "qty", "price"].map((name) => [name,
      Object.assign(document.createElement("input"), { className: `fill-${name}`, placeholder: name, hidden: true, size: 8 })]));
    kind.addEventListener("change", () => {
      for (const [name, input] of Object.entries(fill)) input.hidden = !(NEEDS_FILL[kind.value] || []).includes(name);
    });
    const resolve = button("Resolve", "resolve", () => {
      const body = { kind: kind.value, comment: comment.value.trim() };
      for (const name of NEEDS_FILL[kind.value] || []) if (fill[name].value.trim()) body[name] = fill[name].value.trim();
      step(x, "resolve", body);
    });
    work.append(kind, comment, ...Object.values(fill), resolve);
  }
  tr.append(cell(x.exception_id), cell(x.kind), cell(x.order_id), cell(x.summary), statusCell,
    cell(x.assignee), cell((x.raised_at || "").replace("T", " ").slice(0, 19)), work);
  if (x.order_id) tr.addEventListener("click", () => showOrder(x.order_id));
  return tr;
}

function button(text, className, action) {
  const b = Object.assign(document.createElement("button"), { type: "button", textContent: text, className });
  b.addEventListener("click", action);
  return b;
}

async function step(x, action, body) {
  try {
    const after = await api(`/v1/exceptions/${encodeURIComponent(x.exception_id)}/${action}`, { method: "POST", body: JSON.stringify(body) });
    $("exception-result").textContent = `${after.exception_id}: ${after.status}${after.assignee ? ` (${after.assignee})` : ""}`;
    document.activeElement.blur();
    await loadExceptions();
    if (x.order_id && $("order-id").textContent === x.order_id) showOrder(x.order_id);
  } catch (error) {
    const reasons = (error.body && error.body.errors || []).map((e) => `${e.field}: ${e.reason}`).join("; ");
    $("exception-result").textContent = `${x.exception_id}: ${reasons || error.message}`;
  }
}

// -- reconciliation: start a run with a statement file, read runs and their breaks --
async function loadRuns() {
  try {
    const { runs } = await api("/v1/recon/runs?limit=20");
    $("recon-runs").replaceChildren(...runs.map((r) => {
      const tr = document.createElement("tr");
      const count = Object.values(r.summary.breaks_by_kind).reduce((a, b) => a + b, 0);
      const result = cell(r.result, `result-${r.result}`);
      const report = document.createElement("td");
      for (const kind of ["html", "csv"]) {
        const link = Object.assign(document.createElement("a"), { textContent: kind.toUpperCase(), href: "#" });
        link.addEventListener("click", (e) => { e.preventDefault(); e.stopPropagation(); download(r.run_id, kind); });
        report.append(link, " ");
      }
      tr.append(cell(r.run_id), cell(r.broker), result, cell(String(count), "num"), cell(r.actor),
        cell((r.finished_at || "").replace("T", " ").slice(0, 19)), report);
      tr.addEventListener("click", () => showRun(r.run_id));
      return tr;
    }));
  } catch (error) { /* shown again on the next tick */ }
}

async function showRun(runId) {
  try {
    const run = await api(`/v1/recon/runs/${encodeURIComponent(runId)}`);
    $("recon-run").hidden = false;
    $("recon-run-id").textContent = `${run.run_id} (${run.result})`;
    $("recon-breaks").replaceChildren(...run.breaks.map((b) => {
      const tr = document.createElement("tr");
      tr.append(cell(b.kind), cell(b.state), cell(b.order_id), cell(b.exception_id), cell(b.explanation),
        cell(b.evidence.map((e) => `${e.kind} ${e.ref}`).join("; ")));
      if (b.order_id) tr.addEventListener("click", () => showOrder(b.order_id));
      return tr;
    }));
  } catch (error) { $("recon-result").textContent = `Cannot show ${runId}: ${error.message}`; }
}

async function download(runId, kind) {
  const response = await fetch(`/v1/recon/runs/${encodeURIComponent(runId)}/report.${kind}`, { headers: { "Authorization": `Bearer ${state.key}` } });
  const url = URL.createObjectURL(await response.blob());
  Object.assign(document.createElement("a"), { href: url, download: `${runId}.${kind}` }).click();
  URL.revokeObjectURL(url);
}

$("recon-form").addEventListener("submit", async (e) => {
  e.preventDefault();
  const form = new FormData(e.target);
  const file = form.get("statement");
  const query = new URLSearchParams({ broker: form.get("broker") });
  if (form.get("trade_date")) query.set("trade_date", form.get("trade_date"));
  const hasFile = file && file.size > 0;
  if (hasFile) query.set("file_name", file.name);
  $("recon-result").textContent = "Reconciling...";
  try {
    const run = await api(`/v1/recon/runs?${query}`, {
      method: "POST", headers: { "Content-Type": "text/csv" }, body: hasFile ? await file.arrayBuffer() : undefined,
    });
    const count = run.breaks.length;
    $("recon-result").textContent = `Run ${run.run_id}: ${run.result}, ${count} break(s).`;
    await loadRuns();
    showRun(run.run_id);
  } catch (error) {
    const reasons = (error.body && error.body.errors || []).map((x) => x.reason).join("; ");
    $("recon-result").textContent = `Refused: ${error.message}${reasons ? ` (${reasons})` : ""}`;
  }
});

async function loadPositions() {
  try {
    const { positions } = await api("/v1/positions");
    $("position-rows").replaceChildren(...positions.map((p) => {
      const tr = document.createElement("tr");
      tr.append(cell(p.account), cell(p.instrument), cell(p.net_qty, "num"), cell(p.avg_cost, "num"), cell(p.realized_pnl, "num"));
      return tr;
    }));
  } catch (error) { /* shown again on the next tick */ }
}

$("kill-form").addEventListener("submit", async (e) => {
  e.preventDefault();
  const form = new FormData(e.target);
  const body = { reason: form.get("reason"), cancel_working: form.get("cancel_working") === "on" };
  if (form.get("account")) body.account = form.get("account");
  try {
    const halt = await api("/v1/kill-switch", { method: "POST", body: JSON.stringify(body) });
    $("kill-result").textContent = `Halted ${halt.scope === "*" ? "every account" : halt.scope}; cancel sent for ${halt.cancel_requested.length} order(s).`;
    loadHalts();
  } catch (error) { $("kill-result").textContent = `Refused: ${error.message}`; }
});

$("lift").addEventListener("click", async () => {
  const account = new FormData($("kill-form")).get("account");
  try {
    await api(`/v1/kill-switch${account ? `?account=${encodeURIComponent(account)}` : ""}`, { method: "DELETE" });
    $("kill-result").textContent = `Lifted the halt on ${account || "every account"}.`;
    loadHalts();
  } catch (error) { $("kill-result").textContent = `Refused: ${error.message}`; }
});

window.addEventListener("hashchange", start);  // a #key=... pasted into an open page
start();
