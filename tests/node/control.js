"use strict";
// Setup that goes around the SDKs, straight to the emulator: installs through the control API (the 2023-era APIs
// have no install endpoint), the seed catalogue's ids, and completing an OAuth link without a browser; and a fresh
// user on an identified alloy-node client.

const assert = require("node:assert/strict");
const http = require("node:http");
const fs = require("node:fs");
const path = require("node:path");

const h = require("./harness"); // before alloy-node, so that its hooks are in place
const Alloy = require("alloy-node");

// Seeded catalogue entries the tests lean on (fixtures/integrations.json).
const SHOPIFY = "64108c73d3e467ca351b6de3";
const SYNC_CUSTOMERS = "64108e3c3cac1228833b4944"; // Shopify, "Sync New Customers to Shopify", 2 versions
const CREATE_ORDER = "64183841f9ec255fa6b603e2"; // Shopify, "Create Shopify Order", 3 versions
const ORDER_VALUES = { locationId: "Main Warehouse" }; // its one required field
const HUBSPOT_CONTACT = "642ad3b871c5a7804f81c514";
const NOT_INSTALLED = "The workflow is not installed for this user";
const SEEDED_APPS = JSON.parse(fs.readFileSync(path.join(__dirname, "..", "..", "fixtures", "apps.json"), "utf8")).apps;

// POST /_mock/installs {user, integration, workflows?, version?, values?, active?}: the installs made.
async function install(user, integration, options = {}) {
  const response = await h.api("POST", "/_mock/installs", {
    key: h.ADMIN_TOKEN,
    body: { user, integration, ...options },
  });
  assert.equal(response.status, 200, response.text);
  return response.json;
}

// GET with no redirect following (the global fetch is the harness's, which only lets vendor hosts through).
function getWithoutRedirect(url) {
  return new Promise((resolve, reject) => {
    http.get(url, (response) => {
      response.resume();
      response.on("end", () => resolve({ status: response.statusCode, location: response.headers.location }));
    }).on("error", reject);
  });
}

// Accept an OAuth link the way a test does without a browser (approve=true): the new credential's id.
async function approveOauth(given) {
  const link = h.reachable(given);
  const { status, location } = await getWithoutRedirect(`${link}&approve=true`);
  assert.equal(status, 303);
  const credentialId = new URL(location, link).searchParams.get("credentialId");
  assert.match(credentialId, /^[0-9a-f]{24}$/);
  return credentialId;
}

// A fresh user, identified on a new client (alloy-node takes the user of every later call from identify()).
async function identified(prefix) {
  const alloy = new Alloy(h.DEV_KEY);
  const username = h.unique(prefix);
  const { userId } = await alloy.createUser({ username });
  await alloy.identify(username);
  return { alloy, username, userId };
}

module.exports = {
  CREATE_ORDER,
  HUBSPOT_CONTACT,
  NOT_INSTALLED,
  ORDER_VALUES,
  SEEDED_APPS,
  SHOPIFY,
  SYNC_CUSTOMERS,
  approveOauth,
  identified,
  install,
};
