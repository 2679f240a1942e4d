// The employee's goals: written and proposed by the employee, agreed by both, then progress
// noted and actions linked by either partner. Every button comes from the goal's `can`.

import { h } from "./dom.js";
import { draft } from "./drafts.js";
import { t } from "./i18n.js";
import {
  badge, button, calledOf, form, formatDate, nameOf, namesOf, selectField, textField, TEXT_MAX,
} from "./common.js";
import {
  dayOf, journalCard, journalOf, keyInstant, mayDo, mayJournal, occurrenceKey, sendJournal,
} from "./journal-ops.js";

function kindOptions() {
  return [["development", t("Development goal")], ["results", t("Results goal")]];
}

function kindName(kind) {
  return kind === "results" ? t("Results goal") : t("Development goal");
}

/** The goal's state, or for an agreed goal its status, as a badge. */
export function goalBadge(goal) {
  if (goal.state === "agreed" && goal.status === "achieved") return badge(t("Achieved"), "good");
  if (goal.state === "agreed" && goal.status === "dropped") return badge(t("Dropped"));
  const labels = { draft: t("Draft"), proposed: t("Proposed"), agreed: t("Agreed") };
  const tone = goal.state === "agreed" ? "good" : goal.state === "proposed" ? "wait" : undefined;
  return badge(labels[goal.state] || goal.state, tone);
}

/** Every action a goal may be linked to: where it was first agreed, and its words. */
export function linkableActions(ctx) {
  const here = ctx.occurrence ? ctx.occurrence.key : "";
  const found = new Map();
  const add = (occurrence, id, description) => {
    if (occurrence && id && !found.has(`${occurrence}/${id}`)) found.set(`${occurrence}/${id}`, { occurrence, id, description });
  };
  const carried = [...((ctx.agenda && ctx.agenda.actions) || []), ...(ctx.open_actions || [])];
  for (const action of carried) {
    const from = action.carried_from;
    if (from && from.origin === "action" && from.id) add(occurrenceKey(from.occurrence), from.id, action.description);
    else add(here, action.id, action.description);
  }
  for (const action of (ctx.record && ctx.record.actions) || []) add(here, action.id, action.description);
  return [...found.values()];
}

function linkedLine(ctx, link) {
  const known = linkableActions(ctx).find((a) => a.occurrence === link.occurrence && a.id === link.id);
  if (known) return known.description;
  return t("An action from the conversation of %(date)s", { date: dayOf(keyInstant(link.occurrence)) });
}

function goalFields(prefix, goal) {
  return [
    selectField({ label: t("Kind"), key: `${prefix}:kind`, value: goal.kind || "development", options: kindOptions() }).wrap,
    textField({ label: t("Goal"), key: `${prefix}:title`, value: goal.title || "", required: true }).wrap,
    textField({ label: t("Why this goal"), key: `${prefix}:why`, value: goal.why || "", multiline: true, maxlength: 2000 }).wrap,
    textField({ label: t("Horizon (optional)"), key: `${prefix}:horizon`, value: goal.horizon || "", type: "date",
      hint: t("By when you want to have reached it.") }).wrap,
  ];
}

function addForm(app) {
  const ctx = app.ctx;
  const prefix = "journal:goal-new";
  const submit = () => {
    const title = String(draft(`${prefix}:title`, "")).trim();
    if (!title) return app.alert(t("Give the goal a title."));
    const horizon = String(draft(`${prefix}:horizon`, "")) || null;
    return sendJournal(app, [{ op: "goal.add", kind: draft(`${prefix}:kind`, "development"), title,
      why: String(draft(`${prefix}:why`, "")).trim(), horizon }], {
      clear: [`${prefix}:*`],
      after: () => { app.ui.goalAdding = false; },
      focus: (next) => {
        const added = (journalOf(next).goals || []).at(-1);
        return added ? `journal:goal:${added.id}:title` : "journal:goals:summary";
      },
      done: t("The goal is saved as a draft. Propose it to %(name)s once it is ready.", { name: nameOf(ctx, "manager") }),
    });
  };
  return h("details", { class: "add-goal", open: app.ui.goalAdding || null,
    ontoggle: (event) => { app.ui.goalAdding = event.target.open; } },
  h("summary", { key: "journal:goal-new:open", text: t("Add a goal") }),
  form([...goalFields(prefix, {}), h("div", { class: "actions" },
    button(t("Add goal"), null, { primary: true, type: "submit", key: `${prefix}:submit` }))],
  submit, { label: t("Add a goal") }));
}

