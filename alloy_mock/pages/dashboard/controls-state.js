// Controls, continued: the clock, snapshots, reset and minting a token (each one call of the control API).

import * as api from "./api.js";
import { action, badge, button, empty, field, h, onSubmit, relative, section, select, setClock, table } from "./ui.js";

const SIGNATURES = ["valid", "wrong-key", "unknown-kid", "none"];

function clockMoved(clock) {
  setClock(clock);
  window.dispatchEvent(new CustomEvent("alloy-mock:clock"));
  return clock;
}

export function clockSection() {
  return section(
    "clock",
    "Clock",
    "The emulator's time: token expiry, createdAt and execution times follow it.",
    async (reload) => {
      const clock = clockMoved(await api.get("/clock"));
      const run = (path, body, message) => async () => {
        const moved = clockMoved(await api.post(path, body));
        await reload();
        return `${message}: ${moved.iso}`;
      };
      return [
        h(
          "p",
          { class: "clock-now" },
          clock.frozen ? badge("frozen", "warn") : badge("running", "ok"),
          " ",
          h("output", { id: "clock-iso" }, clock.iso),
        ),
        h(
          "div",
          { class: "actions" },
          clock.frozen
            ? action("Unfreeze", run("/clock/unfreeze", {}, "Clock running from"), "secondary", { id: "clock-unfreeze" })
            : action("Freeze now", run("/clock/freeze", {}, "Clock frozen at"), "primary", { id: "clock-freeze" }),
          action("Reset to real time", run("/clock/reset", {}, "Clock reset to"), "secondary", { id: "clock-reset" }),
        ),
      ];
    },
    (reload) =>
      onSubmit(
        h(
          "form",
          { class: "grid-form", id: "clock-freeze-form", "aria-label": "Freeze at a time" },
          field("Freeze at (ISO 8601 or epoch seconds)", h("input", { id: "clock-at", name: "at", placeholder: "2024-01-01T00:00:00Z", required: true })),
          h("div", { class: "actions" }, h("button", { type: "submit", class: "secondary" }, "Freeze at")),
        ),
        async (form) => {
          const text = String(form.get("at")).trim();
          const at = /^-?[0-9]+(\.[0-9]+)?$/.test(text) ? Number(text) : text;
          const clock = clockMoved(await api.post("/clock/freeze", { at }));
          await reload();
          return `Clock frozen at ${clock.iso}`;
        },
      ),
    (reload) =>
      onSubmit(
        h(
          "form",
          { class: "grid-form", id: "clock-advance-form", "aria-label": "Advance the clock" },
          field("Advance by (seconds, negative goes back)", h("input", { id: "clock-seconds", name: "seconds", type: "number", step: "any", value: "3600", required: true })),
          h("div", { class: "actions" }, h("button", { type: "submit", class: "secondary" }, "Advance")),
        ),
        async (form) => {
          const clock = clockMoved(await api.post("/clock/advance", { seconds: Number(form.get("seconds")) }));
          await reload();
          return `Clock now at ${clock.iso}`;
        },
      ),
  );
}

export function snapshotSection() {
  return section(
    "snapshots",
    "Snapshots",
    "Save the data of every namespace under a name, and go back to it later.",
    async (reload) => {
      const snapshots = (await api.get("/snapshots")).data;
      if (!snapshots.length) return empty("No snapshots saved.", "Save one below before a test changes the data, then restore it.");
      return table(
        "Saved snapshots",
        ["Name", "", ""],
        snapshots.map(({ name }) =>
          h(
            "tr",
            {},
            h("td", {}, name),
            h("td", {}, action("Restore", async () => {
              await api.post(`/snapshots/${encodeURIComponent(name)}/restore`, {});
              return `Snapshot ${name} restored.`;
            }, "secondary", { "aria-label": `Restore snapshot ${name}` })),
            h("td", {}, action("Delete", async () => {
              await api.del(`/snapshots/${encodeURIComponent(name)}`);
              await reload();
              return `Snapshot ${name} deleted.`;
            }, "secondary", { "aria-label": `Delete snapshot ${name}` })),
          ),
        ),
        { id: "snapshots-table" },
      );
    },
    (reload) =>
      onSubmit(
        h(
          "form",
          { class: "grid-form", id: "snapshot-form", "aria-label": "Save a snapshot" },
          field("Name", h("input", { id: "snapshot-name", name: "name", required: true, maxlength: "200", placeholder: "before-test" })),
          h("div", { class: "actions" }, h("button", { type: "submit", class: "primary" }, "Save snapshot")),
        ),
        async (form) => {
          const name = String(form.get("name")).trim();
          await api.post("/snapshots", { name });
          await reload();
          return `Snapshot ${name} saved.`;
        },
      ),
  );
}

