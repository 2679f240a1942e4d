// State "upcoming": the agenda per theme (the employee owns it, the manager proposes items),
// sharing and agreeing, preparation, the checklist of agreements and the next dates.

import { h } from "./dom.js";
import { draft } from "./drafts.js";
import { t } from "./i18n.js";
import {
  agreementBadge, badge, button, calledOf, carriedActions, checkField, eventCopyChoice, form, formatDateTime,
  lengthOptions, nameOf, namesOf, section, selectField, textField, TEXT_MAX, turnBox,
} from "./common.js";
import { offers } from "./offers.js";
import { remindersSection } from "./reminders.js";

const STATES = () => ({ draft: t("Draft"), shared: t("Shared"), agreed: t("Agreed") });

/** Items grouped by theme, in agenda order; items of an unknown theme come last. */
function groups(agenda) {
  const themes = [...(agenda.themes || [])];
  const known = new Set(themes.map((th) => th.key));
  const strays = (agenda.items || []).filter((it) => !known.has(it.theme));
  const result = themes.map((theme) => ({
    theme,
    items: (agenda.items || []).filter((it) => it.theme === theme.key),
  }));
  if (strays.length) result.push({ theme: { key: "", title: t("Other items"), hint: "", prompts: [] }, items: strays });
  return result;
}

/** The op that moves `item` one place up (-1) or down (+1) within its theme, or null. */
function moveOp(agenda, item, step) {
  const all = agenda.items || [];
  const same = all.filter((it) => it.theme === item.theme);
  const neighbour = same[same.indexOf(item) + step];
  if (!neighbour) return null;
  return { op: "agenda.move_item", item: item.id, index: all.indexOf(neighbour) };
}

function itemMeta(app, item) {
  const ctx = app.ctx;
  const notes = [];
  if (item.proposed_by && item.proposed_by !== "employee") {
    notes.push(t("Proposed by %(name)s", { name: calledOf(ctx, item.proposed_by) }));
  }
  if (item.carried_from) {
    notes.push(item.carried_from.origin === "action"
      ? t("Carried over: an open action from the previous conversation")
      : t("Carried over: not finished in the previous conversation"));
  }
  return notes.length ? h("p", { class: "meta", text: notes.join(" · ") }) : null;
}

function editForm(app, item) {
  const title = textField({ label: t("Title"), key: `item:${item.id}:title`, value: item.title, required: true });
  const notes = textField({ label: t("Notes"), key: `item:${item.id}:notes`, value: item.notes || "",
    multiline: true, maxlength: TEXT_MAX });
  const save = () => {
    const text = String(draft(`item:${item.id}:title`, item.title)).trim();
    if (!text) return app.alert(t("Give the item a title."));
    return app.send([{ op: "agenda.edit_item", item: item.id, title: text,
      notes: String(draft(`item:${item.id}:notes`, item.notes || "")) }], {
      clear: [`item:${item.id}:*`], done: t("The item is saved."), after: () => { app.ui.editing = null; },
    });
  };
  return form([title.wrap, notes.wrap, h("div", { class: "actions" },
    button(t("Save"), null, { primary: true, type: "submit", key: `item:${item.id}:save` }),
    button(t("Cancel"), () => { app.ui.editing = null; app.render(); }, { key: `item:${item.id}:cancel` }))],
  save, { label: t("Edit agenda item") });
}

function itemRow(app, item) {
  const ctx = app.ctx;
  const agenda = ctx.agenda;
  const may = (step) => offers(ctx, `item.${item.id}.${step}`);
  if (may("edit") && app.ui.editing === item.id) return h("li", {}, editForm(app, item));
  const parts = [h("p", { class: "item-title", text: item.title })];
  if (item.notes) parts.push(h("p", { class: "notes", text: item.notes }));
  parts.push(itemMeta(app, item));
  const up = may("move") && moveOp(agenda, item, -1);
  const down = may("move") && moveOp(agenda, item, 1);
  const tools = [
    may("edit") && button(t("Edit"), () => { app.ui.editing = item.id; app.render(`item:${item.id}:title`); },
      { subtle: true, key: `item:${item.id}:edit`, about: item.title }),
    up && button(t("Move up"), () => app.send([up], { done: t("Moved up.") }),
      { subtle: true, key: `item:${item.id}:up`, about: item.title }),
    down && button(t("Move down"), () => app.send([down], { done: t("Moved down.") }),
      { subtle: true, key: `item:${item.id}:down`, about: item.title }),
    may("remove") && button(t("Remove"), () => app.send([{ op: "agenda.remove_item", item: item.id }],
      { done: t("“%(title)s” is removed.", { title: item.title }) }),
    { subtle: true, key: `item:${item.id}:remove`, about: item.title }),
  ].filter(Boolean);
  if (tools.length) parts.push(h("div", { class: "tools" }, tools));
  return h("li", { key: `item:${item.id}` }, parts);
}

