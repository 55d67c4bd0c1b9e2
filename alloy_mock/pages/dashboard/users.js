// Namespaces and users: every namespace with its counts (GET /_mock/namespaces), a namespace's users with a
// search (GET /_mock/users, polled while shown, so a user created meanwhile appears), and one user's installs,
// credentials and executions (GET /_mock/users/{user}).

import * as api from "./api.js";
import { badge, button, empty, errorBox, field, h, json, poller, replace, table, time } from "./ui.js";

export const title = "Namespaces and users";
const PAGE_SIZE = 50;
const POLL_MS = 2000;

export function mount(container, params) {
  const state = { namespace: params.namespace || "default.dev", search: params.search || "", offset: 0, user: params.user || null };
  const namespaceList = h("div", { id: "namespaces" });
  const problem = h("div");
  const rows = h("tbody");
  const summary = h("p", { class: "muted", id: "users-summary", "aria-live": "polite" });
  const detail = h("section", { class: "details", id: "user-detail", "aria-label": "User details", hidden: true });
  const search = h("input", { id: "users-search", type: "search", value: state.search, placeholder: "userId prefix, username or name" });
  const previous = button("Previous", () => move(-PAGE_SIZE), "secondary", { id: "users-previous" });
  const next = button("Next", () => move(PAGE_SIZE), "secondary", { id: "users-next" });
  let typing = null;
  search.addEventListener("input", () => {
    clearTimeout(typing);
    typing = setTimeout(() => {
      state.search = search.value.trim();
      state.offset = 0;
      remember();
      list.now();
    }, 250);
  });

  replace(
    container,
    h("div", { class: "page-head" }, h("h1", {}, "Namespaces and users")),
    problem,
    h("div", { class: "columns" },
      h("aside", { class: "card", "aria-labelledby": "namespaces-title" }, h("h2", { id: "namespaces-title" }, "Namespaces"), namespaceList),
      h("div", { class: "grow" },
        h("form", { class: "filters", role: "search", onsubmit: (event) => event.preventDefault() }, field("Search users", search)),
        summary,
        table("Users", ["Username", "Full name", "User id", "Created"], rows, { id: "users-table" }),
        h("div", { class: "pager" }, previous, next),
        detail,
      ),
    ),
  );

  function remember() {
    const query = new URLSearchParams({ namespace: state.namespace });
    if (state.search) query.set("search", state.search);
    if (state.user) query.set("user", state.user);
    history.replaceState(null, "", `#/users?${query}`);
  }

  function move(by) {
    state.offset = Math.max(0, state.offset + by);
    list.now();
  }

  async function loadNamespaces() {
    const namespaces = await api.namespaces();
    replace(
      namespaceList,
      h("ul", { class: "plain" }, namespaces.map((item) =>
        h("li", {}, button(
          [h("span", {}, item.namespace), item.users === undefined ? null : h("span", { class: "muted" }, `${count(item.users, "user")} · ${count(item.installs, "install")} · ${count(item.executions, "run")}`)],
          () => {
            state.namespace = item.namespace;
            state.offset = 0;
            state.user = null;
            detail.hidden = true;
            remember();
            loadNamespaces();
            list.now();
          },
          item.namespace === state.namespace ? "nav-item current" : "nav-item",
          { "aria-pressed": String(item.namespace === state.namespace), "data-namespace": item.namespace },
        )),
      )),
    );
  }

  async function loadUsers() {
    try {
      const answer = await api.get("/users", { namespace: state.namespace, search: state.search, limit: PAGE_SIZE, offset: state.offset });
      problem.replaceChildren();
      rows.replaceChildren(...answer.data.map(row));
      if (!answer.data.length) {
        const hint = state.search
          ? "No user matches: search by the start of a userId, or any part of a username or full name."
          : "Create one with POST /2023-12/users (or POST /_mock/seed), and it appears here.";
        rows.append(h("tr", {}, h("td", { colspan: "4" }, empty(`No users in ${state.namespace}${state.search ? ` matching “${state.search}”` : ""}.`, hint))));
      }
      const last = state.offset + answer.data.length;
      summary.textContent = answer.total ? `${state.offset + 1}–${last} of ${answer.total} users in ${state.namespace}.` : "";
      previous.disabled = state.offset === 0;
      next.disabled = last >= answer.total;
    } catch (failure) {
      replace(problem, errorBox(failure));
    }
  }

  function row(user) {
    return h(
      "tr",
      { "data-user-id": user.userId },
      h("td", {}, button(user.username, () => openUser(user.userId), "link", { "aria-controls": "user-detail" })),
      h("td", {}, user.fullName || "—"),
      h("td", {}, h("code", {}, user.userId)),
      h("td", {}, time(user.createdAt)),
    );
  }

  async function openUser(userId) {
    state.user = userId;
    remember();
    try {
      const found = await api.get(`/users/${encodeURIComponent(userId)}`, { namespace: state.namespace });
      replace(detail, ...userDetail(found, state.namespace, () => (detail.hidden = true)));
      detail.hidden = false;
      detail.querySelector("h2").setAttribute("tabindex", "-1");
      detail.querySelector("h2").focus();
    } catch (failure) {
      replace(detail, errorBox(failure));
      detail.hidden = false;
    }
  }

  loadNamespaces().catch((failure) => replace(problem, errorBox(failure)));
  const list = poller(loadUsers, POLL_MS);
  if (state.user) openUser(state.user);
  return () => list.stop();
}

