// State "not_series": plan a series from this appointment, preview it, then confirm it.

import { draft, setDraft } from "./drafts.js";
import { h, uid } from "./dom.js";
import { t } from "./i18n.js";
import { workingHoursSection } from "./hours.js";
import {
  button, checkField, eventCopyChoice, form, formatDate, formatDateTime, lengthOptions, radioGroup, section, selectField,
  textField, viewerZone, weekdayNames,
} from "./common.js";

const WEEKDAYS = ["MO", "TU", "WE", "TH", "FR"];
const DEFAULT_DAYS = new Set(["TU", "WE", "TH"]);

/** The partner to prefill: the API's guess, else the first attendee who is not the user. */
function partnerGuess(app) {
  const ctx = app.ctx;
  if (ctx.partner && ctx.partner.email) return ctx.partner.email;
  const me = String((ctx.user && ctx.user.email) || "").toLowerCase();
  const people = [...((ctx.event && ctx.event.attendees) || []), ...((app.item && app.item.attendees) || [])];
  if (ctx.event && ctx.event.organizer) people.unshift({ email: ctx.event.organizer });
  const other = people.find((p) => p && p.email && p.email.toLowerCase() !== me);
  return other ? other.email : "";
}

/** The request body from the form's drafts. */
function planBody(app) {
  const weekdays = WEEKDAYS.filter((d) => draft(`plan:day:${d}`, DEFAULT_DAYS.has(d)));
  return {
    event: app.ctx.event.id,
    viewer_tz: viewerZone(),
    partner: String(draft("plan:partner", partnerGuess(app))).trim(),
    role: draft("plan:role", "employee"),
    preferences: {
      weekdays,
      earliest: draft("plan:earliest", "09:30"),
      latest: draft("plan:latest", "12:00"),
      duration: Number(draft("plan:duration", "60")),
      place: String(draft("plan:place", "")).trim(),
      online: Boolean(draft("plan:online", false)),
      every: Number(draft("plan:every", "3")),
    },
    template: draft("plan:template", (app.ctx.templates && app.ctx.templates.default) || "three_themes"),
  };
}

/** The agenda templates to choose from, each with its themes and what it is for. */
function templateChoice(app) {
  const offered = app.ctx.templates;
  if (!offered || (offered.choices || []).length < 2) return null;
  const current = draft("plan:template", offered.default);
  const name = uid("r");
  return h("fieldset", { class: "templates" }, h("legend", { text: t("Agenda template") }),
    offered.choices.map((choice) => {
      const id = uid("f");
      const about = uid("d");
      const input = h("input", { id, type: "radio", name, value: choice.key, key: `plan:template:${choice.key}`,
        "aria-describedby": about });
      input.checked = choice.key === current;
      input.addEventListener("change", () => { if (input.checked) setDraft("plan:template", choice.key); });
      return h("div", { class: "check" }, input,
        h("label", { for: id }, h("strong", { text: choice.title })),
        h("p", { id: about, class: "hint", text: [choice.description, choice.themes.join(" · ")]
          .filter(Boolean).join(" ") }));
    }));
}

/** Send the plan form's body with `send`, unless no weekday is ticked: then say so instead. */
function withWeekdays(app, send) {
  const body = planBody(app);
  if (!body.preferences.weekdays.length) {
    app.alert(t("Choose at least one weekday for the conversations."));
    const first = document.querySelector('[data-key="plan:day:MO"]');
    if (first) first.focus();
    return undefined;
  }
  return send(body);
}

function daysChoice() {
  const names = weekdayNames();
  return h("fieldset", {}, h("legend", { text: t("Days that suit the employee") }),
    h("div", { class: "days" }, WEEKDAYS.map((code, i) =>
      checkField({ label: names[i], key: `plan:day:${code}`, checked: DEFAULT_DAYS.has(code) }).wrap)));
}

function previewSection(app, preview) {
  const items = [h("p", { text: preview.sentence })];
  items.push(h("p", { class: preview.fits ? "badge good" : "badge wait",
    text: preview.fits ? t("Fits both calendars") : t("Does not fit both calendars everywhere") }));
  items.push(h("h3", { text: t("The first conversations") }),
    h("ol", {}, (preview.occurrences || []).map((iso) => h("li", { text: formatDateTime(iso, preview.tz) }))));
  if ((preview.clashes || []).length) {
    items.push(h("h3", { text: t("Clashes") }), h("ul", {}, preview.clashes.map((clash) =>
      h("li", { text: `${clash.date}: ${(clash.reasons || []).join("; ")}` }))));
  }
  items.push(h("div", { class: "actions" },
    button(t("Plan this series"), () => withWeekdays(app, (body) => app.createSeries({ ...body,
      event_copy: draft("plan:event_copy", "full") })), { primary: true, key: "plan:confirm" })));
  return section(t("Preview"), items, { key: "plan:preview" });
}

