// Where the viewer is: the hash route and its query parameters.
export function parseHash() {
  const hash = window.location.hash.replace(/^#\/?/, "") || "map";
  const [path, search = ""] = hash.split("?");
  const [page, ...rest] = path.split("/");
  return { page, arg: rest.length ? decodeURIComponent(rest.join("/")) : null,
           params: Object.fromEntries(new URLSearchParams(search)) };
}

// Change `owner` page's query parameters without drawing it again (nothing when another page
// is showing by now: a late poll must not rewrite the next page's address).
export function setParams(owner, params) {
  const { page, arg } = parseHash();
  if (page !== owner) return;
  const search = new URLSearchParams(Object.entries(params).filter(([, v]) => v !== "" && v != null)).toString();
  const hash = `#/${page}${arg ? "/" + encodeURIComponent(arg) : ""}${search ? "?" + search : ""}`;
  history.replaceState(null, "", window.location.pathname + hash);
}

export function setStatus(text) {
  document.getElementById("status").textContent = text;
}

