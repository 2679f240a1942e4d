// Building blocks shared by the pane's views: names, dates, sections and labelled fields.

import { h, uid } from "./dom.js";
import { bindDraft, draft, setDraft } from "./drafts.js";
import { language, t } from "./i18n.js";
import { offers } from "./offers.js";

export const TITLE_MAX = 200;
export const TEXT_MAX = 4000;

/** "employee" / "manager" in the user's language. */
export function roleName(role) {
  if (role === "employee") return t("employee");
  if (role === "manager") return t("manager");
  return "";
}

/** The name of the partner with `role` in this series, or the role's name. */
export function nameOf(ctx, role) {
  const person = ctx && ctx.series ? ctx.series[role] : null;
  return (person && (person.name || person.email)) || roleName(role);
}

/** The partner with `role` as the reader reads it: "you", or their name. */
export function calledOf(ctx, role) {
  return ctx && ctx.user && role === ctx.user.role ? t("you") : nameOf(ctx, role);
}

/** Names of the partners with these roles, as a list in the user's language; the reader is "you". */
export function namesOf(ctx, roles) {
  const names = (roles || []).map((role) => calledOf(ctx, role));
  try {
    return new Intl.ListFormat(language(), { type: "conjunction" }).format(names);
  } catch {
    return names.join(", ");
  }
}

/** The viewer's IANA zone as the browser knows it ("" when it does not say). */
export function viewerZone() {
  try {
    return Intl.DateTimeFormat().resolvedOptions().timeZone || "";
  } catch {
    return "";
  }
}

function formatIn(when, options, tz) {
  try {
    return new Intl.DateTimeFormat(language(), tz ? { ...options, timeZone: tz } : options).format(when);
  } catch {
    return new Intl.DateTimeFormat(language(), options).format(when);
  }
}

/**
 * An instant (ISO 8601 or Date) as weekday, date and time in the viewer's own zone. When the
 * pair's zone (`pairTz`) would show another time, the viewer's zone is named with it.
 */
export function formatDateTime(value, pairTz) {
  if (!value) return "";
  const when = value instanceof Date ? value : new Date(value);
  if (Number.isNaN(when.getTime())) return String(value);
  const options = { weekday: "long", day: "numeric", month: "long", year: "numeric",
    hour: "2-digit", minute: "2-digit" };
  const mine = formatIn(when, options);
  if (!pairTz || formatIn(when, options, pairTz) === mine) return mine;
  return formatIn(when, { ...options, timeZoneName: "long" });
}

/** A calendar date ("2026-12-15") as a date in words. */
export function formatDate(ymd) {
  if (!ymd) return "";
  const when = new Date(`${String(ymd).slice(0, 10)}T12:00:00Z`);
  if (Number.isNaN(when.getTime())) return String(ymd);
  return new Intl.DateTimeFormat(language(), {
    weekday: "short", day: "numeric", month: "long", year: "numeric", timeZone: "UTC",
  }).format(when);
}

/** Weekday names (Monday first) in the user's language, from the browser's locale data. */
export function weekdayNames() {
  const monday = Date.UTC(2024, 0, 1, 12);
  const format = new Intl.DateTimeFormat(language(), { weekday: "long", timeZone: "UTC" });
  return Array.from({ length: 7 }, (_, i) => format.format(new Date(monday + i * 864e5)));
}

/** A titled region: <section aria-labelledby> with an <h2> (or `level`). */
export function section(title, children, { level = 2, cls = "card", key } = {}) {
  const id = uid("h");
  return h(
    "section",
    { class: cls, "aria-labelledby": id, key },
    h(`h${level}`, { id, text: title, tabindex: "-1" }),
    children,
  );
}

/** A text input or textarea with its label, bound to the draft `key`. */
export function textField({ label, key, value = "", multiline = false, type = "text",
  required = false, hint, maxlength, autocomplete = "off" }) {
  const id = uid("f");
  const hintId = hint ? uid("hint") : undefined;
  const input = multiline
    ? h("textarea", { id, key, required, rows: 3, maxlength: maxlength || TEXT_MAX,
      "aria-describedby": hintId })
    : h("input", { id, key, type, required, autocomplete,
      maxlength: type === "text" || type === "email" ? maxlength || TITLE_MAX : undefined,
      "aria-describedby": hintId });
  bindDraft(input, key, value);
  const wrap = h("div", { class: "field" }, h("label", { for: id, text: label }), input,
    hint ? h("p", { id: hintId, class: "hint", text: hint }) : null);
  return { wrap, input };
}

/** A select with its label; `options` are [value, label] pairs. */
export function selectField({ label, key, value = "", options }) {
  const id = uid("f");
  const select = h("select", { id, key },
    options.map(([v, text]) => h("option", { value: v, text })));
  bindDraft(select, key, value);
  return { wrap: h("div", { class: "field" }, h("label", { for: id, text: label }), select), select };
}

/**
 * The lengths a conversation may be planned with, as [minutes, label] options (the Google cards
 * offer the same); `current` is added when the series has another length, so it shows as it is.
 */
export function lengthOptions(current) {
  const labels = { 30: t("30 minutes"), 45: t("45 minutes"), 60: t("1 hour"), 90: t("1.5 hours"), 120: t("2 hours") };
  const minutes = new Set([30, 45, 60, 75, 90, 120]);
  if (Number.isInteger(Number(current)) && Number(current) > 0) minutes.add(Number(current));
  return [...minutes].sort((a, b) => a - b)
    .map((m) => [String(m), labels[m] || t("%(minutes)s minutes", { minutes: m })]);
}

