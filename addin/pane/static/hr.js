// For the people the organisation names as HR: a way to the cadence report (counts and dates
// only). Asked once per pane (`GET /api/me/hr`); the report opens in a new tab behind a link the
// server signs for this person.

import { h } from "./dom.js";
import { t } from "./i18n.js";
import { button, section } from "./common.js";

/** The section, once the server said the caller is HR (`app.ui.hr`); null otherwise. */
export function hrSection(app) {
  if (app.ui.hr === undefined && typeof app.loadHr === "function") {
    app.ui.hr = null;
    app.loadHr();
  }
  if (app.ui.hr !== true) return null;
  return section(t("For HR"), [
    h("p", { text: t("Whether the conversations in the organisation take place, per team: counts and dates, never what was said.") }),
    h("div", { class: "actions" },
      button(t("Open the cadence report"), () => app.openHrReport(), { key: "hr:report" })),
  ], { key: "hr" });
}
