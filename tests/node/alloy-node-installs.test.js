"use strict";
// npm alloy-node 2.2.1, unmodified, against alloy-mock: the methods around installed integrations (workflows,
// versions, switching, deleting, apps, credentials, OAuth and install links). Workflows are installed first
// through the control API (POST /_mock/installs). The SDK returns the parsed body on a 2xx and throws the bare
// `message` string of an error body.

const { test } = require("node:test");
const assert = require("node:assert/strict");

const h = require("./harness"); // installs the transport hooks before the SDK sends anything
const c = require("./control");
const Alloy = require("alloy-node");

const API = "https://embedded.runalloy.com";

const byId = (workflows, workflowId) => workflows.find((w) => w.workflowId === workflowId);

test("getWorkflows/getWorkflow show an install made through the control API", async () => {
  const { alloy, username, userId } = await c.identified("wf");
  const before = await alloy.getWorkflows();
  assert.ok(before.data.every((w) => w.installed === false && w.active === false && !("installedVersion" in w)));

  await c.install(username, "Shopify", { workflows: [c.SYNC_CUSTOMERS] });

  const listed = await alloy.getWorkflows();
  assert.equal(h.last().url, `${API}/2023-01/workflows`);
  assert.deepEqual(h.last().params, { userId });
  assert.deepEqual(
    listed.data.map((w) => w.workflowId),
    before.data.map((w) => w.workflowId),
  );
  const mine = byId(listed.data, c.SYNC_CUSTOMERS);
  assert.deepEqual(
    [mine.installed, mine.active, mine.version, mine.installedVersion, mine.integrationId],
    [true, true, 2, 2, c.SHOPIFY],
  );
  assert.ok(listed.data.filter((w) => w !== mine).every((w) => w.installed === false && !("installedVersion" in w)));

  const one = await alloy.getWorkflow(c.SYNC_CUSTOMERS);
  assert.equal(h.last().url, `${API}/2023-01/workflows/${c.SYNC_CUSTOMERS}`);
  assert.deepEqual(one, { data: mine });
  assert.equal(await h.thrown(() => alloy.getWorkflow("000000000000000000000000")), "Workflow not found");
  assert.equal(h.last().status, 404);
});

test("getIntegrations/getIntegration show the per-user install state", async () => {
  const { alloy, username } = await c.identified("intst");
  await c.install(username, "Shopify", { workflows: [c.CREATE_ORDER], version: 2, values: c.ORDER_VALUES });

  const listed = await alloy.getIntegrations();
  const installed = Object.fromEntries(listed.data.map((i) => [i.app, i.installed]));
  assert.equal(installed.Shopify, true);
  assert.equal(installed.HubSpot, false);

  const shopify = (await alloy.getIntegration("Shopify")).data;
  assert.equal(shopify.installed, true);
  const order = byId(shopify.workflows, c.CREATE_ORDER);
  assert.deepEqual([order.installed, order.active, order.version, order.installedVersion], [true, true, 3, 2]);
  const other = byId(shopify.workflows, c.SYNC_CUSTOMERS);
  assert.deepEqual([other.installed, other.active, "installedVersion" in other], [false, false, false]);
});

test("getVersions (a 2023-06 path) marks the installed version active", async () => {
  const { alloy, username, userId } = await c.identified("ver");
  await c.install(username, "Shopify", { workflows: [c.CREATE_ORDER], version: 2, values: c.ORDER_VALUES });
  const { data } = await alloy.getVersions(c.CREATE_ORDER);
  assert.equal(h.last().url, `${API}/2023-06/workflows/${c.CREATE_ORDER}/versions`);
  assert.deepEqual(h.last().params, { userId });
  assert.deepEqual(
    data.map((v) => [v.versionName, v.status]),
    [
      ["Version 1", "inactive"],
      ["Version 2", "active"],
      ["Version 3", "inactive"],
    ],
  );
  for (const version of data) assert.match(version.versionId, /^[0-9a-f]{24}$/);
  assert.equal(await h.thrown(() => alloy.getVersions(c.HUBSPOT_CONTACT)), c.NOT_INSTALLED);
  assert.equal(h.last().status, 400);
});

