// Requests: the journal (GET /_mock/requests), newest first, PAGE_SIZE rows at most on screen. The first page is
// live: it asks for `since=<newest id shown>` every POLL_MS while the tab is visible; older pages use `before=`.

import * as api from "./api.js";
import { badge, button, empty, errorBox, field, h, json, poller, replace, statusBadge, table, time, toast } from "./ui.js";

export const title = "Requests";
export const PAGE_SIZE = 200;
const POLL_MS = 1500;
const METHODS = ["", "GET", "POST", "PUT", "PATCH", "DELETE"];
// Headers curl sets itself, or that describe one connection rather than the request.
const LEFT_OUT = new Set(["host", "content-length", "connection", "accept-encoding"]);
// Secrets the journal keeps only as fingerprints: the curl command names a variable instead.
const STAND_INS = { authorization: "Bearer $ALLOY_API_KEY", "x-alloy-user-token": "$ALLOY_USER_TOKEN" };

export function mount(container, params) {
  // newest: the id of the newest entry seen that matches the filters (0: none yet; null: not asked yet)
  const state = { entries: [], before: null, newest: null, generation: 0, selected: null, filters: pick(params) };
  const rows = h("tbody");
  const summary = h("p", { class: "muted", id: "requests-summary", "aria-live": "polite" });
  const problem = h("div");
  const details = h("section", { class: "details", id: "request-details", "aria-label": "Request details", hidden: true });
  const live = h("input", { type: "checkbox", id: "requests-live", checked: true });
  const older = button("Older requests", () => page(oldestShown()), "secondary", { id: "requests-older" });
  const newest = button("Back to the newest", () => page(null), "secondary", { id: "requests-newest", hidden: true });

  const filters = filterForm(state.filters, (values) => {
    state.filters = values;
    history.replaceState(null, "", `#/requests?${new URLSearchParams(clean(values))}`);
    page(null);
  });

  replace(
    container,
    h("div", { class: "page-head" }, h("h1", {}, "Requests"), h("label", { class: "inline" }, live, " Live")),
    filters,
    problem,
    summary,
    h(
      "div",
      { class: "split" },
      h("div", { class: "list" }, table("Requests, newest first", ["When", "Method", "Path", "Namespace", "Status", "ms"], rows, { id: "requests-table" }), h("div", { class: "pager" }, newest, older)),
      details,
    ),
  );

  function query(extra) {
    return { ...clean(state.filters), limit: PAGE_SIZE, ...extra };
  }

  function oldestShown() {
    return state.entries.length ? state.entries[state.entries.length - 1].id : null;
  }

  // A page of the journal: the newest (before = null) or the one older than `before`.
  async function page(before) {
    const asked = ++state.generation;
    try {
      const answer = await api.get("/requests", query({ before }));
      if (asked !== state.generation) return; // the filters or the page changed meanwhile
      state.before = before;
      state.entries = answer.data.reverse();
      if (before === null) state.newest = state.entries.length ? state.entries[0].id : 0;
      problem.replaceChildren();
      render(answer.recording);
    } catch (failure) {
      replace(problem, errorBox(failure));
    }
  }

  // The live feed: only what arrived since the newest entry seen, and only on the newest page.
  async function poll() {
    if (state.newest === null) return page(null);
    if (state.before !== null || !live.checked) return;
    const asked = state.generation;
    try {
      const answer = await api.get("/requests", query({ since: state.newest }));
      if (asked !== state.generation) return;
      problem.replaceChildren();
      if (!answer.data.length) return refreshTimes();
      state.newest = answer.data[answer.data.length - 1].id;
      state.entries = [...answer.data.reverse(), ...state.entries].slice(0, PAGE_SIZE);
      render(answer.recording);
    } catch (failure) {
      replace(problem, errorBox(failure));
    }
  }

  function refreshTimes() {
    for (const element of rows.querySelectorAll("time")) element.replaceWith(time(element.getAttribute("datetime")));
  }

  function render(recording) {
    rows.replaceChildren(...state.entries.map(row));
    newest.hidden = state.before === null;
    older.hidden = state.entries.length < PAGE_SIZE;
    const where = state.before === null ? "the newest" : `older than #${state.before}`;
    summary.textContent = state.entries.length ? `Showing ${state.entries.length} requests (${where}, newest first).` : "";
    if (!state.entries.length) {
      const hint = recording === false
        ? "The journal is off (--journal-size 0): restart the emulator with a journal size to record requests."
        : "Send a request to the emulator's API (for example GET /2023-12/users with the dev key), or loosen the filters.";
      rows.append(h("tr", {}, h("td", { colspan: "6" }, empty("No requests recorded yet.", hint))));
    }
  }

  function row(entry) {
    const open = button(`${entry.path}${entry.query ? `?${entry.query}` : ""}`, () => select(entry), "link", {
      "aria-expanded": String(state.selected === entry.id),
      "aria-controls": "request-details",
    });
    return h(
      "tr",
      { class: entry.fault ? "faulted" : null, "data-id": String(entry.id) },
      h("td", {}, time(entry.time)),
      h("td", {}, h("code", {}, entry.method)),
      h("td", { class: "path" }, open),
      h("td", {}, entry.namespace || "—"),
      h("td", { class: "status" }, outcome(entry), entry.fault ? badge(`fault ${entry.fault}`, "fault") : null),
      h("td", { class: "number" }, String(entry.durationMs)),
    );
  }

  function select(entry) {
    state.selected = entry.id;
    for (const other of rows.querySelectorAll("button[aria-expanded]")) other.setAttribute("aria-expanded", "false");
    rows.querySelector(`tr[data-id="${entry.id}"] button`)?.setAttribute("aria-expanded", "true");
    const command = curl(entry);
    const shown = h("pre", { class: "code", id: "request-curl" }, command);
    replace(
      details,
      h("div", { class: "page-head" }, h("h2", {}, `#${entry.id} ${entry.method} ${entry.path}`), button("Close", () => (details.hidden = true), "secondary")),
      h("p", {}, outcome(entry), " ", entry.fault ? badge(`answered by fault ${entry.fault}`, "fault") : null, " ", time(entry.time), ` · ${entry.durationMs} ms · ${entry.namespace || "no namespace"}`),
      h("h3", {}, "Request headers"),
      headerList(entry.headers),
      h("h3", {}, "Request body"),
      json(entry.requestBody),
      h("h3", {}, "Response body"),
      json(entry.responseBody),
      h("h3", {}, "As curl"),
      button("Copy as curl", () => copy(command), "primary", { id: "request-copy-curl" }),
      shown,
    );
    details.hidden = false;
    details.querySelector("h2").setAttribute("tabindex", "-1");
    details.querySelector("h2").focus();
  }

  const feed = poller(poll, POLL_MS); // its first run loads the newest page
  return () => feed.stop();
}

