"use strict";
// Points the official JavaScript SDKs, unmodified, at alloy-mock. Both SDKs hard-code the vendor's hosts, so the
// rewrite happens at the transport: an axios request interceptor for alloy-node, a wrapped global fetch for
// alloy-frontend. Every request goes over real HTTP to the emulator at $ALLOY_MOCK_URL; a request to any other
// host fails here, so nothing ever reaches the real vendor.

const path = require("node:path");

const emulator = require("./emulator"); // before the fetch below is wrapped: its direct calls bypass the hooks

const { BASE_URL } = emulator;
const VENDOR_HOSTS = ["https://embedded.runalloy.com", "https://eu-embedded.runalloy.com"];

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

// ALLOY_MOCK_TRANSPORT=proxy: the same tests with alloy-node's requests left as they are, reaching the emulator as
// their HTTPS proxy (how users point alloy-node at it, docs/sdks.md); the interceptor then only records them.
const VIA_PROXY = process.env.ALLOY_MOCK_TRANSPORT === "proxy";
if (VIA_PROXY) {
  process.env.HTTPS_PROXY = BASE_URL;
  for (const name of ["https_proxy", "NO_PROXY", "no_proxy"]) delete process.env[name];
}

sdkAxios.interceptors.request.use((config) => {
  const target = VIA_PROXY ? config.url : rewrite(config.url);
  sent.push({
    sdk: "alloy-node",
    method: config.method.toUpperCase(),
    url: config.url,
    target,
    params: config.params,
    headers: flatHeaders(config.headers),
    body: config.data,
  });
  if (VIA_PROXY) {
    rewrite(config.url); // refuses any host but the vendor's, as in the rewriting mode
    return { ...config, alloyMockSent: sent.length - 1 };
  }
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

// Where the links the emulator hands out point: its own address, or, for a caller that reached it under the vendor's
// host name (through the proxy), the vendor's app host, as the real service answers (README: --public-url).
const LINK_ORIGIN = VIA_PROXY ? "https://app.runalloy.com" : BASE_URL;
// A link as the test itself can open it (the test is not behind the proxy).
const reachable = (link) => (link.startsWith(LINK_ORIGIN) ? BASE_URL + link.slice(LINK_ORIGIN.length) : link);

module.exports = { ...emulator, LINK_ORIGIN, VIA_PROXY, last, reachable, sent };