// Two steps (Reset…, then Confirm), so that one stray click or key press never empties the emulator.
export function resetSection(namespaces) {
  const scope = select("reset-namespace", "namespace", ["", ...namespaces], { "": "everything (also faults, rules, journal, clock)" });
  const confirm = h("div", { class: "actions", hidden: true });
  const ask = button("Reset…", () => {
    confirm.hidden = false;
    confirm.querySelector("button").focus();
  }, "danger", { id: "reset-ask" });
  confirm.append(
    h("span", {}, "This deletes data. "),
    action("Confirm reset", async () => {
      const answer = await api.post("/reset", scope.value ? { namespace: scope.value } : {});
      confirm.hidden = true;
      if (!scope.value) clockMoved(await api.get("/clock"));
      return `Reset: ${answer.reset}.`;
    }, "danger", { id: "reset-confirm" }),
    button("Cancel", () => {
      confirm.hidden = true;
      ask.focus();
    }),
  );
  return h(
    "section",
    { class: "card", id: "reset", "aria-labelledby": "reset-title" },
    h("h2", { id: "reset-title" }, "Reset"),
    h("p", { class: "muted" }, "Back to the seed state: no users, installs, credentials or executions."),
    field("What to reset", scope),
    h("div", { class: "actions" }, ask),
    confirm,
  );
}

export function tokenSection(namespaces) {
  const result = h("div", { id: "token-result", "aria-live": "polite" });
  const form = onSubmit(
    h(
      "form",
      { class: "grid-form", id: "token-form", "aria-label": "Mint a user token" },
      field("User (id or username)", h("input", { id: "token-user", name: "user", required: true })),
      field("Namespace", select("token-namespace", "namespace", namespaces)),
      field("Lifetime (seconds)", h("input", { id: "token-ttl", name: "ttl", type: "number", placeholder: "default" })),
      field("Signature", select("token-signature", "signature", SIGNATURES)),
      h("div", { class: "field checkbox" }, h("input", { id: "token-expired", name: "expired", type: "checkbox" }), h("label", { for: "token-expired" }, "Already expired")),
      h("div", { class: "actions full" }, h("button", { type: "submit", class: "primary" }, "Mint token")),
    ),
    async (data) => {
      const body = { user: String(data.get("user")).trim(), namespace: data.get("namespace"), signature: data.get("signature"), expired: data.get("expired") === "on" };
      if (data.get("ttl")) body.ttl = Number(data.get("ttl"));
      const answer = await api.post("/tokens", body);
      const expires = answer.claims.exp ? new Date(answer.claims.exp * 1000).toISOString() : null;
      result.replaceChildren(
        field("Token", h("textarea", { id: "token-value", readonly: true, rows: "3", class: "code" }, answer.token)),
        h("p", { class: "muted" }, expires ? `Expires ${relative(expires)} (${expires}).` : "No expiry."),
      );
      return "Token minted.";
    },
  );
  return h(
    "section",
    { class: "card", id: "tokens", "aria-labelledby": "tokens-title" },
    h("h2", { id: "tokens-title" }, "Mint a token"),
    h("p", { class: "muted" }, "A user token on demand, also expired or badly signed ones for negative tests."),
    form,
    result,
  );
}
