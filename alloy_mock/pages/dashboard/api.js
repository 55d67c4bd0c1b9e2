// The control API (/_mock) as the dashboard calls it: the admin token from the login field (kept in this tab's
// sessionStorage, never in a URL), JSON answers, and Content-Type: application/json on every write (the control
// API refuses writes without it, so that no other web page can send them).

const TOKEN_KEY = "alloy-mock-admin-token";
const WRITES = new Set(["POST", "PUT", "PATCH", "DELETE"]);

export class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

export function token() {
  return sessionStorage.getItem(TOKEN_KEY);
}

export function setToken(value) {
  sessionStorage.setItem(TOKEN_KEY, value);
}

export function clearToken() {
  sessionStorage.removeItem(TOKEN_KEY);
}

// "/requests", {limit: 200, status: ""} -> "/_mock/requests?limit=200" (empty values left out).
export function url(path, query = {}) {
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(query)) {
    if (value !== undefined && value !== null && value !== "") params.set(name, String(value));
  }
  const text = params.toString();
  return `/_mock${path}${text ? `?${text}` : ""}`;
}

// One call; the parsed JSON answer, or ApiError with the emulator's {"message"}. A 401 also tells the page
// (the "alloy-mock:unauthorized" event), which then hides every piece of data and asks for the token.
export async function call(method, path, { query, body } = {}) {
  const headers = { Accept: "application/json" };
  const saved = token();
  if (saved) headers.Authorization = `Bearer ${saved}`;
  const init = { method, headers, cache: "no-store", credentials: "omit" };
  if (WRITES.has(method)) {
    headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body ?? {});
  }
  let response;
  try {
    response = await fetch(url(path, query), init);
  } catch (failure) {
    throw new ApiError(0, `The emulator did not answer (${failure.message}): is it still running?`);
  }
  const text = await response.text();
  let answer = null;
  try {
    answer = text ? JSON.parse(text) : null;
  } catch {
    answer = { message: text };
  }
  if (response.status === 401) window.dispatchEvent(new CustomEvent("alloy-mock:unauthorized"));
  if (!response.ok) {
    const message = answer && typeof answer.message === "string" ? answer.message : `HTTP ${response.status}`;
    throw new ApiError(response.status, message);
  }
  return answer;
}

export const get = (path, query) => call("GET", path, { query });
export const post = (path, body) => call("POST", path, { body });
export const del = (path, query) => call("DELETE", path, { query });

// The namespaces to offer in a select: GET /_mock/namespaces, or the default account's two if the emulator
// has no such endpoint.
export async function namespaces() {
  try {
    return (await get("/namespaces")).data;
  } catch (failure) {
    if (failure.status !== 404) throw failure;
    return [
      { namespace: "default.dev", account: "default", environment: "dev" },
      { namespace: "default.prod", account: "default", environment: "prod" },
    ];
  }
}
