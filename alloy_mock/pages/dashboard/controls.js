// Controls: faults and run-failure rules (this module), the clock, snapshots, reset and tokens (controls-state.js).
// Every action is one call of the control API; the page holds no logic of its own.

import * as api from "./api.js";
import { clockSection, resetSection, snapshotSection, tokenSection } from "./controls-state.js";
import { action, badge, empty, errorBox, field, h, onSubmit, replace, section, select, statusBadge, table } from "./ui.js";

export const title = "Controls";
const METHODS = ["*", "GET", "POST", "PUT", "PATCH", "DELETE"];
// What a fault may do to the connection instead of answering (WireMock's names, as POST /_mock/faults takes them).
const CONNECTION_FAULTS = ["CONNECTION_RESET_BY_PEER", "EMPTY_RESPONSE", "MALFORMED_RESPONSE_CHUNK", "RANDOM_DATA_THEN_CLOSE"];

export function mount(container) {
  const sections = h("div", { class: "sections" });
  replace(container, h("div", { class: "page-head" }, h("h1", {}, "Controls")), sections);
  api.namespaces().then(
    (namespaces) => {
      const names = namespaces.map((item) => item.namespace);
      replace(sections, faultSection(names), failureSection(names), clockSection(), snapshotSection(), resetSection(names), tokenSection(names));
    },
    (failure) => replace(sections, errorBox(failure)),
  );
}

// A right-aligned cell, for rules() below (which puts any other content in a plain cell).
function number(value) {
  return h("td", { class: "number" }, String(value));
}

// The rows of a list of rules (faults, run failures), each with a Delete button, and Clear all below them.
function rules({ id, label, noun, path, reload, headers, cells, items }) {
  const row = (item) =>
    h(
      "tr",
      {},
      cells(item).map((cell) => (cell instanceof HTMLTableCellElement ? cell : h("td", {}, cell))),
      h("td", {}, action("Delete", async () => {
        await api.del(`${path}/${encodeURIComponent(item.id)}`);
        await reload();
        return `${noun[0].toUpperCase()}${noun.slice(1)} ${item.id} deleted.`;
      }, "secondary", { "aria-label": `Delete ${noun} ${item.id}` })),
    );
  return [
    table(label, [...headers, ""], items.map(row), { id: `${id}-table` }),
    action(`Clear all ${label.toLowerCase().replace("active ", "")}`, async () => {
      await api.del(path);
      await reload();
      return `Cleared: ${label.toLowerCase()}.`;
    }, "danger", { id: `${id}-clear` }),
  ];
}

function numberOrNull(text, name) {
  if (text === "" || text === null) return null;
  const value = Number(text);
  if (!Number.isInteger(value)) throw new Error(`${name} must be a whole number`);
  return value;
}

