// A payload filter builder: rows of clause / key / operator / value that make a
// ruvector.v1.Filter (match keyword, integer or boolean; range; exists; must or must_not).
import { button } from "./common.js";

const OPERATORS = [
  ["keyword", "= text"], ["integer", "= integer"], ["boolean", "= true/false"],
  ["gt", ">"], ["gte", "≥"], ["lt", "<"], ["lte", "≤"], ["exists", "exists"],
];

let rowCount = 0;

/** A <label> for `control`, read by screen readers, hidden on screen where the row is obvious. */
function label(text, control) {
  const element = document.createElement("label");
  element.htmlFor = control.id;
  element.textContent = text;
  element.className = "visually-hidden";
  return element;
}

function select(id, options) {
  const element = document.createElement("select");
  element.id = id;
  for (const [value, text] of options) {
    const option = document.createElement("option");
    option.value = value;
    option.textContent = text;
    element.append(option);
  }
  return element;
}

/** Adds one condition row to `container` (a <div>); `values` pre-fills it (tests, history). */
export function addConditionRow(container, { clause = "must", key = "", operator = "keyword", value = "" } = {}) {
  rowCount += 1;
  const n = rowCount;
  const row = document.createElement("div");
  row.className = "condition";
  const clauseSelect = select(`cond-${n}-clause`, [["must", "must"], ["must_not", "must not"]]);
  clauseSelect.value = clause;
  const keyInput = document.createElement("input");
  keyInput.id = `cond-${n}-key`;
  keyInput.placeholder = "payload key, e.g. lang or meta.year";
  keyInput.value = key;
  const operatorSelect = select(`cond-${n}-operator`, OPERATORS);
  operatorSelect.value = operator;
  const valueInput = document.createElement("input");
  valueInput.id = `cond-${n}-value`;
  valueInput.placeholder = "value";
  valueInput.value = value;
  operatorSelect.addEventListener("change", () => { valueInput.disabled = operatorSelect.value === "exists"; });
  valueInput.disabled = operator === "exists";
  row.append(label(`Condition ${n}: clause`, clauseSelect), clauseSelect,
             label(`Condition ${n}: payload key`, keyInput), keyInput,
             label(`Condition ${n}: operator`, operatorSelect), operatorSelect,
             label(`Condition ${n}: value`, valueInput), valueInput,
             button("Remove", () => row.remove(), `Remove condition ${n}`));
  container.append(row);
  return row;
}

/** One row as a ruvector.v1.Condition; throws with a message naming the row when it is wrong. */
function condition(row, index) {
  const [clause, key, operator, value] = row.querySelectorAll("select, input");
  const name = key.value.trim();
  const text = value.value.trim();
  const where = `condition ${index + 1}`;
  if (!name) throw new Error(`${where}: the payload key is empty`);
  let test;
  switch (operator.value) {
    case "keyword": test = { match: { keyword: text } }; break;
    case "integer":
      if (!/^-?\d{1,19}$/.test(text)) throw new Error(`${where}: '${text}' is not an integer`);
      test = { match: { integer: text } };  // a string: int64 beyond 2^53 stays exact
      break;
    case "boolean":
      if (text !== "true" && text !== "false") throw new Error(`${where}: type true or false`);
      test = { match: { boolean: text === "true" } };
      break;
    case "exists": test = { exists: true }; break;
    default: {
      const number = Number(text);
      if (text === "" || !Number.isFinite(number)) throw new Error(`${where}: '${text}' is not a number`);
      test = { range: { [operator.value]: number } };
    }
  }
  return [clause.value, { field: { key: name, ...test } }];
}

/** The rows of `container` as a ruvector.v1.Filter, or undefined when there are none. A row
 * left blank (no key, no value) is skipped: an extra "Add condition" is not an error. */
export function buildFilter(container) {
  const rows = [...container.querySelectorAll(".condition")]
    .filter((row) => [...row.querySelectorAll("input")].some((input) => input.value.trim()));
  if (!rows.length) return undefined;
  const filter = { must: [], must_not: [] };
  rows.forEach((row, index) => {
    const [clause, built] = condition(row, index);
    filter[clause].push(built);
  });
  return filter;
}
