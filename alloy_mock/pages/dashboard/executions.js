// Executions: the runs of a namespace (GET /_mock/executions), newest first, by workflow, user or failure;
// one run's per-block results and error as the logs endpoint gives them; Rerun (POST /_mock/executions/{id}/rerun).
// The newest page is polled while shown, so a run started meanwhile appears.

import * as api from "./api.js";
import { action, badge, button, empty, errorBox, field, h, json, namespaceSelect, poller, replace, table, time } from "./ui.js";

export const title = "Executions";
const PAGE_SIZE = 50;
const POLL_MS = 2000;

export function mount(container, params) {
  const state = {
    namespace: params.namespace || "default.dev",
    workflowId: params.workflowId || "",
    userId: params.userId || "",
    failed: params.error === "true",
    cursors: [], // the `before` of each page shown before this one (Older pushes, Newer pops)
    before: null,
    next: null,
    items: [],
    workflows: new Map(), // workflowId -> name, of every run seen: the workflow filter's choices
    open: params.execution || null,
  };
  const problem = h("div");
  const filters = h("form", { class: "filters", id: "executions-filters", "aria-label": "Filter executions" });
  const rows = h("tbody");
  const summary = h("p", { class: "muted", id: "executions-summary", "aria-live": "polite" });
  const detail = h("section", { class: "details", id: "execution-detail", "aria-label": "Execution details", hidden: true });
  const newer = button("Newer", () => turn(state.cursors.pop() ?? null), "secondary", { id: "executions-newer" });
  const older = button("Older", () => {
    state.cursors.push(state.before);
    turn(state.next);
  }, "secondary", { id: "executions-older" });

  replace(
    container,
    h("div", { class: "page-head" }, h("h1", {}, "Executions")),
    filters,
    problem,
    summary,
    h("div", { class: "split" }, h("div", { class: "list" }, table("Executions, newest first", ["Started", "Workflow", "User", "Result", "Blocks", ""], rows, { id: "executions-table" }), h("div", { class: "pager" }, newer, older)), detail),
  );

  function remember() {
    const query = new URLSearchParams({ namespace: state.namespace });
    if (state.workflowId) query.set("workflowId", state.workflowId);
    if (state.userId) query.set("userId", state.userId);
    if (state.failed) query.set("error", "true");
    if (state.open) query.set("execution", state.open);
    history.replaceState(null, "", `#/executions?${query}`);
  }

  function turn(before) {
    state.before = before;
    if (before === null) state.cursors = [];
    feed.now();
  }

  async function renderFilters() {
    const namespaces = await api.namespaces();
    const workflow = h("select", { id: "executions-workflow", name: "workflowId" }, h("option", { value: "" }, "every workflow"), [...state.workflows].map(([id, name]) => h("option", { value: id, selected: id === state.workflowId }, name || id)));
    const changed = () => {
      state.namespace = namespace.value;
      state.workflowId = workflow.value;
      state.userId = user.value.trim();
      state.failed = failed.checked;
      state.open = null;
      remember();
      turn(null);
    };
    const namespace = namespaceSelect("executions-namespace", namespaces, state.namespace, changed);
    const user = h("input", { id: "executions-user", name: "userId", value: state.userId, placeholder: "any user" });
    const failed = h("input", { id: "executions-failed", name: "error", type: "checkbox", checked: state.failed, onchange: changed });
    workflow.addEventListener("change", changed);
    replace(
      filters,
      field("Namespace", namespace),
      field("Workflow", workflow),
      field("User id", user),
      h("div", { class: "field checkbox" }, failed, h("label", { for: "executions-failed" }, "Only failed runs")),
      h("div", { class: "field actions" }, h("button", { type: "submit", class: "primary" }, "Filter")),
    );
    filters.onsubmit = (event) => {
      event.preventDefault();
      changed();
    };
  }

  async function load() {
    if (state.before !== null && state.items.length) return; // an older page does not change: no need to poll it
    try {
      const query = { namespace: state.namespace, workflowId: state.workflowId, userId: state.userId, limit: PAGE_SIZE, before: state.before };
      if (state.failed) query.error = "true";
      const answer = await api.get("/executions", query);
      problem.replaceChildren();
      state.items = answer.data;
      state.next = answer.next;
      let learned = false;
      for (const item of answer.data) {
        if (!state.workflows.has(item.workflowId)) {
          state.workflows.set(item.workflowId, item.workflowName);
          learned = true;
        }
      }
      if (learned) await renderFilters();
      render();
    } catch (failure) {
      replace(problem, errorBox(failure));
    }
  }

  function render() {
    rows.replaceChildren(...state.items.map(row));
    if (!state.items.length) {
      rows.append(h("tr", {}, h("td", { colspan: "6" }, empty(`No executions in ${state.namespace} yet.`, "Install a workflow for a user (POST /_mock/installs), then POST /2023-12/run/event or /run/workflow: its run appears here."))));
    }
    summary.textContent = state.items.length ? `${state.items.length} executions${state.before ? " (an older page)" : " (the newest)"}.` : "";
    newer.hidden = state.before === null;
    older.hidden = !state.next;
  }

  function row(item) {
    return h(
      "tr",
      { class: item.failed ? "faulted" : null, "data-execution-id": item.executionId },
      h("td", {}, time(item.startedAt)),
      h("td", {}, item.workflowName || item.workflowId),
      h("td", {}, h("code", {}, item.userId)),
      h("td", {}, outcome(item)),
      h("td", { class: "number" }, String((item.results || []).length)),
      h("td", {}, button("Open", () => openExecution(item), "secondary", { "aria-controls": "execution-detail", "aria-label": `Open execution ${item.executionId}` })),
    );
  }

  function openExecution(item) {
    state.open = item.executionId;
    remember();
    replace(detail, ...executionDetail(item, state.namespace, () => (detail.hidden = true), () => feed.now()));
    detail.hidden = false;
    detail.querySelector("h2").setAttribute("tabindex", "-1");
    detail.querySelector("h2").focus();
  }

  renderFilters().catch((failure) => replace(problem, errorBox(failure)));
  const feed = poller(async () => {
    await load();
    if (state.open && detail.hidden) {
      const item = state.items.find((candidate) => candidate.executionId === state.open);
      if (item) openExecution(item);
    }
  }, POLL_MS);
  return () => feed.stop();
}

