"use strict";
// npm alloy-frontend 2.1.1, unmodified, against alloy-mock. Its REST calls use the global fetch with the user's JWT
// in `x-alloy-user-token` (no API key, no userId) and hand every body, error bodies included, to the caller as
// parsed JSON. Importing it needs no window or document: only install()/authenticate() (the hosted modal) touch
// the DOM, and they are not exercised here.

const { test } = require("node:test");
const assert = require("node:assert/strict");

const h = require("./harness"); // wraps globalThis.fetch before the SDK uses it
const c = require("./control");
const Alloy = require("alloy-node");
const AlloyFrontend = require("alloy-frontend");

// A user created and given a token the way an app's backend does it: with alloy-node and the API key.
async function userWithToken(key = h.DEV_KEY) {
  const backend = new Alloy(key);
  const username = h.unique("fe");
  const { userId } = await backend.createUser({ username });
  await backend.identify(username);
  const { token } = await backend.getUserToken();
  return { backend, username, userId, token };
}

// What the API-key route answers for the same user, fetched directly (not through an SDK).
async function integrationsByKey(userId, key = h.DEV_KEY) {
  const response = await h.api("GET", `/2024-03/integrations?userId=${userId}`, { key });
  assert.equal(response.status, 200, response.text);
  return response.json;
}

function assertSentWithToken(entry, url, token) {
  assert.equal(entry.url, url);
  assert.equal(entry.headers["x-alloy-user-token"], token);
  assert.equal(entry.headers["Content-Type"], "application/json");
  assert.equal("Authorization" in entry.headers, false);
}

test("every REST call throws 'no token set' synchronously before setToken", () => {
  const alloy = AlloyFrontend();
  const before = h.sent.length;
  const calls = [
    () => alloy.getIntegrations(),
    () => alloy.getWorkflows(),
    () => alloy.deactivate({}),
    () => alloy.reactivate({}),
  ];
  for (const call of calls) assert.throws(call, { message: "no token set" });
  assert.equal(h.sent.length, before, "nothing was sent");
});

test("setToken + getIntegrations returns {data: [...]} for the token's user", async () => {
  const { userId, token } = await userWithToken();
  const alloy = AlloyFrontend();
  alloy.setToken(token);

  const body = await alloy.getIntegrations();
  assertSentWithToken(h.last(), "https://embedded.runalloy.com/2024-03/integrations", token);
  assert.equal(h.last().status, 200);
  assert.match(h.last().contentType, /^application\/json/);
  assert.deepEqual(Object.keys(body), ["data"]);
  assert.ok(body.data.some((i) => i.app === "Shopify"));
  // The demo app reads icon, app and integrationId of each entry.
  for (const integration of body.data) {
    assert.equal(typeof integration.icon, "string");
    assert.equal(typeof integration.app, "string");
    assert.match(integration.integrationId, /^[0-9a-f]{24}$/);
  }
  assert.deepEqual(body, await integrationsByKey(userId));
});

test("the eu region calls eu-embedded.runalloy.com, served the same way", async () => {
  const { userId, token } = await userWithToken();
  const alloy = AlloyFrontend();
  alloy.setRegion("EU");
  alloy.setToken(token);
  const body = await alloy.getIntegrations();
  assertSentWithToken(h.last(), "https://eu-embedded.runalloy.com/2024-03/integrations", token);
  assert.deepEqual(body, await integrationsByKey(userId));
});

test("a production user's token reads the production namespace", async () => {
  const { userId, token } = await userWithToken(h.PROD_KEY);
  assert.equal(h.claims(token).namespace, "prod");
  const alloy = AlloyFrontend();
  alloy.setToken(token);
  assert.deepEqual(await alloy.getIntegrations(), await integrationsByKey(userId, h.PROD_KEY));
});

test("bad tokens: the SDK passes {message: 'Unauthorized'} through", async () => {
  const { username, backend, token } = await userWithToken();
  const mint = async (spec) => {
    const response = await h.api("POST", "/_mock/tokens", { key: h.ADMIN_TOKEN, body: { user: username, ...spec } });
    assert.equal(response.status, 200, response.text);
    return response.json.token;
  };
  const expired = await mint({ expired: true });
  assert.ok(h.claims(expired).exp < h.claims(expired).iat);
  const cases = {
    garbage: "not-a-jwt",
    expired,
    "signed with another key": await mint({ signature: "wrong-key" }),
    "unknown kid": await mint({ signature: "unknown-kid" }),
    unsigned: await mint({ signature: "none" }),
  };
  const alloy = AlloyFrontend();
  for (const [name, bad] of Object.entries(cases)) {
    alloy.setToken(bad);
    assert.deepEqual(await alloy.getIntegrations(), { message: "Unauthorized" }, name);
    assert.equal(h.last().status, 401, name);
    assert.match(h.last().contentType, /^application\/json/, name);
  }

  // A valid token of a user deleted since it was issued.
  await backend.deleteUser();
  alloy.setToken(token);
  assert.deepEqual(await alloy.getIntegrations(), { message: "Unauthorized" });
  assert.equal(h.last().status, 401);
});

