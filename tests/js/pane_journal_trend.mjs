// Prints the trend chart's geometry (addin/pane/static/trend.js) for a few check-in series, as
// JSON, for tests/app/test_pane_journal_trend.py to check. The geometry needs no DOM.
//
// Usage: node tests/js/pane_journal_trend.mjs <static dir URL>

const [staticUrl] = process.argv.slice(2);
const { CHART, trendGeometry } = await import(new URL("trend.js", staticUrl));

const at = (day) => `2026-${String(day).padStart(2, "0")}-01T09:00:00+00:00`;
const cases = {
  empty: [],
  one: [{ at: at(3), energy: 3, happiness: 5 }],
  three: [
    { at: at(3), energy: 1, happiness: 5 },
    { at: at(6), energy: 5, happiness: 4 },
    { at: at(9), energy: 3, happiness: 1 },
  ],
  outOfRange: [{ at: at(3), energy: 0, happiness: 9 }, { at: at(6), energy: "x", happiness: 2 }],
};
const small = { width: 100, height: 60, left: 10, right: 10, top: 5, bottom: 15 };
const out = { chart: CHART, cases: {}, small: trendGeometry(cases.three, small) };
for (const [name, trend] of Object.entries(cases)) out.cases[name] = trendGeometry(trend);
console.log(JSON.stringify(out));
