// The task pane: read the opened appointment through Office.js, ask the API for its context and
// show the state it is in. Every change goes to the API as ops; a 409 shows "changed meanwhile"
// with both versions.

import { Api, ApiError, signinNeeded } from "./api.js";
import { createAuth, readConfig, SigninRequired } from "./auth.js";
import { clear, h } from "./dom.js";
import { clearDrafts, setScope } from "./drafts.js";
import * as host from "./host.js";
import { language, loadCatalog, pickLanguage, t } from "./i18n.js";
import { renderUpcoming } from "./agenda.js";
import { formatDateTime } from "./common.js";
import { conflictPanel } from "./conflict.js";
import { workingHoursSection } from "./hours.js";
import { remindersSection } from "./reminders.js";
import { renderPlan } from "./plan.js";
import { renderNotPartner } from "./private.js";
import { renderEnded } from "./record.js";
import { hrSection } from "./hr.js";
import { dossierSection, erasedView } from "./dossier.js";
import { withJournal } from "./journal.js";

const body = document.body;
const main = document.getElementById("main");
const view = document.getElementById("view");
const alertBox = document.getElementById("alert");
const statusBox = document.getElementById("status");
const signinBox = document.getElementById("signin");

let token = null;
let auth = null;

/** A fresh client id for an idempotent create or change (uuid without dashes). */
function newRequestId() {
  if (crypto.randomUUID) return crypto.randomUUID().replaceAll("-", "");
  return Array.from(crypto.getRandomValues(new Uint8Array(16)),
    (b) => b.toString(16).padStart(2, "0")).join("");
}

