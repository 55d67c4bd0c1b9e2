"use strict";
// Run with the emulator's address: ALLOY_MOCK_URL=http://127.0.0.1:8000 node --test
// The only change to the service: HTTPS_PROXY points at the emulator, which answers the vendor's hosts.
const { test, beforeEach } = require("node:test");
const assert = require("node:assert/strict");

const EMULATOR = process.env.ALLOY_MOCK_URL || "http://127.0.0.1:8000";
process.env.HTTPS_PROXY = EMULATOR;
for (const name of ["https_proxy", "NO_PROXY", "no_proxy"]) delete process.env[name]; // axios reads these first

const { onboard } = require("./onboarding");

async function control(method, path, body) {
  const answer = await fetch(`${EMULATOR}/_mock/${path}`, {
    method,
    headers: { "Content-Type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  assert.equal(answer.status, 200, await answer.clone().text());
  return answer.json();
}

beforeEach(() => control("POST", "reset", {}));

test("onboarding creates the user and lists the seed integrations", async () => {
  const { userId, apps } = await onboard("alloy-mock-dev-key", "alice@example.com", "Alice");

  assert.match(userId, /^[0-9a-f]{24}$/);
  assert.ok(apps.includes("Shopify"), apps.join(", "));
  const { data } = await control("GET", "requests?method=POST&limit=1");
  assert.equal(data[0].path, "/2023-01/users"); // the SDK's own path, through the proxy
});

test("onboarding twice finds the same user", async () => {
  const first = await onboard("alloy-mock-dev-key", "bob@example.com", "Bob");
  const second = await onboard("alloy-mock-dev-key", "bob@example.com", "Bob");

  assert.equal(second.userId, first.userId);
});

test("an outage reaches the caller", async () => {
  await control("POST", "faults", { method: "POST", path: "/users", status: 503 });

  // alloy-node rejects with the API's message: the fault's default body for a 503
  await assert.rejects(onboard("alloy-mock-dev-key", "carol@example.com", "Carol"), (error) => {
    assert.equal(error, "Service Unavailable");
    return true;
  });
});
