// State "not_partner": the event belongs to someone else's conversation.

import { h } from "./dom.js";
import { t } from "./i18n.js";

export function renderNotPartner(app) {
  const series = app.ctx.series;
  const text = series
    ? t("Only %(employee)s and %(manager)s see the agenda and the record of their conversations.", {
      employee: series.employee.name || series.employee.email,
      manager: series.manager.name || series.manager.email })
    : t("Only the two conversation partners see its agenda and record.");
  return [
    h("h1", { text: t("This conversation is private"), tabindex: "-1" }),
    h("p", { text: t("This event is part of a series of good conversations between two other people.") }),
    h("p", { text }),
  ];
}
