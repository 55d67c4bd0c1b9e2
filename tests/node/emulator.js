"use strict";
// The emulator under test, for the JavaScript SDK tests: its address ($ALLOY_MOCK_URL), keys, direct calls (not
// through an SDK) and small helpers. Loading it changes nothing in the process: harness.js adds the transport
// hooks, and alloy-node-proxy.test.js goes without them.

const DEV_KEY = process.env.ALLOY_MOCK_DEV_KEY || "alloy-mock-dev-key";
const PROD_KEY = process.env.ALLOY_MOCK_PROD_KEY || "alloy-mock-prod-key";
const ADMIN_TOKEN = process.env.ALLOY_MOCK_ADMIN_TOKEN || null; // the control API /_mock is open unless set

const BASE_URL = (process.env.ALLOY_MOCK_URL || "").replace(/\/+$/, "");
if (!BASE_URL) {
  throw new Error("ALLOY_MOCK_URL is not set: start `alloy-mock serve` and export its address (http://127.0.0.1:...)");
}

const fetch = globalThis.fetch; // taken before harness.js wraps it

// Direct calls to the emulator, for setup and checks: the dev key by default.
async function api(method, apiPath, { body, key = DEV_KEY, headers = {} } = {}) {
  const response = await fetch(BASE_URL + apiPath, {
    method,
    headers: {
      ...(key ? { Authorization: `Bearer ${key}` } : {}),
      ...(body === undefined ? {} : { "Content-Type": "application/json" }),
      ...headers,
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  let json;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: response.status, contentType: response.headers.get("content-type"), json, text };
}

let counter = 0;
function unique(prefix) {
  counter += 1;
  return `${prefix}-${process.pid}-${Date.now().toString(36)}-${counter}@example.com`;
}

// The JWT payload, decoded without verification (the emulator's own tests check signatures).
function claims(token) {
  return JSON.parse(Buffer.from(token.split(".")[1], "base64url").toString("utf8"));
}

// Run `fn` and return what it threw (alloy-node throws bare strings, not Errors); fail if it did not throw.
async function thrown(fn) {
  try {
    await fn();
  } catch (err) {
    return err;
  }
  throw new Error("expected the call to throw, but it returned");
}

module.exports = { ADMIN_TOKEN, BASE_URL, DEV_KEY, PROD_KEY, api, claims, thrown, unique };
