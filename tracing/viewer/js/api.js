// Calls to ripple's API. A token given once as /_ripple/?token=T is kept for this tab
// (sessionStorage) and sent as X-Ripple-Token, the header the endpoint's guard reads.
const KEY = "ripple.token";

export function takeTokenFromUrl() {
  const url = new URL(window.location.href);
  const given = url.searchParams.get("token");
  if (given) {
    sessionStorage.setItem(KEY, given);
    url.searchParams.delete("token");
    history.replaceState(null, "", url.pathname + url.search + url.hash);
  }
}

export class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

function query(params) {
  const pairs = Object.entries(params || {}).filter(([, value]) => value !== undefined && value !== null && value !== "");
  return pairs.length ? "?" + new URLSearchParams(pairs).toString() : "";
}

export async function api(path, params, { signal } = {}) {
  const headers = { Accept: "application/json" };
  const token = sessionStorage.getItem(KEY);
  if (token) headers["X-Ripple-Token"] = token;
  let answer;
  try {
    answer = await fetch("/_ripple/api" + path + query(params), { headers, signal });
  } catch (error) {
    if (error.name === "AbortError") throw error;
    throw new ApiError(0, "the endpoint did not answer: is ripple up?");
  }
  const text = await answer.text();
  let body = null;
  try { body = text ? JSON.parse(text) : null; } catch { body = null; }
  if (!answer.ok) {
    let detail = body && (body.detail || body.message || body.Message);
    if (Array.isArray(detail)) detail = detail.map((item) => item.msg).join("; ");
    if (answer.status === 403) detail = (detail || "access denied") + " Open the page as /_ripple/?token=YOUR_TOKEN.";
    throw new ApiError(answer.status, detail || `${answer.status} ${answer.statusText}`);
  }
  return body;
}
