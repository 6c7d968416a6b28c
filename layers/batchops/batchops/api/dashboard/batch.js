// One batch (#/batches/{id}): counts, timings, failures by error code, its items page by page, cancel, retry
// and its reports. Refreshed every 2 s while the batch is not final.

import { call } from "./api.js";
import {
  byId, duration, h, isFinal, number, percent, poll, progressBar, progressText, setText, show, statusBadge,
  stopPoll, time,
} from "./dom.js";
import { clearError, showError, transient } from "./notice.js";

const POLL_MS = 2000;
// Failures are grouped from the failed items themselves (the API has no summary route): at most this many pages
// of 1,000 are read, and the table says when it shows only part of them.
const FAILURE_PAGES = 20;
const FORMATS = [["csv", "CSV"], ["jsonl", "JSON Lines"]];
const SCOPES = [["all", "All items"], ["failed", "Failed items"]];

const state = { id: null, batch: null, tokens: [null], page: 0, next: null, failedSeen: -1 };

function path(suffix = "") {
  return `/batches/${encodeURIComponent(state.id)}${suffix}`;
}

function retryable(batch) {
  return isFinal(batch.status) && !batch.retriedBy
    && batch.failedItems + batch.skippedItems + batch.cancelledItems > 0;
}

function renderLinks(batch) {
  const parts = [];
  if (batch.parentBatchId) {
    parts.push("Retry of ", h("a", { href: `#/batches/${encodeURIComponent(batch.parentBatchId)}`,
      dataset: { testid: "parent-link" } }, batch.parentBatchId.slice(0, 8)), ". ");
  }
  if (batch.retriedBy) {
    parts.push("Retried by ", h("a", { href: `#/batches/${encodeURIComponent(batch.retriedBy)}`,
      dataset: { testid: "retried-by-link" } }, batch.retriedBy.slice(0, 8)), ".");
  }
  byId("batch-links").replaceChildren(...parts);
}

function renderBatch(batch) {
  state.batch = batch;
  setText("batch-operation", batch.operation);
  setText("batch-id", batch.batchId);
  byId("batch").dataset.status = batch.status;
  byId("batch-status-slot").replaceChildren(statusBadge(batch.status, "batch-status"));
  byId("batch-progress-slot").replaceChildren(progressBar(batch, "batch-progress"));
  setText("batch-progress-text", `${progressText(batch)} processed (${percent(batch.progressPercent)})`);
  setText("count-total", number(batch.totalItems));
  setText("count-processed", number(batch.processedItems));
  setText("count-succeeded", number(batch.succeededItems));
  setText("count-failed", number(batch.failedItems));
  setText("count-skipped", number(batch.skippedItems));
  setText("count-cancelled", number(batch.cancelledItems));
  setText("success-rate", percent(batch.successRate));
  setText("created-at", time(batch.createdAt));
  setText("started-at", time(batch.startedAt));
  setText("completed-at", time(batch.completedAt));
  const running = batch.startedAt && !batch.completedAt ? Date.now() - Date.parse(batch.startedAt) : null;
  setText("duration", batch.durationMs !== null ? duration(batch.durationMs)
    : running !== null ? `${duration(running)} so far` : "—");
  setText("avg-item", duration(batch.avgItemDurationMs));
  setText("concurrency", `${batch.options.maxConcurrency} at once, chunks of ${batch.options.chunkSize}`);
  const error = byId("batch-error");
  error.textContent = batch.error ? `${batch.error.code}: ${batch.error.message}` : "";
  show(error, Boolean(batch.error));
  show(byId("cancel-button"), !isFinal(batch.status));
  show(byId("retry-button"), retryable(batch));
  renderLinks(batch);
  renderReports(batch);
}

function renderReports(batch) {
  const final = isFinal(batch.status);
  setText("reports-note", final ? "Per-item results, every item or the failed ones (links valid 15 minutes)."
    : "Reports are written when the batch is final.");
  byId("reports").replaceChildren(...(final ? FORMATS.map(([format, label]) => h("div", { class: "report-row" },
    h("span", { class: "report-format" }, label),
    ...SCOPES.map(([scope, text]) => h("button", {
      type: "button", class: "button", dataset: { testid: `report-${format}-${scope}` },
      onclick: () => download(format, scope),
    }, text)))) : []));
  if (!final) {
    show(byId("report-link"), false);
  }
}

async function download(format, scope) {
  try {
    // redirect=false: the link as JSON. Following the 303 from script would be a cross-origin read (the
    // bucket), which this page's policy refuses; a navigation to the link is a plain download instead.
    const reply = await call("GET", path("/report"), { format, scope, redirect: "false" });
    if (!/^https?:\/\//.test(reply.url)) {
      throw new Error("the API answered a report link that is not an http(s) URL");
    }
    const link = byId("report-link");
    link.href = reply.url;
    link.textContent = `Download batch-${state.id.slice(0, 8)}-${scope}.${format}`;
    link.dataset.format = format;
    link.dataset.scope = scope;
    show(link, true);
    link.click();
  } catch (e) {
    showError(e);
  }
}

// An item by its id, or by its body for items that are one (content.create), as the client sent it.
function itemLabel(item) {
  if (typeof item.input === "object" && item.input !== null) {
    return JSON.stringify(item.input);
  }
  return item.itemId || String(item.input);
}

function itemResult(item) {
  if (item.error) {
    return [h("code", { class: "code bad" }, item.error.code), " ", item.error.message || ""];
  }
  const warnings = (item.warnings || []).map((w) => h("code", { class: "code warn", title: w.message }, w.code));
  return [item.message || "", ...warnings.flatMap((w) => [" ", w])];
}

