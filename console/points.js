// The points browser: VectorService.Scroll page by page (the offset each page gives), a filter
// built from rows, and one point's payload and vector.
import { $, VECTOR, rpc, showStatus, describeError, cell, button, showId } from "./common.js";
import { structToJSON } from "./protobuf.js";
import { addConditionRow, buildFilter } from "./filter.js";

// Offsets of the pages seen so far: page i starts after the id pages[i] (undefined for the
// first), so Previous goes back without the server keeping anything.
let pages = [];
let pageIndex = 0;
let nextOffset = undefined;
let query = null;

async function loadPage(index) {
  const body = $("points-table").tBodies[0];
  try {
    const response = await rpc(VECTOR + "Scroll", {
      collection: query.collection, filter: query.filter, offset: pages[index], limit: query.limit,
      with: { with_payload: true },
    });
    pageIndex = index;
    nextOffset = response.next_offset;
    body.replaceChildren();
    for (const point of response.points) {
      const row = body.insertRow();
      const id = showId(point.id);
      cell(row, id);
      cell(row, JSON.stringify(structToJSON(point.payload)), true);
      row.insertCell().append(button("View", () => viewPoint(point.id), `View point ${id}`));
    }
    $("points-next").disabled = !nextOffset;
    $("points-previous").disabled = index === 0;
    $("points-page").textContent = `page ${index + 1}: ${response.points.length} points${nextOffset ? "" : " (last page)"}`;
    showStatus("", true);
  } catch (error) {
    body.replaceChildren();
    $("points-next").disabled = true;
    showStatus(describeError("Scroll", error));
  }
}

async function scroll(event) {
  event.preventDefault();
  try {
    const filter = buildFilter($("points-conditions"));
    $("points-filter-json").value = filter ? JSON.stringify(filter) : "";
    query = { collection: $("points-collection").value.trim(), filter, limit: Number($("points-limit").value) || 0 };
  } catch (error) {
    showStatus(`Filter: ${error.message}`);
    return;
  }
  pages = [undefined];
  $("point-view").hidden = true;
  await loadPage(0);
}

async function viewPoint(id) {
  try {
    const found = await rpc(VECTOR + "Get",
      { collection: query.collection, ids: [id], with: { with_payload: true, with_vectors: true } });
    const point = found.points[0];
    if (!point) throw new Error(`point ${showId(id)} is gone`);
    $("point-view-title").textContent = `Point ${showId(point.id)}`;
    $("point-payload").textContent = JSON.stringify(structToJSON(point.payload), null, 2);
    $("point-vector").textContent = JSON.stringify(point.vector?.values ?? []);
    $("point-view").hidden = false;
  } catch (error) {
    showStatus(describeError("Reading the point", error));
  }
}

/** Opens the search page with this page's collection and the filter the rows make. */
function searchWithFilter() {
  try {
    const filter = buildFilter($("points-conditions"));
    $("search-collection").value = $("points-collection").value.trim();
    $("search-filter").value = filter ? JSON.stringify(filter) : "";
    // The page shows on hashchange; focus then, a hidden field takes none.
    window.addEventListener("hashchange", () => $("search-vector").focus(), { once: true });
    location.hash = "#search";
  } catch (error) {
    showStatus(`Filter: ${error.message}`);
  }
}

export function startPoints() {
  $("points-to-search").addEventListener("click", searchWithFilter);
  $("points-form").addEventListener("submit", scroll);
  $("points-add-condition").addEventListener("click", () => {
    const row = addConditionRow($("points-conditions"));
    row.querySelector("input").focus();
  });
  $("points-next").addEventListener("click", () => {
    if (!nextOffset || !query) return;
    pages[pageIndex + 1] = nextOffset;
    loadPage(pageIndex + 1);
  });
  $("points-previous").addEventListener("click", () => { if (query && pageIndex > 0) loadPage(pageIndex - 1); });
}