function addForm(app, agenda) {
  const adds = offers(app.ctx, "agenda.add_item");
  if (!adds && !offers(app.ctx, "agenda.propose_item")) return null;
  const themes = (agenda.themes || []).map((th) => [th.key, th.title]);
  if (!themes.length) return null;
  const theme = selectField({ label: t("Theme"), key: "new-item:theme", value: themes[0][0], options: themes });
  const title = textField({ label: t("Title"), key: "new-item:title", required: true });
  const notes = textField({ label: t("Notes (optional)"), key: "new-item:notes", multiline: true });
  const submit = () => {
    const text = String(draft("new-item:title", "")).trim();
    if (!text) return app.alert(t("Give the item a title."));
    const op = { op: "agenda.add_item", theme: draft("new-item:theme", themes[0][0]), title: text };
    const extra = String(draft("new-item:notes", "")).trim();
    if (extra) op.notes = extra;
    return app.send([op], {
      clear: ["new-item:title", "new-item:notes"],
      done: adds ? t("The item is on the agenda.") : t("Your item is proposed."),
    });
  };
  const heading = adds ? t("Add an item") : t("Propose an item");
  return section(heading, form([theme.wrap, title.wrap, notes.wrap, h("div", { class: "actions" },
    button(adds ? t("Add to the agenda") : t("Propose"), null,
      { primary: true, type: "submit", key: "new-item:submit" }))], submit, { label: heading }),
  { level: 3, cls: "add" });
}

function agendaSection(app) {
  const ctx = app.ctx;
  const agenda = ctx.agenda || { state: "draft", agreed_by: [], themes: [], items: [] };
  const parts = [h("p", {}, t("Status:"), " ",
    badge(STATES()[agenda.state] || agenda.state, agenda.state === "agreed" ? "good" : undefined))];
  if ((agenda.agreed_by || []).length) {
    parts.push(h("p", { class: "meta", text: t("Agreed by %(names)s", { names: namesOf(ctx, agenda.agreed_by) }) }));
  }
  for (const group of groups(agenda)) {
    const children = [];
    if (group.theme.hint) children.push(h("p", { class: "hint", text: group.theme.hint }));
    if ((group.theme.prompts || []).length) {
      children.push(h("details", { class: "prompts" }, h("summary", { text: t("Questions to think about") }),
        h("ul", {}, group.theme.prompts.map((q) => h("li", { text: q })))));
    }
    children.push(group.items.length
      ? h("ol", { class: "items" }, group.items.map((it) => itemRow(app, it)))
      : h("p", { class: "meta", text: t("No items yet.") }));
    parts.push(section(group.theme.title, children, { level: 3, cls: "theme" }));
  }
  parts.push(addForm(app, agenda));
  const actions = [];
  if (offers(ctx, "agenda.share")) {
    actions.push(button(t("Share the agenda with %(name)s", { name: nameOf(ctx, "manager") }),
      () => app.send([{ op: "agenda.share" }], { done: t("The agenda is shared.") }),
      { primary: true, key: "agenda:share" }));
  }
  if (offers(ctx, "agenda.agree")) {
    actions.push(button(t("I agree with this agenda"),
      () => app.send([{ op: "agenda.agree" }], { done: t("You agreed with the agenda.") }),
      { primary: true, key: "agenda:agree" }));
  }
  if (actions.length) parts.push(h("div", { class: "actions" }, actions));
  return section(t("Agenda"), parts, { key: "agenda" });
}

function composeSection(app) {
  if (!app.compose) return null;
  const agreed = app.ctx.agenda && app.ctx.agenda.state === "agreed";
  return section(t("The event"), [
    h("p", { text: agreed
      ? t("Put the agreed agenda in this event. Your own text in the event stays.")
      : t("Once you both agree with the agenda, you can put it in this event.") }),
    h("div", { class: "actions" }, button(t("Put the agreed agenda in the event"),
      () => app.writeEventCopy(), { key: "event-copy", disabled: !agreed })),
  ]);
}