function editForm(app, goal) {
  const prefix = `journal:goal:${goal.id}:form`;
  const close = () => { app.ui.goalForm = null; };
  const save = () => {
    const title = String(draft(`${prefix}:title`, goal.title)).trim();
    if (!title) return app.alert(t("Give the goal a title."));
    const op = { op: "goal.edit", goal: goal.id };
    const kind = draft(`${prefix}:kind`, goal.kind);
    const why = String(draft(`${prefix}:why`, goal.why || "")).trim();
    const horizon = String(draft(`${prefix}:horizon`, goal.horizon || "")) || null;
    if (kind !== goal.kind) op.kind = kind;
    if (title !== goal.title) op.title = title;
    if (why !== (goal.why || "")) op.why = why;
    if (horizon !== (goal.horizon || null)) op.horizon = horizon;
    if (Object.keys(op).length === 2) {
      close();
      app.render(`journal:goal:${goal.id}:edit`);
      return app.announce(t("Nothing changed."));
    }
    return sendJournal(app, [op], { clear: [`${prefix}:*`], after: close, focus: `journal:goal:${goal.id}:edit`,
      done: goal.state === "draft" ? t("The goal is saved.")
        : t("The goal is saved. It changed, so both of you accept it again.") });
  };
  return form([...goalFields(prefix, goal), h("div", { class: "actions" },
    button(t("Save"), null, { primary: true, type: "submit", key: `${prefix}:save` }),
    button(t("Cancel"), () => { close(); app.render(`journal:goal:${goal.id}:edit`); }, { key: `${prefix}:cancel` }))],
  save, { label: t("Edit goal") });
}

function noteForm(app, goal, { label, field, op, done, opener }) {
  const key = `journal:goal:${goal.id}:${field}`;
  const close = () => { app.ui.goalForm = null; };
  const submit = () => {
    const text = String(draft(key, "")).trim();
    if (!text && field === "note") return app.alert(t("Write the progress first."));
    return sendJournal(app, [{ op, goal: goal.id, [field]: text }],
      { clear: [key], after: close, done, focus: `journal:goal:${goal.id}:title` });
  };
  return form([textField({ label, key, multiline: true, maxlength: 2000 }).wrap, h("div", { class: "actions" },
    button(field === "reason" ? t("Decline") : t("Save"), null, { primary: true, type: "submit", key: `${key}:submit` }),
    button(t("Cancel"), () => { close(); app.render(`journal:goal:${goal.id}:${opener}`); }, { key: `${key}:cancel` }))],
  submit, { label });
}

