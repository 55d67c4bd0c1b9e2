"use strict";
// npm alloy-node 2.2.1, unmodified, against alloy-mock (API 2023-01 paths, axios, `Authorization: Bearer <key>`).
// The SDK returns the parsed body on a 2xx and, on an error, throws the bare `message` string of the body.

const { test } = require("node:test");
const assert = require("node:assert/strict");

const h = require("./harness"); // installs the transport hooks before the SDK sends anything
const Alloy = require("alloy-node");

const OBJECT_ID = /^[0-9a-f]{24}$/;
const SEEDED_APPS = ["Shopify", "HubSpot", "Salesforce", "NetSuite", "Slack"];

test("user lifecycle: create, identify, get, list, update, token, delete", async () => {
  const alloy = new Alloy(h.DEV_KEY);
  const username = h.unique("node");

  const created = await alloy.createUser({ username, fullName: "Node Js" });
  assert.deepEqual(Object.keys(created), ["userId"]);
  assert.match(created.userId, OBJECT_ID);
  const userId = created.userId;
  assert.equal(h.last().method, "POST");
  assert.equal(h.last().url, "https://embedded.runalloy.com/2023-01/users");
  assert.equal(h.last().headers.Authorization, `Bearer ${h.DEV_KEY}`);
  assert.equal(h.last().status, 200);

  // identify() reads the top-level userId and username of GET /users/{username}.
  assert.equal(await alloy.identify(username), undefined);
  assert.equal(alloy.userId, userId);
  assert.equal(alloy.username, username);

  const expected = { userId, username, fullName: "Node Js" };
  assert.deepEqual(await alloy.getUser(username), expected);
  assert.deepEqual(await alloy.getUser(userId), expected);

  const { data } = await alloy.getUsers();
  assert.ok(Array.isArray(data));
  assert.deepEqual(data.find((u) => u.userId === userId), expected);

  // updateUser/deleteUser/getUserToken use the identified userId.
  assert.deepEqual(await alloy.updateUser({ fullName: "Renamed" }), { ...expected, fullName: "Renamed" });
  assert.equal(h.last().url, `https://embedded.runalloy.com/2023-01/users/${userId}`);
  assert.deepEqual(await alloy.getUser(userId), { ...expected, fullName: "Renamed" });

  const token = await alloy.getUserToken();
  assert.deepEqual(Object.keys(token), ["token"]);
  const claims = h.claims(token.token);
  assert.equal(claims.userId, userId);
  assert.equal(claims.username, username);
  assert.equal(claims.namespace, "dev");
  assert.ok(claims.exp > claims.iat);

  assert.deepEqual(await alloy.deleteUser(), { success: true });
  assert.equal(h.last().method, "DELETE");

  // The unknown user after delete: the SDK throws the bare message (a string, not an Error).
  const err = await h.thrown(() => alloy.getUser(userId));
  assert.equal(err, "User not found");
  assert.equal(h.last().status, 404);
  assert.equal(await h.thrown(() => alloy.getUserToken()), "User not found");

  // identify() of an unknown user resets the identity and rethrows the message.
  assert.equal(await h.thrown(() => alloy.identify(username)), "User not found");
  assert.equal(alloy.userId, null);
  assert.equal(alloy.username, null);
});

test("updateUser can rename the user", async () => {
  const alloy = new Alloy(h.DEV_KEY);
  const [before, after] = [h.unique("before"), h.unique("after")];
  const { userId } = await alloy.createUser({ username: before });
  await alloy.identify(before);
  assert.deepEqual(await alloy.updateUser({ username: after }), { userId, username: after });
  assert.deepEqual(await alloy.getUser(after), { userId, username: after });
  assert.equal(await h.thrown(() => alloy.getUser(before)), "User not found");
});

test("duplicate username: the SDK throws the bare message string", async () => {
  const alloy = new Alloy(h.DEV_KEY);
  const username = h.unique("dup");
  await alloy.createUser({ username });
  const err = await h.thrown(() => alloy.createUser({ username }));
  assert.equal(typeof err, "string");
  assert.equal(err, "User already exists");
  assert.equal(h.last().status, 400);
  assert.match(h.last().contentType, /^application\/json/);

  // Renaming onto a taken username is refused the same way.
  const other = h.unique("other");
  await alloy.createUser({ username: other });
  await alloy.identify(other);
  assert.equal(await h.thrown(() => alloy.updateUser({ username })), "User already exists");
});

test("missing username on createUser is a 400 with a message", async () => {
  const err = await h.thrown(() => new Alloy(h.DEV_KEY).createUser({ fullName: "No Name" }));
  assert.equal(typeof err, "string");
  assert.ok(err.length > 0);
  assert.equal(h.last().status, 400);
});

test("integrations: list and get by name or id for the identified user", async () => {
  const alloy = new Alloy(h.DEV_KEY);
  const username = h.unique("int");
  const { userId } = await alloy.createUser({ username });
  await alloy.identify(username);

  const listed = await alloy.getIntegrations();
  assert.deepEqual(Object.keys(listed), ["data"]);
  assert.deepEqual(h.last().params, { userId });
  const apps = listed.data.map((i) => i.app);
  for (const app of SEEDED_APPS) assert.ok(apps.includes(app), `${app} missing from ${apps}`);
  for (const integration of listed.data) {
    assert.match(integration.integrationId, OBJECT_ID);
    assert.equal(integration.installed, false);
    assert.equal(typeof integration.icon, "string");
  }

  // getIntegration(name) puts the name in the path.
  const shopify = await alloy.getIntegration("Shopify");
  assert.equal(h.last().url, "https://embedded.runalloy.com/2023-01/integrations/Shopify");
  assert.equal(shopify.data.app, "Shopify");
  assert.equal(shopify.data.integrationId, listed.data.find((i) => i.app === "Shopify").integrationId);
  assert.ok(shopify.data.workflows.length > 0);
  for (const workflow of shopify.data.workflows) {
    assert.match(workflow.workflowId, OBJECT_ID);
    assert.equal(workflow.installed, false);
    assert.equal(workflow.active, false);
    assert.equal(typeof workflow.version, "number");
    assert.equal("installedVersion" in workflow, false);
  }
  assert.deepEqual(await alloy.getIntegration(shopify.data.integrationId), shopify);

  assert.equal(await h.thrown(() => alloy.getIntegration("NoSuchApp")), "Integration not found");
  assert.equal(h.last().status, 404);
});

test("integrations before identify(): the SDK sends no userId and gets a 400 message", async () => {
  const err = await h.thrown(() => new Alloy(h.DEV_KEY).getIntegrations());
  assert.equal(typeof err, "string");
  assert.match(err, /userId/);
  assert.equal(h.last().status, 400);
});

test("keys: namespaces are isolated and a bad key is Unauthorized", async () => {
  const dev = new Alloy(h.DEV_KEY);
  const prod = new Alloy(h.PROD_KEY);
  const username = h.unique("iso");
  const { userId } = await dev.createUser({ username });

  assert.equal(await h.thrown(() => prod.getUser(userId)), "User not found");
  assert.equal(await h.thrown(() => prod.identify(username)), "User not found");
  assert.equal((await prod.getUsers()).data.some((u) => u.userId === userId), false);

  // The same username may exist in both namespaces, as two users.
  const prodUser = await prod.createUser({ username });
  assert.notEqual(prodUser.userId, userId);

  assert.equal(await h.thrown(() => new Alloy("not-a-key").getUsers()), "Unauthorized");
  assert.equal(h.last().status, 401);
});