/** The same JSON for the same ops whatever the order of their keys (the API sorts them). */
function canonical(ops) {
  return JSON.stringify(ops, (_key, value) => (value && typeof value === "object" && !Array.isArray(value)
    ? Object.fromEntries(Object.entries(value).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
    : value));
}

async function getToken(refresh) {
  if (!token || refresh) {
    try {
      token = await auth.token(refresh);
    } catch (error) {
      token = null;
      if (error instanceof SigninRequired) {
        throw new ApiError(401, { error: "unauthorized", signin: error.kind, message: signinText(error.kind).message });
      }
      throw new ApiError(401, { error: "unauthorized", message: t("Could not sign you in: %(reason)s",
        { reason: (error && error.message) || String(error) }) });
    }
  }
  return token;
}

/** What the sign-in prompt says for `kind` ("signin", "again", "consent"), and its button. */
function signinText(kind) {
  if (kind === "consent") {
    return {
      message: t("Goed Gesprek needs your permission to use your calendar, files and mail for these conversations."),
      button: t("Grant access"),
    };
  }
  if (kind === "again") {
    return { message: t("Your sign-in no longer works. Sign in again to go on."), button: t("Sign in again") };
  }
  return { message: t("Sign in with your work account to use Goed Gesprek."), button: t("Sign in") };
}

/**
 * Ask the user to sign in (again) or to grant access (to `scopes`, the API's list of what is
 * missing); after that, `retry` runs the call again.
 */
function showSignin(kind, retry, scopes) {
  const text = signinText(kind);
  app.announce("");
  clear(signinBox);
  signinBox.dataset.kind = kind;
  const button = h("button", {
    type: "button", class: "primary", key: `signin-${kind}`, text: text.button,
    onclick: async () => {
      button.disabled = true;
      app.alert("");
      app.announce(t("Signing you in…"));
      try {
        token = await auth.interactive(kind, scopes);
      } catch (error) {
        button.disabled = false;
        app.announce("");
        app.alert(t("Could not sign you in: %(reason)s", { reason: (error && error.message) || String(error) }));
        return;
      }
      app.announce("");
      clear(signinBox);
      signinBox.hidden = true;
      delete signinBox.dataset.kind;
      await retry();
    },
  });
  signinBox.append(h("p", { text: text.message }), h("div", { class: "actions" }, button));
  signinBox.hidden = false;
  button.focus();
}

const app = {
  ctx: null,
  item: null,
  compose: false,
  conflict: null,
  requestId: null,
  // Change ids by the ops they name, kept until the change is answered: a resend of the same
  // change (after a lost answer, or "apply mine again") carries the same id.
  changeIds: new Map(),
  busy: false,
  lastState: null,
  ui: { editing: null, declining: null, preview: null },
  api: null,

  announce(message) {
    statusBox.textContent = message || "";
  },

  alert(message) {
    alertBox.textContent = message || "";
  },

  /** Draw the current state; keeps focus on the control with the same key, or on `focusKey`. */
  render(focusKey) {
    const active = document.activeElement;
    const keep = focusKey || (active && active.dataset ? active.dataset.key : undefined);
    clear(view);
    if (!app.ctx) return;
    // The pair's zone: of this series, or of the series the user has with this partner already.
    const pair = app.ctx.series || (app.ctx.existing && app.ctx.existing.series) || {};
    eventLine(app.ctx.event, pair.tz);
    const nodes = withJournal(app, [stateView(app), app.erased ? null : dossierSection(app), hrSection(app)]
      .flat(Infinity).filter(Boolean));
    if (app.conflict) {
      // Right under the page's heading, so the heading order stays h1, h2, ...
      const at = nodes.findIndex((node) => node.tagName === "H1") + 1;
      nodes.splice(at, 0, conflictPanel(app));
    }
    view.append(...nodes);
    const changed = app.lastState !== app.ctx.state;
    app.lastState = app.ctx.state;
    const target = keep ? view.querySelector(`[data-key="${CSS.escape(keep)}"]`) : null;
    if (target) target.focus();
    else if (app.conflict) view.querySelector('[data-key="conflict"] h2').focus();
    else if (changed || (active && !document.contains(active))) {
      const heading = view.querySelector("h1");
      if (heading) heading.focus();
    }
  },

  /** Run `task` once at a time, with busy state and error handling. */
  async run(task, ops, options) {
    if (app.busy) return false;
    app.busy = true;
    main.setAttribute("aria-busy", "true");
    app.alert("");
    app.announce("");
    try {
      await task();
      return true;
    } catch (error) {
      const kind = auth && auth.mode === "entra" ? signinNeeded(error) : null;
      if (kind) {
        showSignin(kind, () => app.run(task, ops, options), error.body && error.body.scopes);
        return false;
      }
      await handleError(error, ops, options);
      return false;
    } finally {
      app.busy = false;
      main.setAttribute("aria-busy", "false");
    }
  },

  /** Send ops to this occurrence. `clear`: draft keys to drop on success; `done`: the news. */
  send(ops, options = {}) {
    const change = canonical(ops);
    if (!app.changeIds.has(change)) app.changeIds.set(change, newRequestId());
    return app.run(async () => {
      const ctx = app.ctx;
      const next = await app.api.apply(ctx.series.id, ctx.occurrence.key, ctx.event.id, ops, ctx.etag,
        app.changeIds.get(change));
      app.changeIds.delete(change);
      clearDrafts(options.clear);
      if (options.after) options.after();
      app.conflict = null;
      app.ctx = next;
      app.render();
      app.announce(next.pending
        ? t("Saved on the server for now: the drive did not answer. It goes there by itself later.")
        : options.done || t("Saved."));
    }, ops, options);
  },

  patchSeries(changes, options = {}) {
    return app.run(async () => {
      const answer = await app.api.patchSeries(app.ctx.series.id, changes);
      clearDrafts(options.clear);
      app.ctx = { ...app.ctx, series: answer.series || app.ctx.series };
      app.render();
      app.announce(options.done || t("Saved."));
    });
  },

  /** End the series for the pair; the view then says so (the event may be gone). */
  endSeries() {
    return app.run(async () => {
      await app.api.endSeries(app.ctx.series.id);
      app.ui.ending = false;
      app.ended = { name: app.ctx.partner ? app.ctx.partner.name : "" };
      app.render();
      app.announce(t("The series has ended."));
    });
  },

  /** The employee's whole dossier as a zip download. */
  downloadDossier() {
    return app.run(async () => {
      const { blob, name } = await app.api.dossier();
      saveBlob(blob, name);
      app.announce(t("Your dossier is downloaded as %(name)s.", { name }));
    });
  },

  /** Erase the pair's dossier for good; the view then shows the receipt. */
  eraseDossier() {
    return app.run(async () => {
      const { receipt } = await app.api.erase(app.ctx.series.id);
      app.ui.erasing = false;
      app.erased = receipt;
      app.render();
      app.announce(t("The dossier is erased."));
    });
  },

  saveReceipt() {
    const text = JSON.stringify(app.erased, null, 2);
    saveBlob(new Blob([text], { type: "application/json" }), `erasure-receipt-${app.erased.id}.json`);
  },

  /** Read the caller's working hours for the plan view, then show them (errors stay quiet). */
  async loadWorkingHours() {
    try {
      app.ui.hours = await app.api.workingHours();
    } catch {
      return; // the plan form works without: the planner uses what the server knows
    }
    // Added below the form, not rendered anew: whoever is typing keeps their place.
    if (!app.ctx || app.ctx.state !== "not_series" || view.querySelector('[data-key="hours"]')) return;
    const hours = workingHoursSection(app);
    if (hours) view.append(hours);
  },

  /** Ask once whether the caller is HR; if so, show the way to the report (errors stay quiet). */
  async loadHr() {
    try {
      app.ui.hr = (await app.api.hr()).hr === true;
    } catch {
      return;
    }
    if (app.ui.hr && !view.querySelector('[data-key="hr"]')) {
      const found = hrSection(app);
      if (found) view.append(found);
    }
  },

  /** The cadence report in a new tab, behind a link signed for this person. */
  openHrReport() {
    // Opened at once, while the click still allows a new tab; the link follows.
    const tab = window.open("", "_blank");
    return app.run(async () => {
      const { url } = await app.api.hrReportLink();
      if (tab) {
        tab.opener = null;
        tab.location.href = url;
      } else {
        window.location.assign(url);
      }
    });
  },

  /** Read which reminders the caller gets, then show them (errors stay quiet). */
  async loadReminders() {
    try {
      app.ui.reminders = await app.api.reminders();
    } catch {
      return; // the rest of the pane works without
    }
    const place = view.querySelector('[data-key="reminders-slot"]');
    if (!place) return;
    const found = remindersSection(app);
    if (found) place.replaceWith(found);
  },

  saveReminders(reminders) {
    return app.run(async () => {
      app.ui.reminders = await app.api.setReminders(reminders);
      clearDrafts(["reminders:*"]);
      app.ui.remindersOpen = true;
      app.render();
      app.announce(t("Your reminders are saved."));
    });
  },

  saveWorkingHours(hours) {
    return app.run(async () => {
      app.ui.hours = await app.api.setWorkingHours(hours);
      clearDrafts(["hours:*"]);
      app.ui.preview = null;
      app.render();
      app.announce(t("Your working hours are saved."));
    });
  },

  previewSeries(request) {
    return app.run(async () => {
      app.ui.preview = await app.api.preview(request);
      app.render("plan:preview");
      const heading = view.querySelector('[data-key="plan:preview"] h2');
      if (heading) heading.focus();
    });
  },

  createSeries(request) {
    // Kept until it succeeds, so a retry after a lost answer gives the same series.
    app.requestId = app.requestId || newRequestId();
    return app.run(async () => {
      const answer = await app.api.createSeries({ ...request, request_id: app.requestId });
      app.requestId = null;
      app.ui.preview = null;
      clearDrafts(["plan:*"]);
      app.ctx = answer.context;
      if (app.ctx && app.ctx.event) setScope(app.ctx.event.id);
      app.render();
      const first = answer.context && answer.context.occurrence ? answer.context.occurrence.start : null;
      app.announce(first
        ? t("The series is planned. The first conversation is on %(date)s.", {
          date: formatDateTime(first, answer.series && answer.series.tz) })
        : t("The series is planned."));
    });
  },

  writeEventCopy() {
    return app.run(async () => {
      const ctx = app.ctx;
      const copy = await app.api.eventCopy(ctx.series.id, ctx.occurrence.key);
      await host.writeEventCopy(copy);
      app.announce(t("The agenda is in the event. Save or send the event to keep it."));
    });
  },

  download(format) {
    return app.run(async () => {
      const ctx = app.ctx;
      const { blob, name } = await app.api.exportRecord(ctx.series.id, ctx.occurrence.key, format);
      saveBlob(blob, name);
      app.announce(t("The record is downloaded as %(name)s.", { name }));
    });
  },
};

function saveBlob(blob, name) {
  const url = URL.createObjectURL(blob);
  const link = h("a", { href: url, download: name, class: "visually-hidden", text: name });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60000);
}

