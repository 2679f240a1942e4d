// The trend of the employee's check-ins: energy and work happiness (1-5) over the last check-ins,
// as an inline SVG with two lines, and the same values as a table for screen readers.
// `trendGeometry` is pure (no DOM), so its numbers are tested on their own.

import { h, uid } from "./dom.js";
import { language, t } from "./i18n.js";

/** The chart's box in SVG units: the drawing scales to the pane's width. */
export const CHART = Object.freeze({ width: 300, height: 130, left: 22, right: 10, top: 10, bottom: 26 });

const LOW = 1;
const HIGH = 5;

function round(n) {
  return Math.round(n * 10) / 10;
}

function clamp(value) {
  const n = Number(value);
  if (!Number.isFinite(n)) return LOW;
  return Math.min(HIGH, Math.max(LOW, n));
}

/**
 * Where the points of `trend` ([{at, energy, happiness}], oldest first) go in a box of `size`:
 * evenly spaced from left to right (one point sits in the middle), 5 at the top and 1 at the
 * bottom. Returns each line's points ({x, y, value, at}) and SVG path, and the grid's rows.
 */
export function trendGeometry(trend, size = CHART) {
  const points = Array.isArray(trend) ? trend : [];
  const innerWidth = size.width - size.left - size.right;
  const innerHeight = size.height - size.top - size.bottom;
  const x = (i) => (points.length === 1
    ? size.left + innerWidth / 2
    : size.left + (innerWidth * i) / (points.length - 1));
  const y = (value) => size.top + (innerHeight * (HIGH - clamp(value))) / (HIGH - LOW);
  const line = (field) => {
    const placed = points.map((p, i) => ({ x: round(x(i)), y: round(y(p[field])), value: p[field], at: p.at }));
    const path = placed.map((p, i) => `${i ? "L" : "M"}${p.x} ${p.y}`).join(" ");
    return { points: placed, path };
  };
  const grid = [];
  for (let value = LOW; value <= HIGH; value += 1) grid.push({ value, y: round(y(value)) });
  return { energy: line("energy"), happiness: line("happiness"), grid, size };
}

const SVG = "http://www.w3.org/2000/svg";

function svg(tag, attrs = {}, ...children) {
  const el = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value !== undefined && value !== null) el.setAttribute(name, String(value));
  }
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

function shortDay(iso) {
  const when = new Date(iso);
  if (Number.isNaN(when.getTime())) return "";
  return new Intl.DateTimeFormat(language(), { day: "numeric", month: "short" }).format(when);
}

function longDay(iso) {
  const when = new Date(iso);
  if (Number.isNaN(when.getTime())) return String(iso);
  return new Intl.DateTimeFormat(language(), { day: "numeric", month: "long", year: "numeric" }).format(when);
}

function marker(kind, p) {
  // A circle for energy, a square for work happiness: the lines differ in more than colour.
  // Drawn after the squares and smaller, so an equal pair shows a dot in a square.
  if (kind === "energy") return svg("circle", { cx: p.x, cy: p.y, r: 3, class: "trend-dot trend-energy" });
  return svg("rect", { x: p.x - 4.5, y: p.y - 4.5, width: 9, height: 9, class: "trend-dot trend-happiness" });
}

/** The chart with its legend and a table of the values; `key` names it for the tests. */
export function trendChart(trend, { key } = {}) {
  const geometry = trendGeometry(trend);
  const { size } = geometry;
  const titleId = uid("trend");
  const rows = geometry.grid.map((row) => svg("g", {},
    svg("line", { x1: size.left, x2: size.width - size.right, y1: row.y, y2: row.y, class: "trend-grid" }),
    row.value % 2 === 1 ? svg("text", { x: size.left - 8, y: row.y + 4, class: "trend-axis", "text-anchor": "end" },
      String(row.value)) : null));
  const first = geometry.energy.points[0];
  const last = geometry.energy.points[geometry.energy.points.length - 1];
  const dates = [];
  if (first) {
    dates.push(svg("text", { x: first.x, y: size.height - 6, class: "trend-axis",
      "text-anchor": trend.length === 1 ? "middle" : "start" }, shortDay(first.at)));
  }
  if (last && last !== first) {
    dates.push(svg("text", { x: last.x, y: size.height - 6, class: "trend-axis", "text-anchor": "end" },
      shortDay(last.at)));
  }
  const drawing = svg("svg", {
    viewBox: `0 0 ${size.width} ${size.height}`, class: "trend-chart", role: "img", "aria-labelledby": titleId,
    focusable: "false",
  },
  svg("title", { id: titleId }, t("Energy and work happiness over the last %(count)s check-ins (1 very low, 5 very high)",
    { count: trend.length })),
  rows,
  svg("path", { d: geometry.energy.path, class: "trend-line trend-energy" }),
  svg("path", { d: geometry.happiness.path, class: "trend-line trend-happiness" }),
  geometry.happiness.points.map((p) => marker("happiness", p)),
  geometry.energy.points.map((p) => marker("energy", p)),
  dates);
  const legend = h("p", { class: "trend-legend", "aria-hidden": "true" },
    h("span", { class: "swatch swatch-energy" }), t("Energy"),
    h("span", { class: "swatch swatch-happiness" }), t("Work happiness"));
  const table = h("table", { class: "visually-hidden" },
    h("caption", { text: t("Check-ins") }),
    h("thead", {}, h("tr", {}, h("th", { scope: "col", text: t("Date") }),
      h("th", { scope: "col", text: t("Energy") }), h("th", { scope: "col", text: t("Work happiness") }))),
    h("tbody", {}, trend.map((p) => h("tr", {}, h("th", { scope: "row", text: longDay(p.at) }),
      h("td", { text: String(p.energy) }), h("td", { text: String(p.happiness) })))));
  return h("figure", { class: "trend", key }, drawing, legend, table);
}
