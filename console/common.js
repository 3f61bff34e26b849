// What every page shares: the element lookup, calls carrying this tab's key, the status line,
// table cells filled as text, byte sizes and point ids.
import { call, unary, GrpcError } from "./grpcweb.js";

export const VECTOR = "/ruvector.v1.VectorService/";
export const GRAPH = "/ruvector.v1.GraphService/";
export const LEARN = "/ruvector.v1.LearnService/";
export const ROUTE = "/ruvector.v1.RouteService/";
export const CLUSTER = "/ruvector.v1.ClusterService/";
// sessionStorage: the key lives as long as this tab, never on disk beyond the browser session.
export const KEY_STORAGE = "ruvector.apiKey";

export const $ = (id) => document.getElementById(id);

/** The headers that carry this tab's key, if one was entered. */
export function metadata() {
  const key = sessionStorage.getItem(KEY_STORAGE);
  return key ? { authorization: `Bearer ${key}` } : {};
}

/** A unary call with this tab's key. */
export function rpc(method, request) {
  return unary(method, request, { metadata: metadata() });
}

/** A server-streaming call with this tab's key. */
export function stream(method, request, options) {
  return call(method, request, { ...options, metadata: metadata() });
}

export function showStatus(text, ok = false) {
  const status = $("status");
  status.className = ok ? "ok" : "";
  status.textContent = text;
}

export function describeError(what, error) {
  const hint = error instanceof GrpcError && error.code === 16 ? " (enter an API key or token above)" : "";
  return `${what} failed: ${error.message}${hint}`;
}

/** Appends a cell holding `content` as text (in a <pre> when `pre`). */
export function cell(row, content, pre = false) {
  const td = row.insertCell();
  if (pre) {
    const block = document.createElement("pre");
    block.textContent = content;
    td.append(block);
  } else {
    td.textContent = content;
  }
  return td;
}

/** Replaces the body rows of table `id` with `rows` (arrays of text). */
export function fillTable(id, rows) {
  const body = $(id).tBodies[0];
  body.replaceChildren();
  for (const values of rows) {
    const row = body.insertRow();
    for (const value of values) cell(row, value);
  }
}

/** An SVG element with `attributes` (set as attributes, never as markup). */
export function svgElement(name, attributes = {}) {
  const node = document.createElementNS("http://www.w3.org/2000/svg", name);
  for (const [key, value] of Object.entries(attributes)) node.setAttribute(key, String(value));
  return node;
}

/** A button whose label is text; `label` names it for screen readers when the text is short. */
export function button(text, onClick, label) {
  const element = document.createElement("button");
  element.type = "button";
  element.textContent = text;
  if (label) element.setAttribute("aria-label", label);
  element.addEventListener("click", onClick);
  return element;
}

export function bytes(count) {
  const n = Number(count ?? 0);
  return n < 1024 ? `${n} B` : n < 1 << 20 ? `${(n / 1024).toFixed(1)} KiB` : `${(n / (1 << 20)).toFixed(1)} MiB`;
}

/** A point id as typed: digits are a number id, anything else a UUID. */
export function pointId(id) {
  return typeof id === "string" && !/^\d+$/.test(id) ? { uuid: id } : { num: id };
}

export function showId(id) {
  return String(id?.num ?? id?.uuid ?? "");
}

/** Parses a form field as JSON, naming the field when it is not valid. */
export function parseJSON(text, what) {
  try { return JSON.parse(text); } catch (error) { throw new Error(`${what} is not valid JSON: ${error.message}`); }
}
