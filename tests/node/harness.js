"use strict";
// Points the official JavaScript SDKs, unmodified, at alloy-mock. Both SDKs hard-code the vendor's hosts, so the
// rewrite happens at the transport: an axios request interceptor for alloy-node, a wrapped global fetch for
// alloy-frontend. Every request goes over real HTTP to the emulator at $ALLOY_MOCK_URL; a request to any other
// host fails here, so nothing ever reaches the real vendor.

const path = require("node:path");

const VENDOR_HOSTS = ["https://embedded.runalloy.com", "https://eu-embedded.runalloy.com"];
const DEV_KEY = process.env.ALLOY_MOCK_DEV_KEY || "alloy-mock-dev-key";
const PROD_KEY = process.env.ALLOY_MOCK_PROD_KEY || "alloy-mock-prod-key";
const ADMIN_TOKEN = process.env.ALLOY_MOCK_ADMIN_TOKEN || null; // the control API /_mock is open unless set

const BASE_URL = (process.env.ALLOY_MOCK_URL || "").replace(/\/+$/, "");
if (!BASE_URL) {
  throw new Error("ALLOY_MOCK_URL is not set: start `alloy-mock serve` and export its address (http://127.0.0.1:...)");
}

function rewrite(url) {
  for (const host of VENDOR_HOSTS) {
    if (url === host || url.startsWith(`${host}/`)) return BASE_URL + url.slice(host.length);
  }
  throw new Error(`request to an unexpected host (not rewritten to alloy-mock): ${url}`);
}

// What the SDKs sent and got, in order: {sdk, method, url (as the SDK built it), target (rewritten), params (axios
// query params), headers, body, status, contentType}. alloy-node hides the status of a failure and alloy-frontend
// every status, so tests read them here.
const sent = [];
const last = () => sent[sent.length - 1];

// alloy-node does `require("axios")` from its own directory: resolve axios from there, so the interceptors land on
// the very instance the SDK uses even if npm nests a private copy under alloy-node/node_modules.
const alloyNodeDir = path.dirname(require.resolve("alloy-node/package.json"));
const sdkAxios = require(require.resolve("axios", { paths: [alloyNodeDir] }));

// axios 0.21 keeps per-method defaults in buckets until it sends; keep only the headers the SDK set itself.
const BUCKETS = new Set(["common", "delete", "get", "head", "post", "put", "patch", "options"]);
const flatHeaders = (headers) =>
  Object.fromEntries(Object.entries(headers || {}).filter(([name]) => !BUCKETS.has(name)));

sdkAxios.interceptors.request.use((config) => {
  const target = rewrite(config.url);
  sent.push({
    sdk: "alloy-node",
    method: config.method.toUpperCase(),
    url: config.url,
    target,
    params: config.params,
    headers: flatHeaders(config.headers),
    body: config.data,
  });
  // proxy: false, so that http(s)_proxy in the environment cannot capture requests meant for the local emulator.
  return { ...config, url: target, proxy: false, alloyMockSent: sent.length - 1 };
});

function recordResponse(response) {
  const entry = response && sent[response.config.alloyMockSent];
  if (entry) Object.assign(entry, { status: response.status, contentType: response.headers["content-type"] });
}

sdkAxios.interceptors.response.use(
  (response) => {
    recordResponse(response);
    return response;
  },
  (error) => {
    recordResponse(error.response);
    return Promise.reject(error);
  },
);

const originalFetch = globalThis.fetch;
globalThis.fetch = async (input, init = {}) => {
  const url = typeof input === "string" ? input : input instanceof URL ? input.href : input.url;
  const target = rewrite(url);
  const entry = {
    sdk: "fetch",
    method: (init.method || "GET").toUpperCase(),
    url,
    target,
    headers: { ...(init.headers || {}) },
    body: init.body,
  };
  sent.push(entry);
  const response = await originalFetch(target, init);
  Object.assign(entry, { status: response.status, contentType: response.headers.get("content-type") });
  return response;
};

// Direct calls to the emulator (not through an SDK), for setup: the unwrapped fetch and the dev key by default.
async function api(method, apiPath, { body, key = DEV_KEY, headers = {} } = {}) {
  const response = await originalFetch(BASE_URL + apiPath, {
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

module.exports = { ADMIN_TOKEN, BASE_URL, DEV_KEY, PROD_KEY, api, claims, last, sent, thrown, unique };
