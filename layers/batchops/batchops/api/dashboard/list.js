// The caller's batches, newest first (GET /batches), refreshed every 2 s while any shown batch is not final.

import { call } from "./api.js";
import {
  byId, h, isFinal, number, poll, progressBar, progressText, show, statusBadge, stopPoll, time,
} from "./dom.js";
import { showError, transient } from "./notice.js";

const POLL_MS = 2000;
const PAGE_SIZE = 20;
// The pages shown so far ("Load more" adds one): a refresh reads as many again, so nothing shown vanishes.
let pagesShown = 1;
let nextToken = null;

async function read(pages) {
  const status = byId("list-status").value;
  const batches = [];
  let token = null;
  for (let page = 0; page < pages; page += 1) {
    const reply = await call("GET", "/batches", { status, limit: PAGE_SIZE, nextToken: token });
    batches.push(...reply.batches);
    token = reply.nextToken;
    if (!token) {
      break;
    }
  }
  return { batches, token };
}

function row(batch) {
  const link = h("a", { href: `#/batches/${encodeURIComponent(batch.batchId)}`, dataset: { testid: "batch-link" } },
    batch.batchId.slice(0, 8));
  return h("tr", { dataset: { testid: "batch-row", batchId: batch.batchId, status: batch.status } },
    h("td", null, h("code", { title: batch.batchId }, link)),
    h("td", { class: "nowrap" }, batch.operation),
    h("td", null, statusBadge(batch.status, "row-status")),
    h("td", { class: "wide" },
      h("div", { class: "progress-cell" }, progressBar(batch, "row-progress"),
        h("span", { class: "progress-text", dataset: { testid: "row-progress-text" } }, progressText(batch)))),
    h("td", { class: "num ok" }, number(batch.succeededItems)),
    h("td", { class: "num bad" }, number(batch.failedItems)),
    h("td", { class: "num" }, number(batch.skippedItems)),
    h("td", { class: "num" }, number(batch.cancelledItems)),
    h("td", { class: "nowrap" }, time(batch.createdAt)));
}

function render(batches) {
  byId("batches").replaceChildren(...batches.map(row));
  show(byId("list-empty"), batches.length === 0);
  show(byId("list-more"), Boolean(nextToken));
  const running = batches.filter((b) => !isFinal(b.status)).length;
  const note = byId("list-polling");
  note.dataset.polling = String(running > 0);
  note.textContent = running > 0
    ? `${running} batch${running === 1 ? "" : "es"} in progress: refreshing every 2 s.`
    : "All batches shown are final.";
  return running > 0;
}

async function refresh() {
  const { batches, token } = await read(pagesShown);
  nextToken = token;
  return render(batches);
}

function watch() {
  poll("list", POLL_MS, async () => {
    try {
      return await refresh();
    } catch (e) {
      showError(e);
      return transient(e);
    }
  });
}

export async function showList() {
  try {
    if (await refresh()) {
      watch();
    }
  } catch (e) {
    showError(e);
  }
}

export function leaveList() {
  stopPoll("list");
}

export function initList() {
  byId("list-status").addEventListener("change", () => {
    pagesShown = 1;
    showList();
  });
  byId("list-refresh").addEventListener("click", showList);
  byId("list-more").addEventListener("click", () => {
    pagesShown += 1;
    showList();
  });
}