/** The series the user has with this partner already, shown instead of planning another. */
function renderExisting(existing) {
  const name = (existing.partner && existing.partner.name) || "";
  const tz = existing.series ? existing.series.tz : undefined;
  return [
    h("h1", { text: t("You already have a series with %(name)s", { name }), tabindex: "-1" }),
    h("p", { text: t("Open one of its conversations in your calendar to see its agenda and record.") }),
    section(t("Next conversation"), h("p", { text: existing.next
      ? formatDateTime(existing.next, tz) : t("No further dates planned.") }), { key: "existing" }),
  ];
}

/** Requests for feedback waiting for the reader as someone's colleague; null when none. */
function asksSection(app) {
  const asks = app.ctx.feedback_asks || [];
  if (!asks.length) return null;
  return section(t("Asked for your feedback"), [
    h("p", { class: "hint", text: t("Colleagues ask for your feedback before a conversation with their manager. Your answer goes to them alone.") }),
    h("ul", { class: "items" }, asks.map((ask, n) => h("li", { key: `asks:${n}` },
      h("p", { class: "item-title", text: t("%(name)s asks for your feedback", { name: ask.name }) }),
      h("p", { class: "meta", text: t("%(count)s questions · until %(date)s", { count: ask.questions, date: formatDate(ask.expires) }) }),
      h("a", { href: ask.link, target: "_blank", rel: "noopener noreferrer", class: "button", key: `asks:${n}:answer`,
        text: t("Answer") })))),
  ], { key: "asks" });
}

/** The plan form, and the preview once asked for; the existing series when there is one. */
export function renderPlan(app) {
  const asked = asksSection(app);
  if (app.ctx.existing) return [asked, ...renderExisting(app.ctx.existing)];
  const onChange = () => {
    if (app.ui.preview) {
      app.ui.preview = null;
      const old = document.querySelector('[data-key="plan:preview"]');
      if (old) old.remove();
    }
  };
  const partner = textField({ label: t("Conversation partner (email address)"), key: "plan:partner",
    value: partnerGuess(app), type: "email", required: true, autocomplete: "email" });
  const fields = [
    partner.wrap,
    radioGroup({ legend: t("My role in these conversations"), key: "plan:role", value: "employee",
      options: [["employee", t("I am the employee")], ["manager", t("I am the manager")]] }),
    daysChoice(),
    h("div", { class: "row" },
      textField({ label: t("From"), key: "plan:earliest", value: "09:30", type: "time" }).wrap,
      textField({ label: t("Until"), key: "plan:latest", value: "12:00", type: "time" }).wrap),
    h("div", { class: "row" },
      selectField({ label: t("Length"), key: "plan:duration", value: "60", options: lengthOptions() }).wrap,
      selectField({ label: t("How often"), key: "plan:every", value: "3", options: [
        ["1", t("Every month")], ["2", t("Every 2 months")], ["3", t("Every 3 months")]] }).wrap),
    textField({ label: t("Place"), key: "plan:place", value: "",
      hint: t("The employee proposes where the conversation takes place.") }).wrap,
    checkField({ label: t("Online"), key: "plan:online", checked: false }).wrap,
    eventCopyChoice("plan:event_copy", "full"),
    templateChoice(app),
    h("div", { class: "actions" }, button(t("Preview"), null, { primary: true, type: "submit", key: "plan:preview-button" })),
  ];
  const planForm = form(fields, () => withWeekdays(app, (body) => app.previewSeries(body)),
    { label: t("Plan the series") });
  planForm.addEventListener("input", onChange);
  planForm.addEventListener("change", onChange);
  const intro = h("p", { text: t("This appointment is not part of a series yet. Plan the good conversation with your partner: at least four times a year, at moments that suit the employee.") });
  const out = [h("h1", { text: t("Plan the good conversation"), tabindex: "-1" }), intro];
  if (asked) out.push(asked);
  out.push(section(t("Preferences"), planForm));
  if (app.ui.preview) out.push(previewSection(app, app.ui.preview));
  const hours = workingHoursSection(app);
  if (hours) out.push(hours);
  return out;
}