function userDetail(found, namespace, close) {
  const { user, installs, credentials, executions } = found;
  const runs = `#/executions?${new URLSearchParams({ namespace, userId: user.userId })}`;
  return [
    h("div", { class: "page-head" }, h("h2", {}, user.username), button("Close", close)),
    h("p", { class: "muted" }, user.fullName || "", " · ", h("code", {}, user.userId), " · created ", time(user.createdAt)),
    h("h3", {}, "Installs"),
    installs.length
      ? table("Installs", ["Workflow", "Integration", "Version", "Active", "Installed", "Field values"], installs.map((install) =>
          h(
            "tr",
            {},
            h("td", {}, install.workflowName || install.name || install.workflowId),
            h("td", {}, install.app || install.integrationId || "—"),
            h("td", { class: "number" }, String(install.version ?? install.installedVersion ?? "—")),
            h("td", {}, install.active ? badge("active", "ok") : badge("inactive", "warn")),
            h("td", {}, time(install.installedAt)),
            h("td", {}, fieldValues(install.fields ?? install.values)),
          ),
        ), { id: "user-installs" })
      : empty("Nothing installed.", "Install with POST /_mock/installs, the hosted modal, or the 2024-03 headless flow."),
    h("h3", {}, "Credentials"),
    credentials.length
      ? table("Credentials", ["Id", "Type", "Created", "Updated"], credentials.map((credential) =>
          h(
            "tr",
            {},
            h("td", {}, h("code", {}, credential.credentialId)),
            h("td", {}, credential.type || "—"),
            h("td", {}, time(credential.createdAt)),
            h("td", {}, credential.updatedAt ? time(credential.updatedAt) : "—"),
          ),
        ), { id: "user-credentials" })
      : empty("No credentials.", "Connect an account in the modal, or POST /2023-12/users/{user}/credentials."),
    h("h3", {}, "Executions"),
    h(
      "p",
      { id: "user-executions" },
      `${count(executions.total, "execution")}, `,
      executions.errors ? badge(`${executions.errors} failed`, "bad") : badge("none failed", "ok"),
      " ",
      h("a", { href: runs }, "See them on the Executions page"),
    ),
  ];
}

function fieldValues(values) {
  const names = Object.keys(values || {});
  if (!names.length) return h("span", { class: "muted" }, "none");
  return h("dl", { class: "headers" }, names.map((name) => [h("dt", {}, name), h("dd", {}, typeof values[name] === "string" ? values[name] : json(values[name]))]));
}

function count(n, noun) {
  return `${n} ${noun}${n === 1 ? "" : "s"}`;
}
