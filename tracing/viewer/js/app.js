// The viewer's shell: hash routes (#/map, #/traces, #/trace/ID, #/compare, #/why,
// #/functions, #/functions/NAME), each page a module that draws into <main> and returns
// what stops it (polling, long polls) when the page changes.
import { takeTokenFromUrl } from "./api.js";
import { errorBox } from "./dom.js";
import { parseHash } from "./nav.js";

const PAGES = {
  map: () => import("./map.js"),
  traces: () => import("./traces.js"),
  trace: () => import("./trace.js"),
  compare: () => import("./compare.js"),
  why: () => import("./why.js"),
  functions: () => import("./functions.js"),
};

let stop = null;
let generation = 0;

async function route() {
  const mine = ++generation;
  if (stop) { try { stop(); } catch { /* a page's cleanup never blocks the next */ } stop = null; }
  const { page, arg, params } = parseHash();
  for (const link of document.querySelectorAll("nav a")) {
    link.classList.toggle("active", link.dataset.page === (page === "trace" ? "traces" : page));
  }
  const view = document.getElementById("view");
  view.replaceChildren();
  const load = PAGES[page];
  if (!load) { view.append(errorBox(`no page ${page}`)); return; }
  try {
    const module = await load();
    if (mine !== generation) return;
    stop = (await module.render(view, arg, params)) || null;
    if (mine !== generation && stop) { stop(); stop = null; }
  } catch (error) {
    if (mine === generation) view.append(errorBox(error));
  }
}

takeTokenFromUrl();
window.addEventListener("hashchange", route);
route();
