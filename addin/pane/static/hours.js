// The person's own working days, hours and zone: the planner plans within them. Part-time days
// are common; what the directory says (Outlook's working hours) is the starting point.

import { draft } from "./drafts.js";
import { h } from "./dom.js";
import { t } from "./i18n.js";
import { button, checkField, form, section, textField, viewerZone, weekdayNames } from "./common.js";

const DAYS = ["MO", "TU", "WE", "TH", "FR", "SA", "SU"];

/** The section, once the current hours are read (`app.ui.hours`); reads them the first time. */
export function workingHoursSection(app) {
  if (app.ui.hours === undefined) {
    app.ui.hours = null;
    app.loadWorkingHours();
  }
  const answer = app.ui.hours;
  if (!answer) return null;
  const current = answer.working_hours;
  const names = weekdayNames();
  const days = h("fieldset", {}, h("legend", { text: t("Days I work") }),
    h("div", { class: "days" }, DAYS.map((code, i) =>
      checkField({ label: names[i], key: `hours:day:${code}`, checked: current.days.includes(code) }).wrap)));
  const fields = [
    h("p", { class: "meta", text: answer.source === "own"
      ? t("These are the working hours you set.")
      : t("Set the days and hours you work, so conversations are planned within them.") }),
    days,
    h("div", { class: "row" },
      textField({ label: t("Start"), key: "hours:start", value: current.start, type: "time" }).wrap,
      textField({ label: t("End"), key: "hours:end", value: current.end, type: "time" }).wrap),
    textField({ label: t("Time zone"), key: "hours:tz", value: current.tz || viewerZone(),
      hint: t("As Europe/Amsterdam.") }).wrap,
    h("div", { class: "actions" },
      button(t("Save my working hours"), null, { type: "submit", key: "hours:save" })),
  ];
  const save = () => app.saveWorkingHours({
    days: DAYS.filter((code) => draft(`hours:day:${code}`, current.days.includes(code))),
    start: String(draft("hours:start", current.start)),
    end: String(draft("hours:end", current.end)),
    tz: String(draft("hours:tz", current.tz || viewerZone())).trim(),
  });
  return section(t("My working hours"), form(fields, save, { label: t("My working hours") }),
    { key: "hours" });
}
