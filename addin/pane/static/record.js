// State "ended": the record (a summary per agenda item, agreements, actions), then acceptance of
// the agreements by both partners, then the export and what the next conversation carries over.

import { h } from "./dom.js";
import { draft } from "./drafts.js";
import { t } from "./i18n.js";
import {
  actionLine, agreementBadge, button, carriedActions, checkField, form, formatDateTime, nameOf,
  namesOf, section, selectField, textField, TEXT_MAX, turnBox,
} from "./common.js";
import { nextDatesSection } from "./agenda.js";
import { remindersSection } from "./reminders.js";
import { offers } from "./offers.js";

function emptyRecord() {
  return { summaries: [], agreements: [], actions: [], final: false };
}

/** Agenda items in the order of their themes. */
function orderedItems(ctx) {
  const agenda = ctx.agenda || { themes: [], items: [] };
  const order = new Map((agenda.themes || []).map((th, i) => [th.key, i]));
  return [...(agenda.items || [])].sort((a, b) =>
    (order.get(a.theme) ?? 99) - (order.get(b.theme) ?? 99));
}

function itemOptions(ctx) {
  return [["", t("Not about one agenda item")], ...orderedItems(ctx).map((it) => [it.id, it.title])];
}

function summariesSection(app, record) {
  const ctx = app.ctx;
  const items = orderedItems(ctx);
  if (!items.length) return section(t("Summary per agenda item"), h("p", { class: "meta", text: t("The agenda had no items.") }));
  const saved = new Map((record.summaries || []).map((s) => [s.item_id, s]));
  if (!offers(ctx, "record.summarise")) {
    return section(t("Summary per agenda item"), h("ul", { class: "items" }, items.map((item) =>
      h("li", {}, h("p", { class: "item-title", text: item.title }),
        h("p", { class: "notes", text: (saved.get(item.id) || { text: "" }).text })))));
  }
  const fields = items.map((item) => {
    const current = saved.get(item.id) || { text: "", finished: false };
    return h("fieldset", { key: `summary:${item.id}` }, h("legend", { text: item.title }),
      textField({ label: t("Summary"), key: `summary:${item.id}:text`, value: current.text, multiline: true,
        maxlength: TEXT_MAX }).wrap,
      checkField({ label: t("Finished: nothing to carry over"), key: `summary:${item.id}:finished`,
        checked: current.finished }).wrap);
  });
  const save = () => {
    const ops = [];
    for (const item of items) {
      const current = saved.get(item.id) || { text: "", finished: false };
      const text = String(draft(`summary:${item.id}:text`, current.text));
      const finished = Boolean(draft(`summary:${item.id}:finished`, current.finished));
      if (text !== current.text || finished !== Boolean(current.finished)) {
        ops.push({ op: "record.summarise", item: item.id, text, finished });
      }
    }
    if (!ops.length) return app.announce(t("Nothing changed."));
    return app.send(ops, { clear: ["summary:*"], done: t("The summaries are saved.") });
  };
  return section(t("Summary per agenda item"), form([...fields, h("div", { class: "actions" },
    button(t("Save the summaries"), null, { primary: true, type: "submit", key: "summary:save" }))],
  save, { label: t("Summary per agenda item") }));
}

function agreementEditForm(app, agreement) {
  const key = `agreement:${agreement.id}:text`;
  const text = textField({ label: t("Agreement"), key, value: agreement.text, multiline: true });
  const save = () => {
    const value = String(draft(key, agreement.text)).trim();
    if (!value) return app.alert(t("Write the agreement first."));
    return app.send([{ op: "record.edit_agreement", agreement: agreement.id, text: value }], {
      clear: [key], done: t("The agreement is saved."), after: () => { app.ui.editing = null; },
    });
  };
  return form([text.wrap, h("div", { class: "actions" },
    button(t("Save"), null, { primary: true, type: "submit", key: `agreement:${agreement.id}:save` }),
    button(t("Cancel"), () => { app.ui.editing = null; app.render(); }, { key: `agreement:${agreement.id}:cancel` }))],
  save, { label: t("Edit agreement") });
}