function itemRow(item) {
  return h("tr", { dataset: { testid: "item-row", status: item.status, index: String(item.index) } },
    h("td", { class: "num" }, String(item.index)),
    h("td", { class: "truncate", title: itemLabel(item) }, itemLabel(item)),
    h("td", null, statusBadge(item.status, "item-status")),
    h("td", null, ...itemResult(item)),
    h("td", { class: "num" }, duration(item.durationMs)),
    h("td", { class: "nowrap" }, time(item.finishedAt)));
}

async function loadItems() {
  const status = byId("items-status").value;
  const limit = byId("items-limit").value;
  const reply = await call("GET", path("/items"), { status, limit, nextToken: state.tokens[state.page] });
  state.next = reply.nextToken;
  const table = byId("items");
  table.replaceChildren(...reply.items.map(itemRow));
  table.dataset.status = status;
  const empty = byId("items-empty");
  empty.textContent = state.next ? "No such item on this page: the next pages may have some." : "No items.";
  show(empty, reply.items.length === 0);
  byId("items-prev").disabled = state.page === 0;
  byId("items-next").disabled = !state.next;
  setText("items-page", `Page ${state.page + 1}`);
}

async function loadFailures(batch) {
  state.failedSeen = batch.failedItems;
  const groups = new Map();
  let token = null;
  let read = 0;
  let pages = 0;
  if (batch.failedItems > 0) {
    do {
      const reply = await call("GET", path("/items"), { status: "failed", limit: 1000, nextToken: token });
      for (const item of reply.items) {
        const code = item.error ? item.error.code : "unknown";
        const group = groups.get(code) || { count: 0, example: item.error ? item.error.message : "" };
        group.count += 1;
        groups.set(code, group);
      }
      read += reply.items.length;
      token = reply.nextToken;
      pages += 1;
    } while (token && pages < FAILURE_PAGES);
  }
  const sorted = [...groups.entries()].sort((a, b) => b[1].count - a[1].count);
  byId("failures").replaceChildren(...sorted.map(([code, group]) => h("tr",
    { dataset: { testid: "failure-row", code } },
    h("td", null, h("code", { class: "code bad" }, code)),
    h("td", { class: "num", dataset: { testid: "failure-count" } }, number(group.count)),
    h("td", { class: "truncate", title: group.example }, group.example))));
  setText("failures-note", batch.failedItems === 0 ? "No failed item."
    : token ? `Grouped from the first ${number(read)} of ${number(batch.failedItems)} failed items.`
      : `${number(read)} failed item${read === 1 ? "" : "s"}.`);
}

async function refresh() {
  const batch = await call("GET", path());
  renderBatch(batch);
  await loadItems();
  if (batch.failedItems !== state.failedSeen) {
    await loadFailures(batch);
  }
  return !isFinal(batch.status);
}

function watch() {
  poll("batch", POLL_MS, async () => {
    try {
      return await refresh();
    } catch (e) {
      showError(e);
      return transient(e);
    }
  });
}

async function act(button, run) {
  button.disabled = true;
  try {
    clearError();
    await run();
  } catch (e) {
    showError(e);
  } finally {
    button.disabled = false;
  }
}

// Another batch: nothing of the previous one stays on screen, even if this one cannot be read.
function reset(id) {
  Object.assign(state, { id, batch: null, tokens: [null], page: 0, next: null, failedSeen: -1 });
  byId("items-status").value = "";
  for (const slot of ["batch-status-slot", "batch-progress-slot", "batch-links", "failures", "items", "reports"]) {
    byId(slot).replaceChildren();
  }
  for (const field of ["batch-operation", "batch-progress-text", "failures-note", "reports-note", "items-page"]) {
    byId(field).textContent = "";
  }
  for (const field of ["count-total", "count-processed", "count-succeeded", "count-failed", "count-skipped",
    "count-cancelled", "success-rate", "created-at", "started-at", "completed-at", "duration", "avg-item",
    "concurrency"]) {
    setText(field, null);
  }
  setText("batch-id", id);
  for (const hidden of ["report-link", "batch-error", "cancel-button", "retry-button", "items-empty"]) {
    show(byId(hidden), false);
  }
}

export async function showBatch(id) {
  if (id !== state.id) {
    reset(id);
  }
  try {
    if (await refresh()) {
      watch();
    }
  } catch (e) {
    showError(e);
  }
}

export function leaveBatch() {
  stopPoll("batch");
}

export function initBatch() {
  for (const select of ["items-status", "items-limit"]) {
    byId(select).addEventListener("change", () => {
      Object.assign(state, { tokens: [null], page: 0 });
      loadItems().catch(showError);
    });
  }
  byId("items-next").addEventListener("click", () => {
    if (state.next) {
      state.tokens[state.page + 1] = state.next;
      state.page += 1;
      loadItems().catch(showError);
    }
  });
  byId("items-prev").addEventListener("click", () => {
    state.page = Math.max(0, state.page - 1);
    loadItems().catch(showError);
  });
  byId("cancel-button").addEventListener("click", (event) => act(event.currentTarget, async () => {
    renderBatch(await call("POST", path("/cancel")));
    watch(); // the items still running finish, then the batch ends cancelled
  }));
  byId("retry-button").addEventListener("click", (event) => act(event.currentTarget, async () => {
    const retry = await call("POST", path("/retry"));
    window.location.hash = `#/batches/${encodeURIComponent(retry.batchId)}`;
  }));
}