function linkForm(app, goal) {
  const ctx = app.ctx;
  const linked = new Set((goal.actions || []).map((a) => `${a.occurrence}/${a.id}`));
  const choices = linkableActions(ctx).filter((a) => !linked.has(`${a.occurrence}/${a.id}`));
  const close = () => { app.ui.goalForm = null; };
  const cancel = button(t("Cancel"), () => { close(); app.render(`journal:goal:${goal.id}:link`); },
    { key: `journal:goal:${goal.id}:link:cancel` });
  if (!choices.length) {
    return h("div", {}, h("p", { class: "meta", text: t("There is no open action to link. Agree on one in a conversation first.") }),
      h("div", { class: "actions" }, cancel));
  }
  const key = `journal:goal:${goal.id}:link:action`;
  const field = selectField({ label: t("Action"), key, value: `${choices[0].occurrence}/${choices[0].id}`,
    options: choices.map((a) => [`${a.occurrence}/${a.id}`, a.description]) });
  const submit = () => {
    const [occurrence, id] = String(draft(key, `${choices[0].occurrence}/${choices[0].id}`)).split("/");
    return sendJournal(app, [{ op: "goal.link", goal: goal.id, occurrence, action: id }],
      { clear: [key], after: close, done: t("The action is linked to the goal."), focus: `journal:goal:${goal.id}:title` });
  };
  return form([field.wrap, h("div", { class: "actions" },
    button(t("Link"), null, { primary: true, type: "submit", key: `journal:goal:${goal.id}:link:submit` }), cancel)],
  submit, { label: t("Link an action") });
}

function openForm(app, goal, kind) {
  app.ui.goalForm = { goal: goal.id, kind };
  const first = { edit: "form:title", decline: "reason", progress: "note", link: "link:action" }[kind];
  app.render(`journal:goal:${goal.id}:${first}`);
}

function tools(app, goal) {
  const ctx = app.ctx;
  const may = (step) => mayDo(goal, step);
  const key = (step) => `journal:goal:${goal.id}:${step}`;
  const send = (op, done) => () => sendJournal(app, [{ ...op, goal: goal.id }], { done, focus: `journal:goal:${goal.id}:title` });
  const about = goal.title;
  return [
    may("propose") && button(t("Propose to %(name)s", { name: nameOf(ctx, "manager") }),
      send({ op: "goal.propose" }, t("The goal is proposed.")), { key: key("propose"), about }),
    may("accept") && button(t("Accept"), send({ op: "goal.accept" }, t("You accepted the goal.")), { key: key("accept"), about }),
    may("decline") && button(t("Decline…"), () => openForm(app, goal, "decline"), { subtle: true, key: key("decline"), about }),
    may("edit") && button(t("Edit"), () => openForm(app, goal, "edit"), { subtle: true, key: key("edit"), about }),
    may("progress") && button(t("Note progress"), () => openForm(app, goal, "progress"), { subtle: true, key: key("progress-open"), about }),
    may("link") && button(t("Link an action"), () => openForm(app, goal, "link"), { subtle: true, key: key("link"), about }),
    may("status") && goal.status === "open" && button(t("Mark achieved"),
      send({ op: "goal.status", status: "achieved" }, t("The goal is marked achieved.")), { subtle: true, key: key("achieved"), about }),
    may("status") && goal.status === "open" && button(t("Drop"),
      send({ op: "goal.status", status: "dropped" }, t("The goal is dropped.")), { subtle: true, key: key("dropped"), about }),
    may("status") && goal.status !== "open" && button(t("Reopen"),
      send({ op: "goal.status", status: "open" }, t("The goal is open again.")), { subtle: true, key: key("reopen"), about }),
    may("remove") && button(t("Remove"), () => sendJournal(app, [{ op: "goal.remove", goal: goal.id }],
      { done: t("“%(title)s” is removed.", { title: goal.title }), focus: "journal:goals:summary" }),
    { subtle: true, key: key("remove"), about }),
  ].filter(Boolean);
}

function goalForm(app, goal) {
  const open = app.ui.goalForm;
  if (!open || open.goal !== goal.id || !mayDo(goal, open.kind)) return null;
  if (open.kind === "edit") return editForm(app, goal);
  if (open.kind === "link") return linkForm(app, goal);
  if (open.kind === "decline") {
    return noteForm(app, goal, { label: t("Why not? (optional)"), field: "reason", op: "goal.decline", opener: "decline",
      done: t("You declined the goal. It goes back to %(name)s as a draft.", { name: nameOf(app.ctx, "employee") }) });
  }
  return noteForm(app, goal, { label: t("Progress"), field: "note", op: "goal.progress", opener: "progress-open",
    done: t("The progress is noted.") });
}

