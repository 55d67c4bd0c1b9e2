"use strict";
// npm alloy-node 2.2.1, unmodified and unhooked, with alloy-mock as its HTTPS proxy: the supported way to point it
// at the emulator (docs/sdks.md). Its axios (0.21.4) sends a request for https://embedded.runalloy.com/... through
// an http:// proxy as plain HTTP, with the full URL as the request target (`GET https://embedded.runalloy.com/
// 2023-01/users HTTP/1.1`, `Host: embedded.runalloy.com`), never a CONNECT; the emulator serves the vendor's hosts
// in that form as their paths. Nothing here rewrites a URL: the only change is HTTPS_PROXY.
//
// To cover another SDK method once its endpoint exists, add a test below: `sdk()` gives an identified client, and
// `received()` what the emulator saw (its request journal), to show that the call came through the proxy.

const { test } = require("node:test");
const assert = require("node:assert/strict");

const emu = require("./emulator");

// Only HTTPS_PROXY: axios reads the lower-case name first, and NO_PROXY could send the calls to the real vendor.
process.env.HTTPS_PROXY = emu.BASE_URL;
for (const name of ["https_proxy", "NO_PROXY", "no_proxy"]) delete process.env[name];

const Alloy = require("alloy-node");

const OBJECT_ID = /^[0-9a-f]{24}$/;
const SEEDED_APPS = ["Shopify", "HubSpot", "Salesforce", "NetSuite", "Slack"];

// A client with a new user created and identified, as an app's backend does it.
async function sdk(prefix = "proxy") {
  const alloy = new Alloy(emu.DEV_KEY);
  const username = emu.unique(prefix);
  const { userId } = await alloy.createUser({ username, fullName: "Proxy User" });
  await alloy.identify(username);
  return { alloy, username, userId };
}

// The newest request the emulator recorded for `method` and a path (a glob), to see that the SDK's call reached it.
async function received(method, path) {
  const { status, json } = await emu.api("GET", `/_mock/requests?method=${method}&path=${encodeURIComponent(path)}&limit=1`, {
    key: null,
    headers: emu.ADMIN_TOKEN ? { Authorization: `Bearer ${emu.ADMIN_TOKEN}` } : {},
  });
  assert.equal(status, 200);
  return json.data[0];
}

test("the user methods through the proxy: create, identify, get, list, update, token, delete", async () => {
  const { alloy, username, userId } = await sdk();
  assert.match(userId, OBJECT_ID);
  assert.equal(alloy.userId, userId);
  assert.equal(alloy.username, username);
  assert.equal((await received("POST", "/2023-01/users")).status, 200);

  const expected = { userId, username, fullName: "Proxy User" };
  assert.deepEqual(await alloy.getUser(username), expected);
  assert.deepEqual(await alloy.getUser(userId), expected);
  assert.equal((await received("GET", `/2023-01/users/${userId}`)).namespace, "default.dev");

  const { data } = await alloy.getUsers();
  assert.deepEqual(data.find((user) => user.userId === userId), expected);

  assert.deepEqual(await alloy.updateUser({ fullName: "Renamed" }), { ...expected, fullName: "Renamed" });
  assert.deepEqual(await alloy.getUser(userId), { ...expected, fullName: "Renamed" });

  const { token } = await alloy.getUserToken();
  const claims = emu.claims(token);
  assert.equal(claims.userId, userId);
  assert.equal(claims.username, username);
  assert.equal(claims.namespace, "dev");

  assert.deepEqual(await alloy.deleteUser(), { success: true });
  assert.equal(await emu.thrown(() => alloy.getUser(userId)), "User not found");
  assert.equal((await received("GET", `/2023-01/users/${userId}`)).status, 404);
});

test("a username with non-ASCII letters, which Node sends unencoded (as Latin-1)", async () => {
  const alloy = new Alloy(emu.DEV_KEY);
  const username = emu.unique("zoë");
  const { userId } = await alloy.createUser({ username });
  assert.deepEqual(await alloy.getUser(username), { userId, username });
  await alloy.identify(username);
  assert.equal(alloy.userId, userId);
  assert.equal((await received("GET", `/2023-01/users/${username}`)).status, 200);
});

test("integrations through the proxy: list and get by name or id", async () => {
  const { alloy, userId } = await sdk("int");
  const listed = await alloy.getIntegrations();
  const apps = listed.data.map((integration) => integration.app);
  for (const app of SEEDED_APPS) assert.ok(apps.includes(app), `${app} missing from ${apps}`);
  assert.equal((await received("GET", "/2023-01/integrations")).query, `userId=${userId}`);

  const shopify = await alloy.getIntegration("Shopify");
  assert.equal(shopify.data.app, "Shopify");
  assert.equal(shopify.data.integrationId, listed.data.find((i) => i.app === "Shopify").integrationId);
  assert.ok(shopify.data.workflows.length > 0);
  assert.deepEqual(await alloy.getIntegration(shopify.data.integrationId), shopify);
  assert.equal(await emu.thrown(() => alloy.getIntegration("NoSuchApp")), "Integration not found");
});

test("errors through the proxy are the emulator's JSON messages", async () => {
  const { alloy, username } = await sdk("dup");
  assert.equal(await emu.thrown(() => alloy.createUser({ username })), "User already exists");
  assert.equal(await emu.thrown(() => new Alloy("not-a-key").getUsers()), "Unauthorized");
});
