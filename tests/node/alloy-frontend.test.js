"use strict";
// npm alloy-frontend 2.1.1, unmodified, against alloy-mock. Its REST calls use the global fetch with the user's JWT
// in `x-alloy-user-token` (no API key, no userId) and hand every body, error bodies included, to the caller as
// parsed JSON. Importing it needs no window or document: only install()/authenticate() (the hosted modal) touch
// the DOM, and they are not exercised here.

const { test } = require("node:test");
const assert = require("node:assert/strict");

const h = require("./harness"); // wraps globalThis.fetch before the SDK uses it
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

// PENDING in alloy-mock: /workflows and /workflows/{activate,deactivate} are not served yet. These tests pin the
// current answer (a JSON 404 that the SDK passes through) and will fail once the routes exist: then assert the
// real responses ({"data": [Workflow]}, {"activated": false}, {"activated": true}) instead.
test("pending: getWorkflows is a JSON 404 for now", async () => {
  const { token } = await userWithToken();
  const alloy = AlloyFrontend();
  alloy.setToken(token);
  const body = await alloy.getWorkflows();
  assertSentWithToken(h.last(), "https://embedded.runalloy.com/2024-03/workflows", token);
  assert.equal(h.last().method, "GET");
  assert.equal(h.last().status, 404);
  assert.match(h.last().contentType, /^application\/json/);
  assert.deepEqual(body, { message: "No route for GET /2024-03/workflows" });
});

test("pending: deactivate and reactivate are JSON 404s for now", async () => {
  const { token } = await userWithToken();
  const alloy = AlloyFrontend();
  alloy.setToken(token);
  const workflowId = "64108e3c3cac1228833b4944"; // a seeded Shopify workflow

  const deactivated = await alloy.deactivate({ workflowId });
  assertSentWithToken(h.last(), "https://embedded.runalloy.com/2024-03/workflows/deactivate", token);
  assert.equal(h.last().method, "PUT");
  assert.equal(h.last().body, JSON.stringify({ workflowId }));
  assert.equal(h.last().status, 404);
  assert.deepEqual(deactivated, { message: "No route for PUT /2024-03/workflows/deactivate" });

  const reactivated = await alloy.reactivate({ workflowId });
  assertSentWithToken(h.last(), "https://embedded.runalloy.com/2024-03/workflows/activate", token);
  assert.equal(h.last().method, "PUT");
  assert.equal(h.last().status, 404);
  assert.deepEqual(reactivated, { message: "No route for PUT /2024-03/workflows/activate" });
});
