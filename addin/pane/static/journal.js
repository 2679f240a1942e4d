// The pair's journal in the pane, before and after a conversation: what is worth raising (the
// server's suggestions, each with its reason) and an overview, then goals, energy and work
// happiness, colleagues' feedback, the reflection, time-outs and guests. The domain decides what
// each partner may see and do (`journal.can`, each goal's and request's `can`); this only renders.

import { h, uid } from "./dom.js";
import { draft } from "./drafts.js";
import { t } from "./i18n.js";
import {
  button, calledOf, checkField, form, formatDate, formatDateTime, nameOf, radioGroup, section, textField,
} from "./common.js";
import { checkinCard } from "./checkin.js";
import { feedbackCard } from "./feedback.js";
import { goalBadge, goalsCard } from "./goals.js";
import {
  dayOf, journalCard, journalConflictPanel, journalOf, mayDo, mayJournal, occurrencePath, sendJournal,
} from "./journal-ops.js";
import { trendChart } from "./trend.js";

const REFLECTION_MAX = 8000;

// -- worth raising, and the overview ----------------------------------------------------------

/**
 * Ask the server for this conversation's suggestions and overview, then show them. Asked again
 * for each new context (after any save): what is worth raising follows the agenda and journal.
 */
async function loadOverview(app) {
  const ctx = app.ctx;
  const key = ctx.occurrence.key;
  const before = app.ui.overview && app.ui.overview.key === key ? app.ui.overview.data : null;
  app.ui.overview = { key, ctx, data: before };
  let data;
  try {
    data = await app.api.json("GET", occurrencePath(ctx, "/overview"));
  } catch {
    return; // the pane works without: the rest of the journal is in the context
  }
  if (app.ctx !== ctx) return; // a newer context asked again
  app.ui.overview = { key, ctx, data };
  // Put in place, not rendered anew: whoever is typing elsewhere keeps their place.
  const place = document.querySelector('[data-key="journal:prepare"]');
  if (!place) return;
  const active = document.activeElement;
  const keep = active && place.contains(active) && active.dataset ? active.dataset.key : null;
  const fresh = prepareBlock(app);
  place.replaceWith(fresh);
  const target = keep ? fresh.querySelector(`[data-key="${CSS.escape(keep)}"]`) : null;
  if (target) target.focus();
}

function suggestionsCard(suggestions) {
  if (!suggestions.length) return null;
  return section(t("Worth raising"), h("ul", { class: "items suggestions" }, suggestions.map((s, i) =>
    h("li", { key: `journal:suggestion:${i}` }, h("p", { class: "item-title", text: s.title }),
      h("p", { class: "reason", text: s.reason })))), { key: "journal:suggestions" });
}

function overviewPart(title, content) {
  return content ? [h("h3", { text: title }), content] : [];
}

function overviewBody(app, data) {
  const ctx = app.ctx;
  const tz = ctx.series ? ctx.series.tz : undefined;
  const goals = (data.goals || []).map((goal) => h("li", {},
    h("p", { class: "item-title", text: goal.title }),
    h("p", { class: "badges" }, goalBadge(goal)),
    (goal.progress || []).length
      ? h("ul", { class: "notes-list" }, goal.progress.map((p) => h("li", {},
        h("span", { class: "meta", text: `${dayOf(p.at)}, ${calledOf(ctx, p.role)}: ` }), p.note)))
      : h("p", { class: "meta", text: t("No progress noted yet.") })));
  const actions = (data.open_actions || []).map((a) => h("li", {}, h("p", { class: "item-title", text: a.description }),
    h("p", { class: "meta", text: a.due
      ? t("%(owner)s, due %(date)s", { owner: nameOf(ctx, a.owner), date: formatDate(a.due) })
      : t("%(owner)s, no due date", { owner: nameOf(ctx, a.owner) }) })));
  const agreements = (data.agreements || []).map((a) => h("li", {}, h("p", { class: "item-title", text: a.text }),
    h("p", { class: "meta", text: t("Agreed in the conversation of %(date)s", { date: formatDateTime(a.occurrence, tz) }) })));
  const feedback = (data.feedback || []).map((f) => h("li", {},
    h("p", { class: "item-title", text: f.name }),
    f.answered_at ? h("p", { class: "meta", text: t("Answered on %(date)s", { date: dayOf(f.answered_at) }) }) : null,
    (f.answers || []).length
      ? h("dl", { class: "answers" }, f.questions.map((q, i) => [h("dt", { text: q }),
        h("dd", { class: f.answers[i] ? "notes" : "meta", text: f.answers[i] || t("Not answered.") })]))
      : h("p", { class: "meta", text: t("Not shared with you.") })));
  const trend = data.trend || [];
  const parts = [
    ...overviewPart(t("Goals"), goals.length ? h("ul", { class: "items" }, goals) : null),
    ...overviewPart(t("Open actions"), actions.length ? h("ul", { class: "items" }, actions) : null),
    ...overviewPart(t("Agreements of the past year"), agreements.length ? h("ul", { class: "items" }, agreements) : null),
    ...overviewPart(t("Answered feedback"), feedback.length ? h("ul", { class: "items" }, feedback) : null),
    ...overviewPart(t("Energy and work happiness"), trend.length ? trendChart(trend, { key: "journal:overview:trend" }) : null),
  ];
  if (!parts.length) parts.push(h("p", { class: "meta", text: t("Nothing to look back on yet.") }));
  return parts;
}