test("deactivate, reactivate and disableAllWorkflows change what getWorkflow shows", async () => {
  const { alloy, username, userId } = await c.identified("switch");
  await c.install(username, "Shopify", { workflows: [c.SYNC_CUSTOMERS, c.CREATE_ORDER], values: c.ORDER_VALUES });
  const active = async (workflowId) => (await alloy.getWorkflow(workflowId)).data.active;

  assert.deepEqual(await alloy.deactivate({ workflowId: c.SYNC_CUSTOMERS }), { activated: false });
  assert.equal(h.last().method, "PUT");
  assert.equal(h.last().url, `${API}/2023-01/workflows/deactivate`);
  assert.deepEqual(h.last().body, { userId, workflowId: c.SYNC_CUSTOMERS });
  assert.equal(await active(c.SYNC_CUSTOMERS), false);
  assert.equal(await active(c.CREATE_ORDER), true); // only the one named

  // By name this time.
  assert.deepEqual(await alloy.reactivate({ workflowName: "Sync New Customers to Shopify" }), { activated: true });
  assert.equal(h.last().url, `${API}/2023-01/workflows/activate`);
  assert.equal(await active(c.SYNC_CUSTOMERS), true);

  assert.deepEqual(await alloy.disableAllWorkflows(), { message: "Success" });
  assert.equal(h.last().url, `${API}/2023-01/users/${userId}/deactivate-workflows`);
  const installed = (await alloy.getWorkflows()).data.filter((w) => w.installed);
  assert.deepEqual(
    installed.map((w) => [w.workflowId, w.active]),
    [
      [c.SYNC_CUSTOMERS, false],
      [c.CREATE_ORDER, false],
    ],
  );

  assert.equal(await h.thrown(() => alloy.deactivate({ workflowId: c.HUBSPOT_CONTACT })), c.NOT_INSTALLED);
  assert.equal(await h.thrown(() => alloy.reactivate({})), "workflowId or workflowName is required");
  assert.equal(h.last().status, 400);
});

test("getWorkflowDetails lists the identified user's install; deleteWorkflow uninstalls it", async () => {
  const { alloy, username, userId } = await c.identified("del");
  const other = await c.identified("keep");
  for (const user of [username, other.username]) {
    await c.install(user, "Shopify", { workflows: [c.SYNC_CUSTOMERS], active: user === username });
  }

  const details = await alloy.getWorkflowDetails(c.SYNC_CUSTOMERS);
  assert.equal(h.last().url, `${API}/2023-01/workflows/${c.SYNC_CUSTOMERS}/users`);
  assert.deepEqual(h.last().params, { userId }); // the SDK narrows the list to the identified user
  assert.deepEqual(details, { data: [{ username, userId, workflowActive: true, installedVersion: 2 }] });

  assert.deepEqual(await alloy.deleteWorkflow(c.SYNC_CUSTOMERS), { deleted: true });
  assert.equal(h.last().method, "DELETE");
  const gone = (await alloy.getWorkflow(c.SYNC_CUSTOMERS)).data;
  assert.deepEqual([gone.installed, gone.active, "installedVersion" in gone], [false, false, false]);
  assert.equal(await h.thrown(() => alloy.deleteWorkflow(c.SYNC_CUSTOMERS)), c.NOT_INSTALLED);
  assert.equal(
    await h.thrown(() => alloy.getWorkflowDetails(c.SYNC_CUSTOMERS)),
    "No users have installed this workflow",
  );
  assert.equal(h.last().status, 404);

  // The other user keeps their (inactive) copy.
  const kept = await other.alloy.getWorkflowDetails(c.SYNC_CUSTOMERS);
  assert.deepEqual(kept.data, [
    { username: other.username, userId: other.userId, workflowActive: false, installedVersion: 2 },
  ]);
});