/** A checkbox with its label. */
export function checkField({ label, key, checked = false }) {
  const id = uid("f");
  const input = h("input", { id, key, type: "checkbox" });
  bindDraft(input, key, checked);
  return { wrap: h("div", { class: "check" }, input, h("label", { for: id, text: label })), input };
}

/**
 * A button. `about` names what it acts on (an item's title) for screen readers, after the
 * visible text, so "Edit" in a list of items is "Edit “Energy”" and still starts with "Edit".
 */
export function button(text, onclick, { primary = false, subtle = false, key, about,
  type = "button", disabled = false } = {}) {
  const cls = primary ? "primary" : subtle ? "subtle" : undefined;
  return h("button", { type, class: cls, key, disabled, onclick }, text,
    about ? h("span", { class: "visually-hidden", text: ` “${about}”` }) : null);
}

/** A form whose submit (button or Enter) calls `onsubmit(form)` without reloading. */
export function form(children, onsubmit, { label, key } = {}) {
  return h("form", {
    "aria-label": label, key, novalidate: true,
    onsubmit: (event) => {
      event.preventDefault();
      onsubmit(event.currentTarget);
    },
  }, children);
}

/** A small pill. `tone`: "good", "wait" or none. */
export function badge(text, tone) {
  return h("span", { class: tone ? `badge ${tone}` : "badge", text });
}

/** The document waits on the server: the employee's drive did not answer the last save. */
export function pendingNote(ctx) {
  const employee = (ctx.series && ctx.series.employee && ctx.series.employee.name) || "";
  return h("p", { class: "pending", role: "note", key: "pending",
    text: t("Saved on the server for now: %(name)s's drive did not answer. It goes there by itself as soon as the drive answers again; you can keep working.", { name: employee }) });
}

/** "Whose turn it is" from the context, and the user's own part. */
export function turnBox(ctx) {
  const parts = [];
  if (ctx.user && ctx.user.role) {
    parts.push(h("p", { class: "meta", text: t("You take part as %(role)s.", { role: roleName(ctx.user.role) }) }));
  }
  if (ctx.turn && ctx.turn.message) parts.push(h("p", { class: "turn", text: ctx.turn.message }));
  if (ctx.pending) parts.push(pendingNote(ctx));
  return parts;
}

/** A line for an action: description, owner and due date. */
export function actionLine(ctx, action) {
  const owner = nameOf(ctx, action.owner);
  const meta = action.due
    ? t("%(owner)s, due %(date)s", { owner, date: formatDate(action.due) })
    : t("%(owner)s, no due date", { owner });
  return [h("p", { class: "item-title", text: action.description }), h("p", { class: "meta", text: meta })];
}

/**
 * The actions carried over from earlier conversations (open until done), each with where it was
 * agreed and a button to mark it done; either partner may.
 */
export function carriedActions(app) {
  const ctx = app.ctx;
  const actions = (ctx.agenda && ctx.agenda.actions) || ctx.open_actions || [];
  if (!actions.length) return h("p", { class: "meta", text: t("No open actions.") });
  const tz = ctx.series ? ctx.series.tz : undefined;
  return h("ul", { class: "items" }, actions.map((action) => {
    const row = [...actionLine(ctx, action)];
    if (action.carried_from) {
      row.push(h("p", { class: "meta", text: t("Agreed in the conversation of %(date)s",
        { date: formatDateTime(action.carried_from.occurrence, tz) }) }));
    }
    if (action.status !== "open") {
      const done = action.status === "done";
      row.push(badge(done ? t("Done") : t("Dropped"), done ? "good" : undefined));
    }
    if (offers(ctx, `carried.${action.id}.mark_done`)) {
      row.push(h("div", { class: "tools" }, button(t("Mark done"),
        () => app.send([{ op: "agenda.set_action_status", action: action.id, status: "done" }],
          { done: t("The action is marked done.") }),
        { subtle: true, key: `carried:${action.id}:done`, about: action.description })));
    } else if (offers(ctx, `carried.${action.id}.reopen`)) {
      row.push(h("div", { class: "tools" }, button(t("Reopen"),
        () => app.send([{ op: "agenda.set_action_status", action: action.id, status: "open" }],
          { done: t("The action is open again.") }),
        { subtle: true, key: `carried:${action.id}:reopen`, about: action.description })));
    }
    return h("li", { key: `carried:${action.id}` }, row);
  }));
}

/** The state of an agreement as a badge. */
export function agreementBadge(state) {
  const labels = { draft: t("Draft"), proposed: t("Proposed"), final: t("Final") };
  const tone = state === "final" ? "good" : state === "proposed" ? "wait" : undefined;
  return badge(labels[state] || state, tone);
}

/** A group of radios sharing the draft `key`; `options` are [value, label] pairs. */
export function radioGroup({ legend, key, value, options, onchange, hint }) {
  const name = uid("r");
  const current = draft(key, value);
  const radios = options.map(([v, label]) => {
    const id = uid("f");
    const input = h("input", { id, type: "radio", name, value: v, key: `${key}:${v}` });
    input.checked = v === current;
    input.addEventListener("change", () => {
      if (!input.checked) return;
      setDraft(key, v);
      if (onchange) onchange(v);
    });
    return h("div", { class: "check" }, input, h("label", { for: id, text: label }));
  });
  return h("fieldset", {}, h("legend", { text: legend }), radios,
    hint ? h("p", { class: "hint", text: hint }) : null);
}

/** The pair's choice of what the calendar event shows of the agenda. */
export function eventCopyChoice(key, value, onchange) {
  return radioGroup({
    legend: t("What the event in both calendars shows"),
    key,
    value,
    onchange,
    options: [["full", t("The full text of each agenda item")], ["titles", t("Only the theme titles")]],
    hint: t("Anyone with access to either calendar can see the event. The record is never in the event."),
  });
}