/** "Worth raising" and the overview for an upcoming conversation (read once, then on change). */
function prepareBlock(app) {
  const ctx = app.ctx;
  const known = app.ui.overview;
  if (!known || known.ctx !== ctx) loadOverview(app);
  const data = app.ui.overview && app.ui.overview.data;
  return h("div", { key: "journal:prepare" }, data
    ? [suggestionsCard(data.suggestions || []), journalCard(app, "overview", t("Overview"), () => overviewBody(app, data))]
    : null);
}

// -- the reflection -----------------------------------------------------------------------------

function shareToggle(app, reflection) {
  const ctx = app.ctx;
  const id = uid("f");
  const input = h("input", { id, type: "checkbox", key: "journal:reflection:share", disabled: !reflection,
    "aria-describedby": reflection ? undefined : `${id}-hint` });
  input.checked = Boolean(reflection && reflection.shared);
  input.addEventListener("change", () => {
    const shared = input.checked;
    sendJournal(app, [{ op: "reflection.share", shared }], {
      focus: "journal:reflection:share",
      done: shared ? t("Your reflection is shared with %(name)s.", { name: nameOf(ctx, "manager") })
        : t("Your reflection is yours alone again."),
    }).then((done) => { if (!done) input.checked = !shared; });
  });
  return h("div", {}, h("div", { class: "check" }, input,
    h("label", { for: id, text: t("Share with %(name)s", { name: nameOf(ctx, "manager") }) })),
  reflection ? null : h("p", { id: `${id}-hint`, class: "hint", text: t("Save your reflection first; then you can share it.") }));
}

function reflectionBody(app) {
  const ctx = app.ctx;
  const journal = journalOf(ctx);
  const reflection = journal.reflection;
  const manager = nameOf(ctx, "manager");
  if (!mayJournal(ctx, "reflection.write")) {
    return reflection
      ? [h("p", { class: "meta", text: t("Shared by %(name)s on %(date)s.", { name: nameOf(ctx, "employee"), date: dayOf(reflection.at) }) }),
        h("p", { class: "notes", key: "journal:reflection:text", text: reflection.text })]
      : [h("p", { class: "meta", text: t("%(name)s has not shared a reflection for this conversation.", { name: nameOf(ctx, "employee") }) })];
  }
  const prompts = journal.reflection_prompts || [];
  const text = textField({ label: t("Your reflection"), key: "journal:reflection:text", value: reflection ? reflection.text : "",
    multiline: true, maxlength: REFLECTION_MAX });
  text.input.rows = 6;
  const save = () => {
    const value = String(draft("journal:reflection:text", reflection ? reflection.text : ""));
    if (reflection && value === reflection.text) return app.announce(t("Nothing changed."));
    return sendJournal(app, [{ op: "reflection.write", text: value }], {
      clear: ["journal:reflection:text"], focus: "journal:reflection:save", done: t("Your reflection is saved."),
    });
  };
  return [
    h("p", { class: "hint", text: t("Your own look back before the conversation. %(name)s reads it only if you share it.", { name: manager }) }),
    prompts.length ? h("p", { class: "sub", text: t("Questions to guide you") }) : null,
    prompts.length ? h("ul", { class: "prompt-list" }, prompts.map((p) => h("li", { text: p }))) : null,
    form([text.wrap, h("div", { class: "actions" },
      button(t("Save"), null, { primary: true, type: "submit", key: "journal:reflection:save" }))], save,
    { label: t("Reflection") }),
    reflection ? h("p", { class: "meta", text: reflection.shared
      ? t("Saved on %(date)s and shared with %(name)s.", { date: dayOf(reflection.at), name: manager })
      : t("Saved on %(date)s; only you read it.", { date: dayOf(reflection.at) }) }) : null,
    // Shown disabled until there is something to share, so the choice is known beforehand.
    mayJournal(ctx, "reflection.write") ? shareToggle(app, mayJournal(ctx, "reflection.share") ? reflection : null) : null,
  ];
}

function reflectionCard(app) {
  const journal = journalOf(app.ctx);
  const shared = !mayJournal(app.ctx, "reflection.write") && Boolean(journal.reflection);
  return journalCard(app, "reflection", t("Reflection"), () => reflectionBody(app), { open: shared });
}

