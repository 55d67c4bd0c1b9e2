"use strict";
// npm alloy-node 2.2.1, unmodified, against alloy-mock: running workflows and reading their executions (event, run,
// getLogs, getAnalytics, deleteLogs). Workflows are installed through the control API first. getLogs and
// getAnalytics send no userId: they cover every user of the namespace, so each test tags its runs' data and reads
// back the executions carrying its tag.

const { test } = require("node:test");
const assert = require("node:assert/strict");

const h = require("./harness"); // installs the transport hooks before the SDK sends anything
const c = require("./control");
const Alloy = require("alloy-node");

const API = "https://embedded.runalloy.com";
const WOO_CUSTOMER = "65e5cf43a6597c674e4a449f"; // WooCommerce: Custom Event "Customer Created" -> WooCommerce
const WOO_BLOCK = "5a9b8ff5-6ef1-468a-b22c-380647c20e6d";
const WEBHOOK_SLACK = "65c35815dbed9eb70f7c73f2"; // Slack: Webhook Trigger -> Formatter -> Slack

const triggerBody = (entry) => entry.results[0].data[0][0].json.body;
const tagged = (logs, tag) => logs.data.filter((entry) => triggerBody(entry).tag === tag);

test("event() runs the identified user's workflow; getLogs and getAnalytics show it", async () => {
  const { alloy, username, userId } = await c.identified("ev");
  await c.install(username, "WooCommerce", { workflows: [WOO_CUSTOMER], values: { role: "agent" } });
  const before = await alloy.getAnalytics(WOO_CUSTOMER);
  assert.equal(h.last().url, `${API}/2023-01/workflows/${WOO_CUSTOMER}/analytics`);

  const data = { tag: username, name: "Ada Lovelace", email: "ada@example.com" };
  assert.deepEqual(await alloy.event("Customer Created", data), { message: "Event successfully triggered" });
  assert.equal(h.last().url, `${API}/2023-01/run/event`);
  assert.deepEqual(h.last().body, { event: "Customer Created", userId, data });

  const logs = await alloy.getLogs(WOO_CUSTOMER);
  assert.equal(h.last().url, `${API}/2023-01/workflows/${WOO_CUSTOMER}/logs`);
  const [entry] = tagged(logs, username);
  assert.deepEqual(triggerBody(entry), data);
  assert.equal(entry.finished, true);
  assert.match(entry.executionId, /^[A-Za-z0-9_-]{21}$/);
  const woo = entry.results.find((r) => r.blockId === WOO_BLOCK).data[0][0].json;
  assert.deepEqual([woo.email, woo.role], ["ada@example.com", "agent"]); // the install's field value

  const after = await alloy.getAnalytics(WOO_CUSTOMER);
  assert.deepEqual(Object.keys(after).sort(), ["totalAppActions", "totalErrors", "totalWorkflowRuns"]);
  assert.equal(after.totalWorkflowRuns - before.totalWorkflowRuns, 1);
  assert.equal(after.totalAppActions - before.totalAppActions, 1);
  assert.equal(after.totalErrors, before.totalErrors);
});

test("a failing run (payload marker) shows its error in getLogs and getAnalytics", async () => {
  const { alloy, username } = await c.identified("evfail");
  await c.install(username, "WooCommerce", { workflows: [WOO_CUSTOMER] });
  const before = await alloy.getAnalytics(WOO_CUSTOMER);
  const data = { tag: username, __alloy_mock: { failAt: "wooCommerce", message: "WooCommerce is down" } };
  await alloy.event("Customer Created", data);
  const [entry] = tagged(await alloy.getLogs(WOO_CUSTOMER), username);
  assert.deepEqual(triggerBody(entry), { tag: username }); // the marker is not part of the data
  const failed = entry.results.find((r) => r.blockId === WOO_BLOCK);
  assert.deepEqual([failed.data, failed.error], [[], { message: "WooCommerce is down" }]);
  const after = await alloy.getAnalytics(WOO_CUSTOMER);
  assert.equal(after.totalErrors - before.totalErrors, 1);
});

test("run() runs a webhook workflow by id or by name; a custom-event workflow is refused", async () => {
  const { alloy, username, userId } = await c.identified("wh");
  await c.install(username, "Slack", { workflows: [WEBHOOK_SLACK] });
  await c.install(username, "WooCommerce", { workflows: [WOO_CUSTOMER] });

  assert.deepEqual(await alloy.run(WEBHOOK_SLACK, { tag: username, text: "by id" }), { message: "success" });
  assert.deepEqual(h.last().body, { workflowId: WEBHOOK_SLACK, userId, data: { tag: username, text: "by id" } });
  await alloy.run("Post Webhook Events to Slack", { tag: username, text: "by name" });
  assert.equal(h.last().body.workflowName, "Post Webhook Events to Slack");

  const texts = tagged(await alloy.getLogs(WEBHOOK_SLACK), username).map((entry) => triggerBody(entry).text);
  assert.deepEqual(texts, ["by name", "by id"]); // newest first

  const err = await h.thrown(() => alloy.run(WOO_CUSTOMER, { tag: username }));
  assert.match(err, /starts with the custom event 'Customer Created': run it with POST \/run\/event$/);
  assert.equal(h.last().status, 400);
});

test("deleteLogs() removes the identified user's executions and leaves other users' alone", async () => {
  const one = await c.identified("del1");
  const two = await c.identified("del2");
  for (const { username } of [one, two]) await c.install(username, "WooCommerce", { workflows: [WOO_CUSTOMER] });
  await one.alloy.event("Customer Created", { tag: one.username });
  await two.alloy.event("Customer Created", { tag: two.username });
  const before = await one.alloy.getAnalytics(WOO_CUSTOMER);

  assert.deepEqual(await one.alloy.deleteLogs(), { message: "Success" });
  assert.equal(h.last().url, `${API}/2023-01/users/${one.userId}/logs`);
  assert.equal(h.last().method, "DELETE");
  const logs = await one.alloy.getLogs(WOO_CUSTOMER);
  assert.deepEqual(tagged(logs, one.username), []);
  assert.equal(tagged(logs, two.username).length, 1);
  const after = await one.alloy.getAnalytics(WOO_CUSTOMER);
  assert.equal(before.totalWorkflowRuns - after.totalWorkflowRuns, 1);
});

test("run errors are thrown as the bare message", async () => {
  const { alloy } = await c.identified("everr");
  assert.equal(
    await h.thrown(() => alloy.event("Customer Created", [1, 2])),
    "data must be an object, or a string holding a JSON object",
  );
  assert.equal(h.last().status, 400);
  assert.equal(await h.thrown(() => alloy.getLogs("000000000000000000000000")), "Workflow not found");
  assert.equal(await h.thrown(() => alloy.getAnalytics("No such workflow")), "Workflow not found");
  const stranger = new Alloy(h.DEV_KEY); // never identified: userId null
  assert.equal(await h.thrown(() => stranger.event("Customer Created", {})), "userId is required");
  assert.equal(await h.thrown(() => stranger.deleteLogs()), "User not found");
});
