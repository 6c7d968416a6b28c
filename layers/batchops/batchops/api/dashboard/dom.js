// Building the page: every piece of data goes in as text (textContent, attributes), never as HTML.

export const FINAL = ["completed", "failed", "cancelled"];

export function isFinal(status) {
  return FINAL.includes(status);
}

// h("td", {class: "num", dataset: {testid: "x"}}, "text", child): an element, its text escaped by the DOM.
export function h(tag, attributes, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attributes || {})) {
    if (value === null || value === undefined || value === false) {
      continue;
    }
    if (key === "dataset") {
      Object.assign(node.dataset, value);
    } else if (key === "class") {
      node.className = value;
    } else if (key === "onclick") {
      node.addEventListener("click", value);
    } else {
      node.setAttribute(key, value === true ? "" : String(value));
    }
  }
  for (const child of children.flat()) {
    if (child !== null && child !== undefined && child !== false) {
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
  }
  return node;
}

export function byId(id) {
  return document.getElementById(id);
}

export function show(node, visible) {
  node.hidden = !visible;
}

export function setText(id, value) {
  byId(id).textContent = value === null || value === undefined ? "—" : String(value);
}

export function replaceChildren(node, children) {
  node.replaceChildren(...children);
}

export function number(value) {
  return value === null || value === undefined ? "—" : Number(value).toLocaleString("en-US");
}

export function percent(value) {
  return value === null || value === undefined ? "—" : `${Number(value).toFixed(1)} %`;
}

// "2026-11-25T14:38:26.301Z" -> "2026-11-25 14:38:26 UTC": the API's times are UTC, shown as such.
export function time(iso) {
  return iso ? iso.replace("T", " ").replace(/(\.\d+)?Z$/, " UTC") : "—";
}

export function duration(ms) {
  if (ms === null || ms === undefined) {
    return "—";
  }
  if (ms < 1000) {
    return `${Math.round(ms)} ms`;
  }
  const seconds = ms / 1000;
  if (seconds < 60) {
    return `${seconds.toFixed(1)} s`;
  }
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) {
    return `${minutes} min ${Math.round(seconds % 60)} s`;
  }
  return `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
}

export function statusBadge(status, testid) {
  return h("span", { class: `badge status-${status}`, dataset: { testid } }, status);
}

// A <progress> bar: processed out of total; without a total yet (an upload being counted) it is indeterminate.
export function progressBar(batch, testid) {
  const bar = h("progress", { class: `bar status-${batch.status}`, dataset: { testid } });
  if (batch.totalItems !== null && batch.totalItems !== undefined) {
    bar.max = Math.max(batch.totalItems, 1);
    bar.value = batch.processedItems;
  }
  return bar;
}

export function progressText(batch) {
  const total = batch.totalItems === null || batch.totalItems === undefined ? "?" : number(batch.totalItems);
  return `${number(batch.processedItems)} / ${total}`;
}

// Polls fn every `ms` while it answers true; a new poll of the same name replaces the old one.
const polls = new Map();

export function poll(name, ms, fn) {
  stopPoll(name);
  const state = { timer: null, stopped: false };
  polls.set(name, state);
  const tick = async () => {
    let again = false;
    try {
      again = await fn();
    } catch {
      again = false; // fn shows its own errors; a failing poll stops rather than hammer the API
    }
    if (again && !state.stopped) {
      state.timer = window.setTimeout(tick, ms);
    } else if (polls.get(name) === state) {
      polls.delete(name);
    }
  };
  state.timer = window.setTimeout(tick, ms);
}

export function stopPoll(name) {
  const state = polls.get(name);
  if (state) {
    state.stopped = true;
    window.clearTimeout(state.timer);
    polls.delete(name);
  }
}

export function stopAllPolls() {
  for (const name of [...polls.keys()]) {
    stopPoll(name);
  }
}