function outcome(item) {
  if (item.failed) return badge("failed", "bad");
  if (!item.finished) return badge("running", "info");
  return badge("succeeded", "ok");
}

function executionDetail(item, namespace, close, refresh) {
  const errorAt = item.error && (item.error.blockId || item.error.block);
  return [
    h("div", { class: "page-head" }, h("h2", {}, `${item.workflowName || item.workflowId}`), button("Close", close)),
    h("p", {}, outcome(item), " ", h("code", {}, item.executionId), " · started ", time(item.startedAt), item.stoppedAt ? [" · stopped ", time(item.stoppedAt)] : null, item.rerunOf ? [" · a rerun of ", h("code", {}, item.rerunOf)] : null),
    item.error
      ? h("div", { class: "error-box", role: "note", id: "execution-error" }, h("strong", {}, `Failed at ${item.error.block}: `), item.error.message, " ", time(item.error.errorOccurredAt))
      : null,
    h(
      "div",
      { class: "actions" },
      action("Rerun", async () => {
        const answer = await api.post(`/executions/${encodeURIComponent(item.executionId)}/rerun`, { namespace });
        await refresh();
        return `Rerun started: ${answer.executionUuid}`;
      }, "primary", { id: "execution-rerun" }),
    ),
    h("h3", {}, "Blocks"),
    (item.results || []).length
      ? h("ol", { class: "blocks", id: "execution-blocks" }, item.results.map((result) =>
          h(
            "li",
            { class: result.blockId === errorAt ? "block failed" : "block" },
            h("p", {}, h("code", {}, result.blockId), result.blockId === errorAt ? [" ", badge("failed here", "bad")] : null, " · ", time(result.startedAt)),
            h("details", {}, h("summary", {}, "Result data"), json(result.data)),
          ),
        ))
      : empty("No block ran.", "The run stopped before its first block."),
    item.inputs && item.inputs.length ? [h("h3", {}, "Inputs"), json(item.inputs)] : null,
  ];
}