/** Who declined an agreement back to draft, when and why (the proposer reads it here). */
function declinedLine(ctx, agreement) {
  const declined = agreement.declined;
  if (!declined) return null;
  const when = formatDateTime(declined.at, ctx.series && ctx.series.tz);
  const name = ctx.user && declined.role === ctx.user.role ? t("you") : declined.name;
  const text = declined.reason
    ? t("Declined by %(name)s on %(date)s: “%(reason)s”", { name, date: when, reason: declined.reason })
    : t("Declined by %(name)s on %(date)s, without a reason.", { name, date: when });
  return h("p", { class: "meta declined", text });
}

function agreementRow(app, agreement) {
  const ctx = app.ctx;
  const may = (step) => offers(ctx, `agreement.${agreement.id}.${step}`);
  if (may("edit") && app.ui.editing === `agreement:${agreement.id}`) return h("li", {}, agreementEditForm(app, agreement));
  const parts = [h("p", { class: "item-title", text: agreement.text }), agreementBadge(agreement.state)];
  if ((agreement.accepted_by || []).length) {
    parts.push(h("p", { class: "meta", text: t("Accepted by %(names)s", { names: namesOf(ctx, agreement.accepted_by) }) }));
  }
  if (agreement.state === "proposed" && (agreement.waiting_for || []).length) {
    parts.push(h("p", { class: "meta", text: t("Waiting for %(names)s", { names: namesOf(ctx, agreement.waiting_for) }) }));
  }
  parts.push(declinedLine(ctx, agreement));
  const short = agreement.text.length > 40 ? `${agreement.text.slice(0, 40)}…` : agreement.text;
  const tools = [
    may("edit") && button(t("Edit"), () => { app.ui.editing = `agreement:${agreement.id}`; app.render(`agreement:${agreement.id}:text`); },
      { subtle: true, key: `agreement:${agreement.id}:edit`, about: short }),
    may("remove") && button(t("Remove"), () => app.send([{ op: "record.remove_agreement", agreement: agreement.id }],
      { done: t("The agreement is removed.") }),
    { subtle: true, key: `agreement:${agreement.id}:remove`, about: short }),
    may("propose") && button(t("Propose"), () => app.send([{ op: "record.propose", agreement: agreement.id }],
      { done: t("The agreement is proposed for acceptance.") }),
    { subtle: true, key: `agreement:${agreement.id}:propose`, about: short }),
  ].filter(Boolean);
  if (tools.length) parts.push(h("div", { class: "tools" }, tools));
  return h("li", { key: `agreement:${agreement.id}` }, parts);
}

function agreementsSection(app, record) {
  const ctx = app.ctx;
  const agreements = record.agreements || [];
  const text = textField({ label: t("New agreement"), key: "new-agreement:text", multiline: true });
  const item = selectField({ label: t("About"), key: "new-agreement:item", value: "", options: itemOptions(ctx) });
  const add = () => {
    const value = String(draft("new-agreement:text", "")).trim();
    if (!value) return app.alert(t("Write the agreement first."));
    const op = { op: "record.add_agreement", text: value };
    const about = draft("new-agreement:item", "");
    if (about) op.item = about;
    return app.send([op], { clear: ["new-agreement:*"], done: t("The agreement is added.") });
  };
  const parts = [agreements.length
    ? h("ul", { class: "items" }, agreements.map((a) => agreementRow(app, a)))
    : h("p", { class: "meta", text: t("No agreements yet.") })];
  if (offers(ctx, "record.propose_all")) {
    parts.push(h("div", { class: "actions" }, button(t("Propose all drafts for acceptance"),
      () => app.send([{ op: "record.propose", agreement: "*" }], { done: t("The drafts are proposed for acceptance.") }),
      { key: "agreements:propose-all" })));
  }
  if (offers(ctx, "record.add_agreement")) {
    parts.push(form([text.wrap, item.wrap, h("div", { class: "actions" },
      button(t("Add agreement"), null, { type: "submit", key: "new-agreement:submit" }))], add,
    { label: t("New agreement") }));
  }
  return section(t("Agreements"), parts);
}

function ownerOptions(ctx) {
  return [["employee", nameOf(ctx, "employee")], ["manager", nameOf(ctx, "manager")]];
}