function showConflict(current, message, ops, options) {
  app.ctx = current;
  app.conflict = { message, ops: ops || [], clear: options.clear, done: options.done };
  app.render();
  app.alert(message);
}

async function handleError(error, ops, options = {}) {
  if (error instanceof ApiError && error.status === 409 && error.body && error.body.current) {
    const yours = error.body.yours && Array.isArray(error.body.yours.ops) ? error.body.yours.ops : ops;
    showConflict(error.body.current, error.message, yours, options);
    return;
  }
  if (error instanceof ApiError && (error.status === 412 || error.status === 428) && ops && app.ctx && app.ctx.event) {
    // The other partner saved first where we had nothing yet: the same as a conflict.
    try {
      const current = await app.api.context(app.ctx.event.id);
      showConflict(current, t("Your conversation partner saved meanwhile."), ops, options);
      return;
    } catch {
      // Fall through to the plain message.
    }
  }
  if (error instanceof ApiError || error instanceof host.HostError) {
    app.alert(error.message);
    return;
  }
  app.alert(t("Something went wrong in the pane: %(reason)s", { reason: String(error && error.message) }));
  console.error(error); // eslint-disable-line no-console
}

function endedSeriesView() {
  return [
    h("h1", { text: t("The series has ended"), tabindex: "-1" }),
    h("p", { text: t("The conversations not yet held are cancelled in the calendar. The records stay with the employee, and you can plan a new series later.") }),
  ];
}