test("getApps returns the seeded apps", async () => {
  const alloy = new Alloy(h.DEV_KEY);
  assert.deepEqual(await alloy.getApps(), { data: c.SEEDED_APPS });
  assert.equal(h.last().url, `${API}/2023-01/apps`);
});

test("getCredential returns one app's credential metadata (2023-01 /credentials/{name})", async () => {
  const alloy = new Alloy(h.DEV_KEY);
  const shopify = await alloy.getCredential("shopify");
  assert.equal(h.last().url, `${API}/2023-01/credentials/shopify`);
  assert.equal(shopify.data.name, "shopify");
  assert.equal(shopify.data.isOauth, true);
  assert.deepEqual(
    shopify.data.properties.map((p) => p.name),
    ["shopSubdomain"],
  );
  const woo = await alloy.getCredential("wooCommerce");
  assert.equal(woo.data.isOauth, false);
  assert.deepEqual(
    woo.data.properties.map((p) => p.name),
    ["consumerKey", "consumerSecret", "url"],
  );
  assert.match(await h.thrown(() => alloy.getCredential("noSuchApp")), /noSuchApp/);
  assert.equal(h.last().status, 400);
});

test("getUserOauthRedirect links to the emulator's consent page, which stores a credential", async () => {
  const { alloy, userId } = await c.identified("oauth");
  const request = { credentialName: "shopify", integrationId: c.SHOPIFY, shopSubdomain: "my-shoe-store" };
  const answer = await alloy.getUserOauthRedirect(request);
  assert.equal(h.last().url, `${API}/2023-01/users/${userId}/credentials/shopify`);
  assert.deepEqual(h.last().params, request); // the SDK sends its whole argument as the query
  assert.deepEqual(Object.keys(answer).sort(), ["oauthUrl", "redirectUrl"]);
  assert.equal(answer.redirectUrl, answer.oauthUrl);
  const link = new URL(answer.oauthUrl);
  assert.equal(`${link.origin}${link.pathname}`, `${h.LINK_ORIGIN}/oauth/shopify/authorize`);
  assert.equal(link.searchParams.get("integrationId"), c.SHOPIFY);
  assert.equal(link.searchParams.get("shopSubdomain"), "my-shoe-store");
  assert.equal(h.claims(link.searchParams.get("token")).userId, userId);

  const credentialId = await c.approveOauth(answer.oauthUrl);
  const stored = await h.api("GET", `/2023-12/users/${userId}/credentials`);
  assert.deepEqual(
    stored.json.data.map((item) => [item.credentialId, item.type]),
    [[credentialId, "shopify"]],
  );

  // A key-based app has no OAuth flow.
  assert.match(await h.thrown(() => alloy.getUserOauthRedirect({ credentialName: "klaviyo" })), /klaviyo/);
  assert.equal(h.last().status, 400);
});

test("generateLink returns an install link with a token of the identified user", async () => {
  const { alloy, userId } = await c.identified("link");
  const { url } = await alloy.generateLink(c.SHOPIFY);
  assert.equal(h.last().url, `${API}/2023-01/users/${userId}/integrations/${c.SHOPIFY}/install-url`);
  const link = new URL(url);
  assert.equal(`${link.origin}${link.pathname}`, `${h.LINK_ORIGIN}/embedded-install`);
  assert.equal(link.searchParams.get("integrationId"), c.SHOPIFY);
  assert.equal(link.searchParams.get("forgeMode"), "engaged");
  assert.equal(link.searchParams.get("alwaysShowCredentials"), "true");
  assert.equal(h.claims(link.searchParams.get("token")).userId, userId);
  assert.equal(await h.thrown(() => alloy.generateLink("NoSuchIntegration")), "Integration not found");
  assert.equal(h.last().status, 404);
});
