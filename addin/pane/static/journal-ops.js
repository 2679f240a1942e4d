// The pair's journal, the part every journal view shares: what the journal's `can` allows, sending
// journal ops (a change id per change, If-Match with the journal's etag), "changed meanwhile" for
// a journal change, and the collapsible card each journal part sits in.

import { ApiError } from "./api.js";
import { append, h } from "./dom.js";
import { clearDrafts } from "./drafts.js";
import { language, t } from "./i18n.js";
import { button, section } from "./common.js";

/** The journal of the context, or null (no journal kept, or a state without one). */
export function journalOf(ctx) {
  return (ctx && ctx.journal) || null;
}

/** True when the journal's `can` offers `step` ("goal.add", "checkin", ...). */
export function mayJournal(ctx, step) {
  const can = (journalOf(ctx) || {}).can || [];
  return can.includes(step);
}

/** True when a goal or request (`thing.can`) offers `step`. */
export function mayDo(thing, step) {
  return Boolean(thing && (thing.can || []).includes(step));
}

/** An instant (ISO 8601) as a date in the reader's own zone: "24 november 2026". */
export function dayOf(iso) {
  if (!iso) return "";
  const when = new Date(iso);
  if (Number.isNaN(when.getTime())) return String(iso);
  return new Intl.DateTimeFormat(language(), { day: "numeric", month: "long", year: "numeric" }).format(when);
}

/** An occurrence key ("20261201T100000Z") for an instant (ISO 8601). */
export function occurrenceKey(iso) {
  const when = new Date(iso);
  if (Number.isNaN(when.getTime())) return "";
  return when.toISOString().replace(/\.\d{3}Z$/, "Z").replaceAll("-", "").replaceAll(":", "");
}

/** The instant of an occurrence key, as ISO 8601 (UTC). */
export function keyInstant(key) {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(String(key || ""));
  return m ? `${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6]}Z` : "";
}

/** The path of this occurrence in the API, with `tail` ("/journal", "/overview"). */
export function occurrencePath(ctx, tail) {
  return `/series/${encodeURIComponent(ctx.series.id)}/occurrences/${encodeURIComponent(ctx.occurrence.key)}${tail}`;
}

function newChangeId() {
  if (crypto.randomUUID) return crypto.randomUUID().replaceAll("-", "");
  return Array.from(crypto.getRandomValues(new Uint8Array(16)),
    (b) => b.toString(16).padStart(2, "0")).join("");
}