// -- time-out -----------------------------------------------------------------------------------

function timeoutKind(kind) {
  return kind === "other_partner" ? t("Another conversation partner") : t("A time-out");
}

function timeoutBody(app) {
  const ctx = app.ctx;
  const journal = journalOf(ctx);
  const open = (journal.timeouts || []).filter((x) => x.open);
  const children = [
    h("p", { class: "hint", text: t("Either of you may ask for a time-out in these conversations, or for another conversation partner. The reason is for the two of you only.") }),
    h("p", { class: "notice", text: t("HR is told only that a request was made, never why.") }),
  ];
  if (open.length) {
    children.push(h("ul", { class: "items" }, open.map((asked) => h("li", { key: `journal:timeout:${asked.id}` },
      h("p", { class: "item-title", text: timeoutKind(asked.kind) }),
      h("p", { class: "meta", text: t("Asked by %(name)s on %(date)s", { name: calledOf(ctx, asked.role), date: dayOf(asked.at) }) }),
      asked.reason ? h("p", { class: "notes", text: asked.reason }) : h("p", { class: "meta", text: t("No reason given.") }),
      mayDo(asked, "close") ? h("div", { class: "tools" }, button(t("Close"),
        () => sendJournal(app, [{ op: "timeout.close", timeout: asked.id }],
          { done: t("The request is closed."), focus: "journal:timeout:summary" }),
        { key: `journal:timeout:${asked.id}:close`, about: timeoutKind(asked.kind) })) : null))));
  } else {
    children.push(h("p", { class: "meta", text: t("No open request.") }));
  }
  if (mayJournal(ctx, "timeout.ask")) {
    const prefix = "journal:timeout-new";
    const kind = radioGroup({ legend: t("What do you ask for?"), key: `${prefix}:kind`, value: "time_out",
      options: [["time_out", t("A time-out")], ["other_partner", t("Another conversation partner")]] });
    const reason = textField({ label: t("Why (optional)"), key: `${prefix}:reason`, multiline: true, maxlength: 2000 });
    const submit = () => sendJournal(app, [{ op: "timeout.ask", kind: draft(`${prefix}:kind`, "time_out"),
      reason: String(draft(`${prefix}:reason`, "")).trim() }], {
      clear: [`${prefix}:*`],
      after: () => { app.ui.timeoutAsking = false; },
      focus: "journal:timeout:summary",
      done: t("Your request is noted. %(name)s sees it here.", { name: ctx.partner ? ctx.partner.name : "" }),
    });
    children.push(h("details", { class: "add-goal", open: app.ui.timeoutAsking || null,
      ontoggle: (event) => { app.ui.timeoutAsking = event.target.open; } },
    h("summary", { key: `${prefix}:open`, text: t("Ask for a time-out or another partner") }),
    form([kind, reason.wrap, h("div", { class: "actions" },
      button(t("Ask"), null, { primary: true, type: "submit", key: `${prefix}:submit` }))], submit,
    { label: t("Ask for a time-out or another partner") })));
  }
  return children;
}

function timeoutCard(app) {
  const open = (journalOf(app.ctx).timeouts || []).filter((x) => x.open);
  return journalCard(app, "timeout", t("Time-out"), () => timeoutBody(app), {
    open: open.length > 0,
    note: open.length ? t("%(count)s open", { count: open.length }) : undefined,
  });
}

// -- guests -------------------------------------------------------------------------------------

function guestRow(app, guest) {
  const ctx = app.ctx;
  const parts = [h("p", { class: "item-title", text: guest.name }),
    guest.name !== guest.email ? h("p", { class: "meta", text: guest.email }) : null];
  if (mayDo(guest, "record")) {
    const id = uid("f");
    const input = h("input", { id, type: "checkbox", key: `journal:guest:${guest.email}:record` });
    input.checked = Boolean(guest.record);
    input.addEventListener("change", () => {
      const record = input.checked;
      sendJournal(app, [{ op: "guest.record", email: guest.email, record }], {
        focus: `journal:guest:${guest.email}:record`,
        done: record ? t("%(name)s may read the record.", { name: guest.name })
          : t("%(name)s no longer reads the record.", { name: guest.name }),
      }).then((done) => { if (!done) input.checked = !record; });
    });
    parts.push(h("div", { class: "check" }, input, h("label", { for: id, text: t("May read the record of this conversation") })));
  } else {
    parts.push(h("p", { class: "meta", text: guest.record ? t("May read the record of this conversation.")
      : t("Does not read the record.") }));
  }
  const tools = [];
  if (mayDo(guest, "send_record") && ctx.record) {
    tools.push(button(t("Send the record"), () => sendJournal(app,
      [{ op: "guest.send_record", email: guest.email }],
      { done: t("The record is on its way to %(name)s.", { name: guest.name }), focus: `journal:guest:${guest.email}:send` }),
    { key: `journal:guest:${guest.email}:send`, about: guest.name }));
  }
  if (mayDo(guest, "remove")) {
    tools.push(button(t("Remove"), () => sendJournal(app,
      [{ op: "guest.remove", email: guest.email }],
      { done: t("%(name)s is no longer invited.", { name: guest.name }), focus: "journal:guests:summary" }),
    { subtle: true, key: `journal:guest:${guest.email}:remove`, about: guest.name }));
  }
  if (tools.length) parts.push(h("div", { class: "tools" }, tools));
  return h("li", { key: `journal:guest:${guest.email}` }, parts);
}

