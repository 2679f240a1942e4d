// Which reminders the person gets by mail (each kind can be turned off) and their quiet days
// (no mail then: it waits for the next day). Read the first time the section is shown.

import { draft } from "./drafts.js";
import { h } from "./dom.js";
import { t } from "./i18n.js";
import { button, checkField, form, weekdayNames } from "./common.js";

const DAYS = ["MO", "TU", "WE", "TH", "FR", "SA", "SU"];

function kindNames() {
  return {
    prepare: t("A week before: prepare the conversation (the employee)"),
    agenda: t("Two working days before: the agenda so far (the manager)"),
    record: t("After the conversation: write the record"),
    accept: t("An agreement waiting for my acceptance"),
    cadence: t("Fewer than four conversations a year, or none planned"),
  };
}

/** The collapsible section, once the settings are read (`app.ui.reminders`). */
export function remindersSection(app) {
  if (app.ui.reminders === undefined && typeof app.loadReminders === "function") {
    app.ui.reminders = null;
    app.loadReminders();
  }
  const current = app.ui.reminders;
  if (!current) return null;
  const names = kindNames();
  const days = weekdayNames();
  const kinds = h("fieldset", {}, h("legend", { text: t("Send me") }),
    current.kinds.map((kind) => checkField({
      label: names[kind] || kind, key: `reminders:kind:${kind}`, checked: !current.off.includes(kind),
    }).wrap));
  const quiet = h("fieldset", {}, h("legend", { text: t("No mail on") }),
    h("div", { class: "days" }, DAYS.map((code, i) => checkField({
      label: days[i], key: `reminders:quiet:${code}`, checked: current.quiet_days.includes(code),
    }).wrap)));
  const save = () => app.saveReminders({
    off: current.kinds.filter((kind) => !draft(`reminders:kind:${kind}`, !current.off.includes(kind))),
    quiet_days: DAYS.filter((code) => draft(`reminders:quiet:${code}`, current.quiet_days.includes(code))),
  });
  const body = form([
    h("p", { class: "meta", text: t("Goed Gesprek mails these from your own mailbox to you, in your language.") }),
    kinds,
    quiet,
    h("div", { class: "actions" }, button(t("Save my reminders"), null, { type: "submit", key: "reminders:save" })),
  ], save, { label: t("Reminders by mail") });
  return h("details", { class: "card reminders", key: "reminders", open: app.ui.remindersOpen || null,
    ontoggle: (event) => { app.ui.remindersOpen = event.target.open; } },
  h("summary", { text: t("Reminders by mail") }), body);
}
