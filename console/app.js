// The console's shell: page switching and the API key; each page lives in its own module.
// Every server call is a gRPC-Web call (grpcweb.js) carrying the API key of this tab, if one
// was entered.
import { $, KEY_STORAGE, showStatus } from "./common.js";
import { refreshCollections, startCollections } from "./collections.js";
import { startPoints } from "./points.js";
import { startSearch } from "./search.js";
import { startCypher } from "./cypher.js";
import { refreshMetrics, startMetrics } from "./metrics.js";
import { refreshLearning, refreshRouting, refreshCluster, startStatusPages } from "./status.js";

/** The pages, in the order of the navigation bar (#name shows section page-name), with what
 * each reads from the server when shown. */
const PAGES = { collections: refreshCollections, points: null, search: null, cypher: null, metrics: refreshMetrics,
                learning: refreshLearning, routing: refreshRouting, cluster: refreshCluster };

// MARK: Pages and the key

function showPage() {
  const page = (location.hash || "#collections").slice(1);
  for (const name of Object.keys(PAGES)) {
    $(`page-${name}`).hidden = name !== page;
    $(`nav-${name}`).toggleAttribute("aria-current", name === page);
    if (name === page) $(`nav-${name}`).setAttribute("aria-current", "page");
  }
  if (Object.hasOwn(PAGES, page)) PAGES[page]?.();
}

function showKeyState() {
  $("key-state").textContent = sessionStorage.getItem(KEY_STORAGE) ? "key set for this tab" : "no key";
}

// MARK: Start

function start() {
  $("key-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const key = $("api-key").value.trim();
    if (key) sessionStorage.setItem(KEY_STORAGE, key); else sessionStorage.removeItem(KEY_STORAGE);
    $("api-key").value = "";
    showKeyState();
    showStatus("", true);
    showPage();
  });
  $("key-forget").addEventListener("click", () => {
    sessionStorage.removeItem(KEY_STORAGE);
    showKeyState();
  });
  startCollections();
  startPoints();
  startSearch();
  startCypher();
  startMetrics();
  startStatusPages();
  window.addEventListener("hashchange", showPage);
  showKeyState();
  showPage();
}

start();
