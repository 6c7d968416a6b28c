// The dashboard's entry: sign-in, hash routing (#/ the list, #/batches/{id} a batch) and the header.

import { call, clearToken, demoToken, setToken, subject, token } from "./api.js";
import { initBatch, leaveBatch, showBatch } from "./batch.js";
import { byId, show, stopAllPolls } from "./dom.js";
import { initList, leaveList, showList } from "./list.js";
import { clearError, initNotice, showError, UNAUTHORIZED_EVENT } from "./notice.js";

const VIEWS = ["signin", "list", "batch"];

function view(name) {
  for (const other of VIEWS) {
    show(byId(other), other === name);
  }
  const signedIn = name !== "signin";
  show(byId("whoami"), signedIn);
  show(byId("signout"), signedIn);
  if (signedIn) {
    byId("whoami").textContent = `Signed in as ${subject()}`;
  }
  document.body.dataset.view = name;
}

async function offerDemoToken() {
  // Only the local stack's issuer answers; a deployed API has no /_local route, so no button there.
  const available = (await demoToken()) !== null;
  show(byId("demo-token"), available);
  byId("signin").dataset.demo = available ? "available" : "unavailable";
}

function showSignin(message) {
  stopAllPolls();
  view("signin");
  byId("signin-message").textContent = message || "";
  offerDemoToken();
}

function route() {
  if (!token()) {
    showSignin();
    return;
  }
  const match = window.location.hash.match(/^#\/batches\/([^/?#]+)$/);
  if (match) {
    leaveList();
    view("batch");
    showBatch(decodeURIComponent(match[1]));
  } else {
    leaveBatch();
    view("list");
    showList();
  }
}

async function signIn(value) {
  setToken(value);
  clearError();
  try {
    await call("GET", "/batches", { limit: 1 }); // the API says whether it takes the token
  } catch (e) {
    if (e.status === 401) {
      clearToken();
      showSignin(`The API refused this token: ${e.describe()}`);
      return;
    }
    showError(e);
  }
  route();
}

function init() {
  initNotice();
  initList();
  initBatch();
  byId("signin-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const value = byId("token-input").value.trim().replace(/^Bearer\s+/i, "");
    if (!value) {
      byId("signin-message").textContent = "Paste a token first.";
      return;
    }
    byId("token-input").value = "";
    signIn(value);
  });
  byId("demo-token").addEventListener("click", async () => {
    const value = await demoToken();
    if (value === null) {
      showSignin("The local issuer did not answer: is this the local stack?");
      return;
    }
    signIn(value);
  });
  byId("signout").addEventListener("click", () => {
    clearToken();
    clearError();
    showSignin("Signed out.");
  });
  window.addEventListener(UNAUTHORIZED_EVENT, (event) => showSignin(event.detail));
  window.addEventListener("hashchange", () => {
    clearError();
    route();
  });
  route();
}

init();