function guestsBody(app) {
  const ctx = app.ctx;
  const journal = journalOf(ctx);
  const guests = journal.guests || [];
  const inviting = mayJournal(ctx, "guest.invite");
  const children = [h("p", { class: "hint", text: inviting
    ? t("Bring someone to this conversation: a colleague, someone from HR or a confidant. They are invited to this conversation only, and read its record only if you allow it.")
    : t("Whom %(name)s brings to this conversation.", { name: nameOf(ctx, "employee") }) })];
  children.push(guests.length
    ? h("ul", { class: "items" }, guests.map((g) => guestRow(app, g)))
    : h("p", { class: "meta", text: t("No guest for this conversation.") }));
  if (inviting) {
    const prefix = "journal:guest-new";
    const email = textField({ label: t("Guest's e-mail address"), key: `${prefix}:email`, type: "email", required: true,
      autocomplete: "email" });
    const name = textField({ label: t("Guest's name"), key: `${prefix}:name` });
    const record = checkField({ label: t("May read the record of this conversation"), key: `${prefix}:record` });
    const submit = () => {
      const address = String(draft(`${prefix}:email`, "")).trim();
      if (!address) return app.alert(t("Give the guest's e-mail address."));
      const who = String(draft(`${prefix}:name`, "")).trim();
      return sendJournal(app, [{ op: "guest.invite", email: address, name: who, record: Boolean(draft(`${prefix}:record`, false)) }], {
        clear: [`${prefix}:*`], after: () => { app.ui.guestInviting = false; }, focus: "journal:guests:summary",
        done: t("%(name)s is invited to this conversation.", { name: who || address }),
      });
    };
    children.push(h("details", { class: "add-goal", open: app.ui.guestInviting || null,
      ontoggle: (event) => { app.ui.guestInviting = event.target.open; } },
    h("summary", { key: `${prefix}:open`, text: t("Invite a guest") }),
    form([email.wrap, name.wrap, record.wrap, h("div", { class: "actions" },
      button(t("Invite"), null, { primary: true, type: "submit", key: `${prefix}:submit` }))], submit,
    { label: t("Invite a guest") })));
  }
  return children;
}

function guestsCard(app) {
  const guests = journalOf(app.ctx).guests || [];
  return journalCard(app, "guests", t("A guest at the conversation"), () => guestsBody(app), {
    note: guests.length ? String(guests.length) : undefined, tone: null,
  });
}

// -- the hook -----------------------------------------------------------------------------------

function shown(app) {
  const ctx = app.ctx;
  if (app.erased || app.ended || !ctx || !journalOf(ctx) || !ctx.series || !ctx.occurrence) return false;
  return ctx.state === "upcoming" || ctx.state === "ended";
}

/** The journal's cards, each its own collapsible card, in the order the pane shows them. */
export function journalCards(app) {
  if (!shown(app)) return [];
  return [goalsCard(app), checkinCard(app), feedbackCard(app), reflectionCard(app), timeoutCard(app), guestsCard(app)]
    .filter(Boolean);
}

/**
 * The pane's nodes (`nodes`, flat) with the journal put in: a journal change not saved right
 * under the heading, what is worth raising after the heading and whose turn it is (upcoming
 * only), the other cards before the reminders (or the dossier, or at the end).
 */
export function withJournal(app, nodes) {
  if (!shown(app)) return nodes;
  const out = [...nodes];
  const lead = out.findIndex((node) => node.tagName === "SECTION" || node.tagName === "DETAILS");
  const top = app.ctx.state === "upcoming" ? [prepareBlock(app)] : [];
  out.splice(lead < 0 ? out.length : lead, 0, ...top);
  const keys = ["reminders", "reminders-slot", "dossier", "hr"];
  const before = out.findIndex((node) => node.dataset && keys.includes(node.dataset.key));
  out.splice(before < 0 ? out.length : before, 0, ...journalCards(app));
  const conflict = journalConflictPanel(app);
  if (conflict) out.splice(out.findIndex((node) => node.tagName === "H1") + 1, 0, conflict);
  return out;
}