function actionFields(ctx, prefix, action) {
  return [
    textField({ label: t("Action"), key: `${prefix}:description`, value: action.description || "", required: true }).wrap,
    h("div", { class: "row" },
      selectField({ label: t("Who"), key: `${prefix}:owner`, value: action.owner || "employee", options: ownerOptions(ctx) }).wrap,
      textField({ label: t("Due date (optional)"), key: `${prefix}:due`, value: action.due || "", type: "date" }).wrap),
  ];
}

function actionEditForm(app, action) {
  const prefix = `action:${action.id}`;
  const save = () => {
    const description = String(draft(`${prefix}:description`, action.description)).trim();
    if (!description) return app.alert(t("Describe the action first."));
    const due = String(draft(`${prefix}:due`, action.due || ""));
    return app.send([{ op: "record.edit_action", action: action.id, description,
      owner: draft(`${prefix}:owner`, action.owner), due: due || null }], {
      clear: [`${prefix}:*`], done: t("The action is saved."), after: () => { app.ui.editing = null; },
    });
  };
  return form([...actionFields(app.ctx, prefix, action), h("div", { class: "actions" },
    button(t("Save"), null, { primary: true, type: "submit", key: `${prefix}:save` }),
    button(t("Cancel"), () => { app.ui.editing = null; app.render(); }, { key: `${prefix}:cancel` }))],
  save, { label: t("Edit action") });
}

const STATUS_STEPS = { open: "reopen", done: "mark_done", dropped: "drop" };

function actionRow(app, action) {
  const ctx = app.ctx;
  const may = (step) => offers(ctx, `action.${action.id}.${step}`);
  if (may("edit") && app.ui.editing === `action:${action.id}`) return h("li", {}, actionEditForm(app, action));
  const labels = { open: t("Open"), done: t("Done"), dropped: t("Dropped") };
  // The current status, and each status the action may move to now.
  const options = Object.entries(labels)
    .filter(([value]) => value === action.status || may(STATUS_STEPS[value]));
  const status = selectField({ label: t("Status"), key: `action:${action.id}:status:${action.status}`,
    value: action.status, options });
  status.select.addEventListener("change", () => app.send(
    [{ op: "record.set_status", action: action.id, status: status.select.value }],
    { done: t("The action's status is saved.") }));
  return h("li", { key: `action:${action.id}` }, actionLine(ctx, action), options.length > 1 ? status.wrap : null,
    may("edit") ? h("div", { class: "tools" },
      button(t("Edit"), () => { app.ui.editing = `action:${action.id}`; app.render(`action:${action.id}:description`); },
        { subtle: true, key: `action:${action.id}:edit`, about: action.description })) : null);
}

function actionsSection(app, record) {
  const ctx = app.ctx;
  const actions = record.actions || [];
  const add = () => {
    const description = String(draft("new-action:description", "")).trim();
    if (!description) return app.alert(t("Describe the action first."));
    const op = { op: "record.add_action", description, owner: draft("new-action:owner", "employee") };
    const due = String(draft("new-action:due", ""));
    if (due) op.due = due;
    return app.send([op], { clear: ["new-action:*"], done: t("The action is added.") });
  };
  const carried = (ctx.agenda && ctx.agenda.actions) || [];
  return section(t("Actions"), [
    carried.length ? h("h3", { text: t("From earlier conversations") }) : null,
    carried.length ? carriedActions(app) : null,
    carried.length ? h("h3", { text: t("From this conversation") }) : null,
    actions.length
      ? h("ul", { class: "items" }, actions.map((a) => actionRow(app, a)))
      : h("p", { class: "meta", text: t("No actions yet.") }),
    offers(ctx, "record.add_action") ? form([...actionFields(ctx, "new-action", {}), h("div", { class: "actions" },
      button(t("Add action"), null, { type: "submit", key: "new-action:submit" }))], add,
    { label: t("New action") }) : null,
  ]);
}

function declineForm(app, agreement) {
  const key = `decline:${agreement.id}`;
  const reason = textField({ label: t("Why not? (optional)"), key, multiline: true });
  const submit = () => app.send([{ op: "record.decline", agreement: agreement.id,
    reason: String(draft(key, "")).trim() }], {
    clear: [key], done: t("You declined the agreement. Talk about it again together."),
    after: () => { app.ui.declining = null; },
  });
  return form([reason.wrap, h("div", { class: "actions" },
    button(t("Decline"), null, { type: "submit", primary: true, key: `${key}:submit` }),
    button(t("Cancel"), () => { app.ui.declining = null; app.render(); }, { key: `${key}:cancel` }))],
  submit, { label: t("Decline agreement") });
}