function faultSection(namespaces) {
  return section(
    "faults",
    "Faults",
    "Answer the next matching requests with a status (429, 503, …), a delay, or a broken connection. The Requests page marks the requests a fault answered.",
    async (reload) => {
      const faults = (await api.get("/faults")).data;
      if (!faults.length) return empty("No faults active.", "Add one below to make the emulator answer, say, POST /users with a 429.");
      return rules({
        id: "faults",
        label: "Active faults",
        noun: "fault",
        path: "/faults",
        reload,
        headers: ["Id", "Method", "Path", "Namespace", "Answer", "Delay ms", "Remaining", "Hits"],
        cells: (fault) => [
          h("code", {}, fault.id),
          fault.method,
          h("code", {}, fault.path),
          fault.namespace || "any",
          fault.connectionFault ? badge(fault.connectionFault, "bad") : fault.status ? statusBadge(fault.status) : "delay only",
          number(fault.delayMs),
          number(fault.remaining === null ? "until cleared" : fault.remaining),
          number(fault.hits),
        ],
        items: faults,
      });
    },
    (reload) =>
      onSubmit(
        h(
          "form",
          { class: "grid-form", id: "fault-form", "aria-label": "Add a fault" },
          h("h3", { class: "full" }, "Add a fault"),
          field("Method", select("fault-method", "method", METHODS, { "*": "any (*)" })),
          field("Path (glob, after the version)", h("input", { id: "fault-path", name: "path", value: "*", required: true })),
          field("Status", h("input", { id: "fault-status", name: "status", type: "number", min: "200", max: "599", placeholder: "429" })),
          field("Delay (ms)", h("input", { id: "fault-delay", name: "delayMs", type: "number", min: "0", max: "60000", value: "0" })),
          field("Connection fault", select("fault-connection", "connectionFault", ["", ...CONNECTION_FAULTS], { "": "none: answer" }), "Instead of answering"),
          field("Probability", h("input", { id: "fault-probability", name: "probability", type: "number", min: "0", max: "1", step: "any", placeholder: "1" }), "Of each matching request, 0 to 1"),
          field("Times", h("input", { id: "fault-times", name: "times", type: "number", min: "1", value: "1" }), "Empty: every matching request, until cleared"),
          field("Namespace", select("fault-namespace", "namespace", ["", ...namespaces, "user-token"], { "": "any" })),
          field("Body (JSON, optional)", h("textarea", { id: "fault-body", name: "body", rows: "2", placeholder: '{"message": "Rate limit exceeded"}' })),
          h("div", { class: "actions full" }, h("button", { type: "submit", class: "primary", id: "fault-add" }, "Add fault")),
        ),
        async (form) => {
          const body = { method: form.get("method"), path: form.get("path") || "*", times: numberOrNull(form.get("times"), "Times") };
          const status = numberOrNull(form.get("status"), "Status");
          if (status !== null) body.status = status;
          body.delayMs = numberOrNull(form.get("delayMs"), "Delay") ?? 0;
          if (form.get("connectionFault")) body.connectionFault = form.get("connectionFault");
          if (form.get("probability")) body.probability = Number(form.get("probability"));
          if (form.get("namespace")) body.namespace = form.get("namespace");
          const text = String(form.get("body") || "").trim();
          if (text) {
            try {
              body.body = JSON.parse(text);
            } catch {
              throw new Error("The body is not valid JSON.");
            }
          }
          const fault = await api.post("/faults", body);
          await reload();
          return `Fault ${fault.id} added.`;
        },
      ),
  );
}

function failureSection(namespaces) {
  return section(
    "run-failures",
    "Run failures",
    "Make the next runs of a workflow (for a user, or anyone) fail at a block, with a message.",
    async (reload) => {
      const failures = (await api.get("/run-failures")).data;
      if (!failures.length) return empty("No run-failure rules.", "Add one below, then run an event: the execution fails at that block.");
      return rules({
        id: "run-failures",
        label: "Run-failure rules",
        noun: "rule",
        path: "/run-failures",
        reload,
        headers: ["Id", "Workflow", "User", "Block", "Message", "Namespace", "Remaining", "Hits"],
        cells: (rule) => [
          h("code", {}, rule.id),
          rule.workflow || "any",
          rule.user || "anyone",
          rule.block || "first app block",
          rule.message,
          rule.namespace || "any",
          number(rule.remaining === null ? "every run" : rule.remaining),
          number(rule.hits),
        ],
        items: failures,
      });
    },
    (reload) =>
      onSubmit(
        h(
          "form",
          { class: "grid-form", id: "run-failure-form", "aria-label": "Add a run failure" },
          h("h3", { class: "full" }, "Add a run failure"),
          field("Workflow (id or name)", h("input", { id: "run-failure-workflow", name: "workflow", placeholder: "any" })),
          field("User (id or username)", h("input", { id: "run-failure-user", name: "user", placeholder: "anyone" })),
          field("Block (id, name or app)", h("input", { id: "run-failure-block", name: "block", placeholder: "the first app block" })),
          field("Message", h("input", { id: "run-failure-message", name: "message", placeholder: "Emulated failure" })),
          field("Times", h("input", { id: "run-failure-times", name: "times", type: "number", min: "1", value: "1" }), "Empty: every run, until cleared"),
          field("Namespace", select("run-failure-namespace", "namespace", ["", ...namespaces], { "": "any" })),
          h("div", { class: "actions full" }, h("button", { type: "submit", class: "primary" }, "Add run failure")),
        ),
        async (form) => {
          const body = { times: numberOrNull(form.get("times"), "Times") };
          for (const name of ["workflow", "user", "block", "message", "namespace"]) {
            const value = String(form.get(name) || "").trim();
            if (value) body[name] = value;
          }
          const rule = await api.post("/run-failures", body);
          await reload();
          return `Rule ${rule.id} added.`;
        },
      ),
  );
}