/** The same JSON for the same ops whatever the order of their keys. */
function canonical(ops) {
  return JSON.stringify(ops, (_key, value) => (value && typeof value === "object" && !Array.isArray(value)
    ? Object.fromEntries(Object.entries(value).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
    : value));
}

// Change ids by the ops they name, kept until the change is answered, so a resend of the same
// change (after a lost answer, or "apply mine again") carries the same id.
const changeIds = new Map();

/**
 * Send journal ops for this occurrence. `clear`: draft keys to drop on success; `done`: the news;
 * `after`: runs on success before the view is drawn again; `focus`: the key to focus then (or a
 * function of the new context giving it, for something the answer names first).
 */
export function sendJournal(app, ops, options = {}) {
  const change = canonical(ops);
  if (!changeIds.has(change)) changeIds.set(change, newChangeId());
  return app.run(async () => {
    const ctx = app.ctx;
    const etag = (journalOf(ctx) || {}).etag;
    let next;
    try {
      next = await app.api.json("POST", occurrencePath(ctx, "/journal"), {
        body: { event: ctx.event.id, ops, change_id: changeIds.get(change) },
        headers: etag ? { "If-Match": etag } : {},
      });
    } catch (error) {
      if (await changedMeanwhile(app, error, ops, options)) return;
      throw error;
    }
    changeIds.delete(change);
    clearDrafts(options.clear);
    if (options.after) options.after();
    app.ui.journalConflict = null;
    app.ctx = next;
    app.render(typeof options.focus === "function" ? options.focus(next) : options.focus);
    app.announce(journalOf(next) && journalOf(next).pending
      ? t("Saved on the server for now: the drive did not answer. It goes there by itself later.")
      : options.done || t("Saved."));
  });
}

/** A 409 (or a first save that raced the partner's): show the current journal and what was not saved. */
async function changedMeanwhile(app, error, ops, options) {
  if (!(error instanceof ApiError)) return false;
  let current = null;
  let message = error.message;
  if (error.status === 409 && error.body && error.body.current) current = error.body.current;
  else if ((error.status === 412 || error.status === 428) && app.ctx && app.ctx.event) {
    try {
      current = await app.api.context(app.ctx.event.id);
      message = t("Your conversation partner saved meanwhile.");
    } catch {
      return false;
    }
  }
  if (!current) return false;
  app.ctx = current;
  app.ui.journalConflict = { message, ops, options };
  app.render();
  const heading = document.querySelector('[data-key="journal:conflict"] h2');
  if (heading) heading.focus();
  app.alert(message);
  return true;
}

function lookup(list, id, field) {
  const found = (list || []).find((x) => x.id === id);
  return found ? found[field] : id;
}

/** One journal op in words, quoting the user's own text. */
export function describeJournalOp(ctx, op) {
  const journal = journalOf(ctx) || {};
  const goal = (id) => lookup(journal.goals, id, "title");
  const colleague = (id) => lookup(journal.feedback, id, "name");
  switch (op.op) {
    case "goal.add": return t("Add goal “%(title)s”", { title: op.title });
    case "goal.edit": return t("Change goal “%(title)s”", { title: op.title || goal(op.goal) });
    case "goal.propose": return t("Propose goal “%(title)s”", { title: goal(op.goal) });
    case "goal.accept": return t("Accept goal “%(title)s”", { title: goal(op.goal) });
    case "goal.decline": return t("Decline goal “%(title)s”", { title: goal(op.goal) });
    case "goal.remove": return t("Remove goal “%(title)s”", { title: goal(op.goal) });
    case "goal.status": return t("Set the status of goal “%(title)s”", { title: goal(op.goal) });
    case "goal.progress": return t("Progress on “%(title)s”: %(text)s", { title: goal(op.goal), text: op.note });
    case "goal.link": return t("Link an action to goal “%(title)s”", { title: goal(op.goal) });
    case "goal.unlink": return t("Unlink an action from goal “%(title)s”", { title: goal(op.goal) });
    case "checkin": return t("Check in: energy %(energy)s, work happiness %(happiness)s",
      { energy: op.energy, happiness: op.happiness });
    case "feedback.ask": return t("Ask %(name)s for feedback", { name: op.name || op.email });
    case "feedback.consent": return t("Let the request to %(name)s go out", { name: colleague(op.request) });
    case "feedback.withdraw": return t("Withdraw the request to %(name)s", { name: colleague(op.request) });
    case "feedback.share": return op.shared
      ? t("Share the feedback of %(name)s", { name: colleague(op.request) })
      : t("Stop sharing the feedback of %(name)s", { name: colleague(op.request) });
    case "feedback.discussed": return t("Mark the feedback of %(name)s as discussed", { name: colleague(op.request) });
    case "reflection.write": return t("Save the reflection");
    case "reflection.share": return op.shared ? t("Share the reflection") : t("Stop sharing the reflection");
    case "timeout.ask": return op.kind === "other_partner"
      ? t("Ask for another conversation partner") : t("Ask for a time-out");
    case "timeout.close": return t("Close the request");
    case "guest.invite": return t("Invite %(name)s", { name: op.name || op.email });
    case "guest.record": return t("Change what %(name)s may read", { name: op.email });
    case "guest.remove": return t("Take %(name)s off the conversation", { name: op.email });
    case "guest.send_record": return t("Send the record to %(name)s", { name: op.email });
    default: return String(op.op || "");
  }
}

/** The panel for a journal change that was not saved; null when there is none. */
export function journalConflictPanel(app) {
  const conflict = app.ui.journalConflict;
  if (!conflict) return null;
  return section(t("Changed meanwhile"), [
    h("p", { text: t("Below is the current version. These changes of yours were not saved:") }),
    h("ul", {}, conflict.ops.map((op) => h("li", { text: describeJournalOp(app.ctx, op) }))),
    h("div", { class: "actions" },
      button(t("Apply mine again"), () => sendJournal(app, conflict.ops, conflict.options),
        { primary: true, key: "journal:conflict:apply" }),
      button(t("Discard mine"), () => {
        changeIds.delete(canonical(conflict.ops));
        app.ui.journalConflict = null;
        app.render();
      }, { key: "journal:conflict:discard" })),
  ], { cls: "conflict", key: "journal:conflict" });
}

/**
 * A collapsible card for one part of the journal. It stays open or closed across re-renders as
 * the reader left it; `open` is how it starts. Its body (`build()`) is made only once it is open,
 * so a closed card adds nothing to the page but its title. `note`: a short badge beside the
 * title, in `tone` ("wait" for something waiting for the reader, null for a plain count).
 */
export function journalCard(app, name, title, build, { open = false, note, tone = "wait" } = {}) {
  const state = app.ui.journalOpen || (app.ui.journalOpen = {});
  const isOpen = name in state ? state[name] : open;
  const body = h("div", { class: "journal-body" }, isOpen ? build() : null);
  return h("details", {
    class: "card journal", key: `journal:${name}`, open: isOpen || null,
    ontoggle: (event) => {
      state[name] = event.target.open;
      if (event.target.open && !body.firstChild) append(body, build());
    },
  },
  h("summary", { key: `journal:${name}:summary` }, h("span", { class: "summary-title", text: title }),
    note ? h("span", { class: tone ? `badge ${tone}` : "badge", text: note }) : null),
  body);
}
