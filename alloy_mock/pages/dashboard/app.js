// The dashboard's frame: the login (when the emulator has --admin-token), the hash router (#/requests,
// #/users?namespace=default.dev, ...), and the clock shown in the header. Each page module exports
// `title` and `mount(container, params)`, which returns the function that stops the page (its polling).

import * as api from "./api.js";
import * as coverage from "./coverage.js";
import * as controls from "./controls.js";
import * as executions from "./executions.js";
import * as requests from "./requests.js";
import * as users from "./users.js";
import { h, replace, setClock } from "./ui.js";

const PAGES = { requests, users, executions, controls, coverage };
const DEFAULT_PAGE = "requests";

const page = document.getElementById("page");
const login = document.getElementById("login");
const signOut = document.getElementById("sign-out");
let stopPage = null;
let signedIn = false;

function parseHash() {
  const [path, query = ""] = location.hash.replace(/^#\/?/, "").split("?");
  const name = PAGES[path] ? path : DEFAULT_PAGE;
  return { name, params: Object.fromEntries(new URLSearchParams(query)) };
}

function stop() {
  if (stopPage) stopPage();
  stopPage = null;
}

function show() {
  stop();
  if (!signedIn) return;
  const { name, params } = parseHash();
  const module = PAGES[name];
  for (const link of document.querySelectorAll("#nav a")) {
    if (link.dataset.page === name) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
  document.title = `${module.title} · alloy-mock dashboard`;
  const container = h("div", { class: "page", id: `page-${name}` });
  replace(page, container);
  stopPage = module.mount(container, params) || null;
  refreshClock().catch(() => {}); // a test may have moved the clock meanwhile: the header and relative times follow
  const heading = container.querySelector("h1");
  if (heading && document.activeElement && document.activeElement.closest("#nav")) {
    heading.setAttribute("tabindex", "-1");
    heading.focus();
  }
}

// No data on screen until the control API accepts us: with --admin-token, until the right token is entered.
function refuse(message) {
  signedIn = false;
  stop();
  replace(page);
  document.getElementById("clock-state").textContent = "";
  login.hidden = false;
  signOut.hidden = true;
  document.getElementById("login-error").textContent = message || "";
  document.getElementById("login-token").focus();
}

async function refreshClock() {
  try {
    const clock = await api.get("/clock");
    setClock(clock);
    document.getElementById("clock-state").textContent = clock.frozen ? `Clock frozen at ${clock.iso}` : "";
    return true;
  } catch (failure) {
    if (failure.status === 401) return false;
    throw failure;
  }
}

async function start() {
  let open;
  try {
    open = await refreshClock();
  } catch (failure) {
    replace(page, h("p", { class: "error", role: "alert" }, failure.message));
    return;
  }
  if (!open) {
    refuse(api.token() ? "The emulator refused the saved token: enter it again." : "");
    return;
  }
  signedIn = true;
  login.hidden = true;
  signOut.hidden = !api.token();
  show();
}

document.getElementById("login-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const input = document.getElementById("login-token");
  api.setToken(input.value.trim());
  input.value = "";
  if (await refreshClock().catch(() => false)) {
    start();
  } else {
    api.clearToken();
    refuse("The emulator refused that token.");
  }
});

signOut.addEventListener("click", () => {
  api.clearToken();
  refuse("Signed out.");
});

window.addEventListener("alloy-mock:unauthorized", () => {
  if (signedIn) refuse("The emulator asks for the admin token again.");
});
window.addEventListener("hashchange", show);
// Any page's action may move the clock (freeze, reset): the header follows.
window.addEventListener("alloy-mock:clock", () => refreshClock().catch(() => {}));

start();