// The status, or what a connection fault did instead of answering (then there is no status).
function outcome(entry) {
  return entry.status === null || entry.status === undefined ? badge(entry.connectionFault || "no answer", "bad") : statusBadge(entry.status);
}

function pick(params) {
  return { method: params.method || "", path: params.path || "", status: params.status || "", namespace: params.namespace || "" };
}

function clean(values) {
  return Object.fromEntries(Object.entries(values).filter(([, value]) => value));
}

function filterForm(values, apply) {
  const method = h("select", { id: "filter-method", name: "method" }, METHODS.map((m) => h("option", { value: m, selected: m === values.method }, m || "any")));
  const path = h("input", { id: "filter-path", name: "path", value: values.path, placeholder: "*/users*" });
  const status = h("input", { id: "filter-status", name: "status", value: values.status, inputmode: "numeric", pattern: "[0-9]{3}", placeholder: "429" });
  const namespace = h("input", { id: "filter-namespace", name: "namespace", value: values.namespace, placeholder: "dev" });
  const form = h(
    "form",
    { class: "filters", id: "requests-filters", "aria-label": "Filter requests" },
    field("Method", method),
    field("Path (glob)", path),
    field("Status", status),
    field("Namespace", namespace),
    h("div", { class: "field actions" }, h("button", { type: "submit", class: "primary" }, "Filter"), button("Clear filters", () => {
      form.reset();
      method.value = path.value = status.value = namespace.value = "";
      apply({ method: "", path: "", status: "", namespace: "" });
    })),
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    apply({ method: method.value, path: path.value.trim(), status: status.value.trim(), namespace: namespace.value.trim() });
  });
  method.addEventListener("change", () => form.requestSubmit());
  return form;
}

function headerList(headers) {
  const names = Object.keys(headers || {});
  if (!names.length) return h("p", { class: "muted" }, "(none recorded)");
  return h("dl", { class: "headers" }, names.map((name) => [h("dt", {}, name), h("dd", {}, headers[name])]));
}

function quote(text) {
  return `'${String(text).replaceAll("'", "'\\''")}'`;
}

// The request as a curl command against this emulator; secrets become shell variables.
export function curl(entry) {
  const target = `${location.origin}${entry.path}${entry.query ? `?${entry.query}` : ""}`;
  const parts = [`curl -X ${entry.method} ${quote(target)}`];
  for (const [name, value] of Object.entries(entry.headers || {})) {
    if (LEFT_OUT.has(name)) continue;
    const shown = STAND_INS[name] ? `"${name}: ${STAND_INS[name]}"` : quote(`${name}: ${value}`);
    parts.push(`-H ${shown}`);
  }
  if (entry.requestBody !== null && entry.requestBody !== undefined) {
    const body = typeof entry.requestBody === "string" ? entry.requestBody : JSON.stringify(entry.requestBody);
    parts.push(`--data-raw ${quote(body)}`);
  }
  return parts.join(" \\\n  ");
}

async function copy(text) {
  try {
    await navigator.clipboard.writeText(text);
    toast("Copied the curl command.");
  } catch {
    const shown = document.getElementById("request-curl");
    if (shown) getSelection().selectAllChildren(shown);
    toast("The browser refused the clipboard: the command is selected, press Ctrl+C.", "warn");
  }
}
