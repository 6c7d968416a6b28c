// The page's one error banner: an API error shows its status, code, message and fields, as the API sent them.

import { ApiError, clearToken } from "./api.js";
import { byId, show } from "./dom.js";

export const UNAUTHORIZED_EVENT = "batchops:unauthorized";

export function showError(error) {
  const text = error instanceof ApiError ? error.describe() : `Error: ${error && error.message ? error.message : error}`;
  byId("error-text").textContent = text;
  byId("error").dataset.code = error instanceof ApiError ? error.code : "client_error";
  show(byId("error"), true);
  if (error instanceof ApiError && error.status === 401) {
    // The token expired or was never good: back to the sign-in form, which says why.
    clearToken();
    window.dispatchEvent(new CustomEvent(UNAUTHORIZED_EVENT, { detail: text }));
  }
}

export function clearError() {
  show(byId("error"), false);
  byId("error-text").textContent = "";
}

// Whether a failed poll should go on: a network error or a 5xx may pass; anything else will not.
export function transient(error) {
  return error instanceof ApiError && (error.status === 0 || error.status >= 500);
}

export function initNotice() {
  byId("error-close").addEventListener("click", clearError);
}