function preparationSection(app) {
  const ctx = app.ctx;
  const previous = (ctx.previous && ctx.previous.agreements) || [];
  const questions = (ctx.preparation && ctx.preparation.questions) || [];
  return section(t("Preparation"), [
    h("h3", { text: t("Agreements from last time") }),
    previous.length
      ? h("ul", { class: "items" }, previous.map((a) => h("li", {},
        h("p", { class: "item-title", text: a.text }), agreementBadge(a.state))))
      : h("p", { class: "meta", text: t("No agreements from a previous conversation.") }),
    h("h3", { text: t("Open actions") }),
    carriedActions(app),
    h("h3", { text: t("Questions to prepare") }),
    questions.length
      ? h("ul", {}, questions.map((q) => h("li", { text: q.text })))
      : h("p", { class: "meta", text: t("No questions in this template.") }),
  ]);
}

function seriesForm(app) {
  const series = app.ctx.series;
  const place = textField({ label: t("Place"), key: "series:place", value: series.place || "" });
  const duration = selectField({ label: t("Length"), key: "series:duration", value: String(series.duration || 60),
    options: lengthOptions(series.duration) });
  const online = checkField({ label: t("Online"), key: "series:online", checked: Boolean(series.online) });
  const save = () => app.patchSeries({
    place: String(draft("series:place", series.place || "")).trim(),
    duration: Number(draft("series:duration", String(series.duration || 60))),
    online: Boolean(draft("series:online", Boolean(series.online))),
  }, { clear: ["series:*"], done: t("Place and length are saved.") });
  return form([place.wrap, duration.wrap, online.wrap, h("div", { class: "actions" },
    button(t("Save place and length"), null, { type: "submit", key: "series:save" }))],
  save, { label: t("Place and length") });
}

/** Ending the series: a first click asks, the second ends it. */
function endControl(app) {
  if (!app.ui.ending) {
    return h("div", { class: "actions" }, button(t("End this series"), () => {
      app.ui.ending = true;
      app.render("series:end-confirm");
    }, { subtle: true, key: "series:end" }));
  }
  return h("div", { class: "confirm", role: "group", "aria-label": t("End this series") },
    h("p", { text: t("The conversations not yet held are cancelled for both of you. The records stay with the employee.") }),
    h("div", { class: "actions" },
      button(t("Yes, end the series"), () => app.endSeries(), { primary: true, key: "series:end-confirm" }),
      button(t("Keep the series"), () => {
        app.ui.ending = false;
        app.render("series:end");
      }, { key: "series:end-keep" })));
}

function checklistSection(app) {
  const ctx = app.ctx;
  const checklist = (ctx.preparation && ctx.preparation.checklist) || [];
  const parts = [checklist.length
    ? h("details", { class: "checklist" },
      h("summary", { text: t("The points to agree on (%(count)s)", { count: checklist.length }) }),
      h("ul", {}, checklist.map((c) => h("li", { text: c.text }))))
    : null];
  if (ctx.series) {
    if (offers(ctx, "series.change_event_copy")) {
      parts.push(eventCopyChoice(`series:event_copy:${ctx.series.event_copy}`, ctx.series.event_copy,
        (value) => app.patchSeries({ event_copy: value }, { done: t("Saved: what the event shows.") })));
    }
    if (offers(ctx, "series.change_place")) parts.push(seriesForm(app));
    if (offers(ctx, "series.end")) parts.push(endControl(app));
  }
  return section(t("Checklist of agreements"), parts);
}

/** Upcoming dates of the series. */
export function nextDatesSection(ctx, title = t("Next conversations")) {
  const dates = ctx.next_dates || [];
  const tz = ctx.series ? ctx.series.tz : undefined;
  return section(title, dates.length
    ? h("ol", {}, dates.map((iso) => h("li", { text: formatDateTime(iso, tz) })))
    : h("p", { class: "meta", text: t("No further dates planned.") }));
}

/** The whole "upcoming" state. */
export function renderUpcoming(app) {
  const ctx = app.ctx;
  const when = ctx.occurrence ? formatDateTime(ctx.occurrence.start, ctx.series && ctx.series.tz) : "";
  return [
    h("h1", { text: t("Conversation on %(date)s", { date: when }), tabindex: "-1" }),
    turnBox(ctx),
    agendaSection(app),
    composeSection(app),
    preparationSection(app),
    checklistSection(app),
    remindersSection(app) || h("div", { key: "reminders-slot" }),
    nextDatesSection(ctx),
  ];
}
