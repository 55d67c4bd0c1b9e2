// Coverage: the vendor operations the emulator serves, per API version (GET /_mock/coverage).

import * as api from "./api.js";
import { badge, errorBox, h, replace, table } from "./ui.js";

export const title = "Coverage";

export function mount(container) {
  const body = h("div", {}, h("p", { class: "muted" }, "Loading…"));
  replace(container, h("div", { class: "page-head" }, h("h1", {}, "Coverage")), body);
  api.get("/coverage").then(
    (coverage) => replace(body, render(coverage)),
    (failure) => replace(body, errorBox(failure)),
  );
}

function render(coverage) {
  const versions = Object.keys(coverage.versions);
  return [
    h("p", { class: "muted" }, `Operations from the ${coverage.source}, by API version.`),
    h(
      "ul",
      { class: "summary", id: "coverage-summary" },
      versions.map((version) => {
        const { served, total } = coverage.summary[version];
        return h("li", { class: "card" }, h("span", { class: "summary-title" }, version), h("span", { class: "summary-value" }, `${served} / ${total}`), h("span", { class: "muted" }, "operations served"));
      }),
    ),
    versions.map((version) =>
      h(
        "details",
        { class: "card", open: version === "2023-12" || null, id: `coverage-${version}` },
        h("summary", {}, h("h2", { class: "inline" }, version), ` — ${coverage.summary[version].served} of ${coverage.summary[version].total} served`),
        table(
          `Operations of ${version}`,
          ["Operation", "Method", "Path", "Served"],
          coverage.versions[version].map((op) =>
            h(
              "tr",
              {},
              h("td", {}, op.operationId),
              h("td", {}, h("code", {}, op.method)),
              h("td", {}, h("code", {}, op.path)),
              h("td", {}, op.served ? badge("served", "ok") : badge("not served", "bad")),
            ),
          ),
        ),
      ),
    ),
  ];
}