// The workflow routes with the user's token: a workflow is installed first through the control API.
async function userWithInstall() {
  const user = await userWithToken();
  await c.install(user.username, "Shopify", { workflows: [c.SYNC_CUSTOMERS] });
  const alloy = AlloyFrontend();
  alloy.setToken(user.token);
  return { ...user, alloy };
}

// What the API-key route answers for the same user's workflows.
async function workflowsByKey(userId) {
  const response = await h.api("GET", `/2024-03/workflows?userId=${userId}`);
  assert.equal(response.status, 200, response.text);
  return response.json;
}

// Whether the workflow installed by userWithInstall() is active, as the API-key route says.
async function installedActive(userId) {
  const { data } = await workflowsByKey(userId);
  return data.find((w) => w.workflowId === c.SYNC_CUSTOMERS).active;
}

test("getWorkflows returns {data: [Workflow]} with the token's user's install state", async () => {
  const { alloy, userId, token } = await userWithInstall();
  const body = await alloy.getWorkflows();
  assertSentWithToken(h.last(), "https://embedded.runalloy.com/2024-03/workflows", token);
  assert.equal(h.last().method, "GET");
  assert.equal(h.last().status, 200);
  assert.match(h.last().contentType, /^application\/json/);
  assert.deepEqual(Object.keys(body), ["data"]);
  const mine = body.data.find((w) => w.workflowId === c.SYNC_CUSTOMERS);
  assert.deepEqual([mine.installed, mine.active, mine.version, mine.installedVersion], [true, true, 2, 2]);
  assert.ok(body.data.filter((w) => w !== mine).every((w) => w.installed === false && !("installedVersion" in w)));
  assert.deepEqual(body, await workflowsByKey(userId));
});

test("deactivate and reactivate switch the token's user's workflow", async () => {
  const { alloy, userId, token } = await userWithInstall();

  const deactivated = await alloy.deactivate({ workflowId: c.SYNC_CUSTOMERS });
  assertSentWithToken(h.last(), "https://embedded.runalloy.com/2024-03/workflows/deactivate", token);
  assert.equal(h.last().method, "PUT");
  assert.equal(h.last().body, JSON.stringify({ workflowId: c.SYNC_CUSTOMERS })); // the caller's data, verbatim
  assert.equal(h.last().status, 200);
  assert.deepEqual(deactivated, { activated: false });
  assert.equal(await installedActive(userId), false);

  const reactivated = await alloy.reactivate({ workflowName: "Sync New Customers to Shopify" });
  assertSentWithToken(h.last(), "https://embedded.runalloy.com/2024-03/workflows/activate", token);
  assert.equal(h.last().method, "PUT");
  assert.equal(h.last().status, 200);
  assert.deepEqual(reactivated, { activated: true });
  assert.equal(await installedActive(userId), true);
});

test("deactivate: errors come back as JSON values and change nothing", async () => {
  const { alloy, userId } = await userWithInstall();

  // A workflow this user has not installed, and no workflow named at all: 400 messages.
  assert.deepEqual(await alloy.deactivate({ workflowId: c.HUBSPOT_CONTACT }), { message: c.NOT_INSTALLED });
  assert.equal(h.last().status, 400);
  assert.deepEqual(await alloy.deactivate({}), { message: "workflowId or workflowName is required" });
  assert.equal(h.last().status, 400);

  // Another user's token reaches only that user's installs.
  const stranger = AlloyFrontend();
  stranger.setToken((await userWithToken()).token);
  assert.deepEqual(await stranger.deactivate({ workflowId: c.SYNC_CUSTOMERS }), { message: c.NOT_INSTALLED });

  const forged = AlloyFrontend();
  forged.setToken("not-a-jwt");
  assert.deepEqual(await forged.deactivate({ workflowId: c.SYNC_CUSTOMERS }), { message: "Unauthorized" });
  assert.equal(h.last().status, 401);
  assert.deepEqual(await forged.getWorkflows(), { message: "Unauthorized" });
  assert.equal(h.last().status, 401);

  assert.equal(await installedActive(userId), true);
});