function stateView(state) {
  if (state.erased) return erasedView(state);
  if (state.ended) return endedSeriesView();
  switch (state.ctx.state) {
    case "not_series": return renderPlan(state);
    case "upcoming": return renderUpcoming(state);
    case "ended": return renderEnded(state);
    case "not_partner": return renderNotPartner(state);
    default: return h("p", { text: t("This event is in a state the pane does not know.") });
  }
}

function eventLine(event, tz) {
  const line = document.getElementById("event-line");
  if (!event) return;
  const when = formatDateTime(event.start, tz);
  line.textContent = [event.subject, when].filter(Boolean).join(" · ");
}

function renderSaveFirst() {
  clear(view);
  view.append(
    h("h1", { text: t("Save the appointment first"), tabindex: "-1" }),
    h("p", { text: t("This appointment is new. Save it, then the pane can plan a series from it.") }),
    h("div", { class: "actions" }, h("button", {
      type: "button", class: "primary", key: "save-item", text: t("Save the appointment"),
      onclick: () => app.run(async () => {
        const id = await host.saveItem();
        if (!id) throw new host.HostError({ message: t("Outlook did not give the saved appointment an id.") });
        app.item = { ...app.item, id };
        await loadContext(id);
      }),
    })),
  );
  view.querySelector("h1").focus();
}

async function loadContext(eventId) {
  setScope(eventId);
  app.announce(t("Loading…"));
  const item = app.item && app.item.id === eventId ? app.item : {};
  app.ctx = await app.api.context(eventId, { seriesId: item.seriesId, start: item.start });
  app.announce("");
  app.render();
}

async function start() {
  try {
    await window.Office.onReady();
  } catch (error) {
    app.alert(t("Outlook could not start the pane: %(reason)s", { reason: (error && error.message) || String(error) }));
    main.setAttribute("aria-busy", "false");
    return;
  }
  const lang = pickLanguage(host.displayLanguage(), navigator.language) || body.dataset.lang || "nl";
  document.documentElement.lang = lang;
  await loadCatalog(body.dataset.i18n || "/i18n/pane/", lang);
  auth = createAuth(readConfig(body), window.Office, () => host.accessToken());
  app.api = new Api(body.dataset.api || "/api", language(), getToken);
  await app.run(async () => {
    app.announce(t("Loading…"));
    app.item = await host.readAppointment();
    app.compose = app.item.mode === "compose";
    eventLine({ subject: app.item.subject, start: app.item.start });
    if (!app.item.id) {
      app.announce("");
      renderSaveFirst();
      return;
    }
    await loadContext(app.item.id);
  });
  main.setAttribute("aria-busy", "false");
  body.dataset.ready = "1";
}

// For the demo's host preview and the browser tests: the pane's state, read-only.
window.goedGesprekPane = Object.freeze({
  get state() { return app.ctx ? app.ctx.state : null; },
  get eventId() { return app.ctx && app.ctx.event ? app.ctx.event.id : null; },
  get seriesId() { return app.ctx && app.ctx.series ? app.ctx.series.id : null; },
  get occurrence() { return app.ctx && app.ctx.occurrence ? app.ctx.occurrence.key : null; },
});

start();
