// The API as the dashboard sees it: same origin, a bearer token kept in sessionStorage, the API's error body
// ({"error": {"code", "message", "details"}}) turned into one ApiError.

const TOKEN_KEY = "batchops.token";

// The API's routes sit beside /dashboard: "" when served at the root, "/stage" behind a stage prefix.
export const BASE = window.location.pathname.replace(/\/dashboard(\/.*)?$/, "");

export class ApiError extends Error {
  constructor(status, code, message, details) {
    super(message);
    this.status = status;
    this.code = code;
    this.details = details || [];
  }

  describe() {
    const head = this.status ? `HTTP ${this.status}` : "Network error";
    const fields = this.details.map((d) => `${d.field}: ${d.message}`).join("; ");
    return `${head} ${this.code}: ${this.message}${fields ? ` (${fields})` : ""}`;
  }
}

export function token() {
  return window.sessionStorage.getItem(TOKEN_KEY);
}

export function setToken(value) {
  window.sessionStorage.setItem(TOKEN_KEY, value);
}

export function clearToken() {
  window.sessionStorage.removeItem(TOKEN_KEY);
}

// The token's subject, for display only: the API checks the token, the page never trusts this.
export function subject() {
  const value = token();
  try {
    const payload = value.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
    return JSON.parse(window.atob(payload)).sub || "?";
  } catch {
    return "?";
  }
}

function query(params) {
  const present = Object.entries(params || {}).filter(([, v]) => v !== null && v !== undefined && v !== "");
  return present.length ? `?${new URLSearchParams(present).toString()}` : "";
}

async function errorOf(response) {
  let body = null;
  try {
    body = await response.json();
  } catch {
    // Not JSON (a proxy's page): the status alone tells it.
  }
  if (body && body.error && typeof body.error === "object") {
    return new ApiError(response.status, body.error.code, body.error.message, body.error.details);
  }
  // The HTTP API's own replies ({"message": "Unauthorized"}) come before our code runs.
  const message = (body && body.message) || response.statusText || "request failed";
  return new ApiError(response.status, response.status === 401 ? "unauthorized" : "http_error", message);
}

// One API call; resolves to the JSON body of a 2xx, rejects with an ApiError otherwise.
export async function call(method, path, params, body) {
  const headers = { Accept: "application/json" };
  const current = token();
  if (current) {
    headers.Authorization = `Bearer ${current}`;
  }
  const init = { method, headers, cache: "no-store" };
  if (body !== undefined) {
    headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  let response;
  try {
    response = await window.fetch(BASE + path + query(params), init);
  } catch (e) {
    throw new ApiError(0, "network_error", `the API could not be reached (${e.message})`);
  }
  if (!response.ok) {
    throw await errorOf(response);
  }
  return response.status === 204 ? null : response.json();
}

// A token from the local stack's issuer. Only the local stack has /_local: deployed, this answers 404 (or
// 401 from the authorizer) and the dashboard shows no demo button.
export async function demoToken() {
  try {
    const response = await window.fetch(`${BASE}/_local/token`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ sub: "demo-user" }),
      cache: "no-store",
    });
    if (!response.ok) {
      return null;
    }
    const reply = await response.json();
    return typeof reply.token === "string" ? reply.token : null;
  } catch {
    return null;
  }
}