function goalRow(app, goal) {
  const ctx = app.ctx;
  const parts = [
    h("p", { class: "item-title", key: `journal:goal:${goal.id}:title`, tabindex: "-1", text: goal.title }),
    h("p", { class: "badges" }, badge(kindName(goal.kind)), goalBadge(goal)),
  ];
  if (goal.why) parts.push(h("p", { class: "notes", text: goal.why }));
  const meta = [];
  if (goal.horizon) meta.push(t("Horizon: %(date)s", { date: formatDate(goal.horizon) }));
  if (goal.state === "proposed" && (goal.waiting_for || []).length) {
    meta.push(t("Waiting for %(names)s", { names: namesOf(ctx, goal.waiting_for) }));
  }
  if (meta.length) parts.push(h("p", { class: "meta", text: meta.join(" · ") }));
  if (goal.declined) {
    const said = goal.declined.reason
      ? t("%(name)s sent it back on %(date)s: %(reason)s", { name: calledOf(ctx, goal.declined.role), date: dayOf(goal.declined.at), reason: goal.declined.reason })
      : t("%(name)s sent it back on %(date)s.", { name: calledOf(ctx, goal.declined.role), date: dayOf(goal.declined.at) });
    parts.push(h("p", { class: "notice", text: said }));
  }
  if ((goal.progress || []).length) {
    parts.push(h("p", { class: "sub", text: t("Progress") }), h("ul", { class: "notes-list" }, goal.progress.map((p) =>
      h("li", {}, h("span", { class: "meta", text: `${dayOf(p.at)}, ${calledOf(ctx, p.role)}: ` }), p.note))));
  }
  if ((goal.actions || []).length) {
    parts.push(h("p", { class: "sub", text: t("Actions that serve it") }), h("ul", { class: "notes-list" }, goal.actions.map((link) =>
      h("li", {}, linkedLine(ctx, link), mayDo(goal, "link") ? button(t("Unlink"), () => sendJournal(app,
        [{ op: "goal.unlink", goal: goal.id, occurrence: link.occurrence, action: link.id }],
        { done: t("The action is unlinked."), focus: `journal:goal:${goal.id}:title` }), { subtle: true, key: `journal:goal:${goal.id}:unlink:${link.occurrence}:${link.id}`,
        about: linkedLine(ctx, link) }) : null))));
  }
  // An open form takes the place of the buttons (Cancel brings them back).
  const open = goalForm(app, goal);
  const row = open ? [] : tools(app, goal);
  if (row.length) parts.push(h("div", { class: "tools" }, row));
  parts.push(open);
  return h("li", { key: `journal:goal:${goal.id}` }, parts);
}

function body(app) {
  const ctx = app.ctx;
  const journal = journalOf(ctx);
  const goals = journal.goals || [];
  const employee = ctx.user && ctx.user.role === "employee";
  const children = [h("p", { class: "hint", text: employee
    ? t("Your goals: you write and propose them; a goal counts once %(name)s accepts it too. %(name)s does not see a draft.",
      { name: nameOf(ctx, "manager") })
    : t("%(name)s's goals: a goal counts once both of you accept it.", { name: nameOf(ctx, "employee") }) })];
  children.push(goals.length
    ? h("ul", { class: "items" }, goals.map((g) => goalRow(app, g)))
    : h("p", { class: "meta", text: t("No goals yet.") }));
  if (mayJournal(ctx, "goal.add")) children.push(addForm(app));
  return children;
}

/** The card; null when the context has no journal. */
export function goalsCard(app) {
  const journal = journalOf(app.ctx);
  if (!journal) return null;
  const waiting = (journal.goals || []).filter((g) => mayDo(g, "accept")).length;
  return journalCard(app, "goals", t("Goals"), () => body(app), {
    open: waiting > 0,
    note: waiting ? t("%(count)s to accept", { count: waiting }) : undefined,
  });
}