function acceptanceSection(app, record) {
  const ctx = app.ctx;
  const proposed = (record.agreements || []).filter((a) => a.state === "proposed");
  const parts = [h("p", { text: t("An agreement is final once both of you accept it. If one of you declines, you talk about it again.") })];
  if (!proposed.length) parts.push(h("p", { class: "meta", text: t("No agreements wait for acceptance.") }));
  const rows = proposed.map((agreement) => {
    const may = (step) => offers(ctx, `agreement.${agreement.id}.${step}`);
    const row = [h("p", { class: "item-title", text: agreement.text }),
      h("p", { class: "meta", text: t("Waiting for %(names)s", { names: namesOf(ctx, agreement.waiting_for) }) })];
    if (may("decline") && app.ui.declining === agreement.id) row.push(declineForm(app, agreement));
    else if (may("accept") || may("decline")) {
      const short = agreement.text.length > 40 ? `${agreement.text.slice(0, 40)}…` : agreement.text;
      row.push(h("div", { class: "tools" },
        may("accept") && button(t("Accept"), () => app.send([{ op: "record.accept", agreement: agreement.id }],
          { done: t("You accepted the agreement.") }),
        { key: `accept:${agreement.id}`, about: short }),
        may("decline") && button(t("Decline…"), () => { app.ui.declining = agreement.id; app.render(`decline:${agreement.id}`); },
          { subtle: true, key: `decline:${agreement.id}:open`, about: short })));
    }
    return h("li", { key: `proposed:${agreement.id}` }, row);
  });
  if (rows.length) parts.push(h("ul", { class: "items" }, rows));
  if (offers(ctx, "record.accept_all")) {
    parts.push(h("div", { class: "actions" }, button(t("Accept all proposed agreements"),
      () => app.send([{ op: "record.accept", agreement: "*" }], { done: t("You accepted all proposed agreements.") }),
      { primary: true, key: "accept:all" })));
  }
  return section(t("Acceptance"), parts, { key: "acceptance" });
}

/** What the next agenda takes along, as the context says (the domain's carry-over decides). */
function carriedOver(record) {
  const carries = record.carries || { items: [], actions: [] };
  return [
    ...carries.items.map((it) => t("Topic: %(title)s", { title: it.title })),
    ...carries.actions.map((a) => t("Action: %(text)s", { text: a.description })),
  ];
}

function finalSection(app, record) {
  const ctx = app.ctx;
  const next = (ctx.next_dates || [])[0];
  const carried = carriedOver(record);
  return section(t("The record is final"), [
    h("p", { text: t("Both of you accepted every agreement. The record is stored, sealed, in the employee's own drive.") }),
    h("div", { class: "actions" },
      button(t("Download as HTML"), () => app.download("html"), { key: "export:html" }),
      button(t("Download as Markdown"), () => app.download("md"), { key: "export:md" })),
    h("h3", { text: t("Next conversation") }),
    h("p", { text: next ? formatDateTime(next, ctx.series && ctx.series.tz) : t("No further dates planned.") }),
    h("p", { text: carried.length ? t("Carried over to its agenda:") : t("Nothing is carried over.") }),
    carried.length ? h("ul", {}, carried.map((line) => h("li", { text: line }))) : null,
  ], { key: "final" });
}

/** The whole "ended" state. */
export function renderEnded(app) {
  const ctx = app.ctx;
  const record = ctx.record || emptyRecord();
  const when = ctx.occurrence ? formatDateTime(ctx.occurrence.start, ctx.series && ctx.series.tz) : "";
  const out = [
    h("h1", { text: t("Record of the conversation on %(date)s", { date: when }), tabindex: "-1" }),
    turnBox(ctx),
  ];
  if (record.final) out.push(finalSection(app, record));
  out.push(summariesSection(app, record), agreementsSection(app, record), actionsSection(app, record),
    acceptanceSection(app, record));
  if (!record.final) out.push(nextDatesSection(ctx));
  out.push(remindersSection(app) || h("div", { key: "reminders-slot" }));
  return out;
}
