// Where the viewer is: the hash route and its query parameters.
export function parseHash() {
  const hash = window.location.hash.replace(/^#\/?/, "") || "map";
  const [path, search = ""] = hash.split("?");
  const [page, ...rest] = path.split("/");
  return { page, arg: rest.length ? decodeURIComponent(rest.join("/")) : null,
           params: Object.fromEntries(new URLSearchParams(search)) };
}

// Change this page's query parameters without drawing it again.
export function setParams(params) {
  const { page, arg } = parseHash();
  const search = new URLSearchParams(Object.entries(params).filter(([, v]) => v !== "" && v != null)).toString();
  const hash = `#/${page}${arg ? "/" + encodeURIComponent(arg) : ""}${search ? "?" + search : ""}`;
  history.replaceState(null, "", window.location.pathname + hash);
}

export function setStatus(text) {
  document.getElementById("status").textContent = text;
}

