// Energy and work happiness: the employee checks in with one tap on each 1-5 row; both partners
// see the trend. Nobody else ever sees a check-in (and nobody else opens this pane).

import { h } from "./dom.js";
import { t } from "./i18n.js";
import { nameOf } from "./common.js";
import { journalCard, journalOf, mayJournal, sendJournal } from "./journal-ops.js";
import { trendChart } from "./trend.js";

const KINDS = ["energy", "happiness"];

function scaleWords() {
  return {
    1: t("very low"),
    2: t("low"),
    3: t("neither low nor high"),
    4: t("high"),
    5: t("very high"),
  };
}

/** The values shown as chosen: this conversation's check-in, then what was tapped since. */
function chosen(app) {
  const saved = journalOf(app.ctx).checkin || {};
  const picked = app.ui.checkin || {};
  return {
    energy: picked.energy || saved.energy || null,
    happiness: picked.happiness || saved.happiness || null,
  };
}

function tap(app, kind, value) {
  const saved = journalOf(app.ctx).checkin;
  const choice = { ...chosen(app), [kind]: value };
  const focus = `journal:checkin:${kind}:${value}`;
  if (!choice.energy || !choice.happiness) {
    app.ui.checkin = choice;
    app.render(focus);
    app.announce(kind === "energy" ? t("Now choose your work happiness.") : t("Now choose your energy."));
    return;
  }
  if (saved && saved.energy === choice.energy && saved.happiness === choice.happiness) {
    app.ui.checkin = null;
    app.render(focus);
    app.announce(t("Your check-in is saved already."));
    return;
  }
  sendJournal(app, [{ op: "checkin", energy: choice.energy, happiness: choice.happiness }], {
    done: t("Your check-in is saved: energy %(energy)s, work happiness %(happiness)s.",
      { energy: choice.energy, happiness: choice.happiness }),
    after: () => { app.ui.checkin = null; },
    focus,
  });
}

function scaleRow(app, kind, current) {
  const words = scaleWords();
  const legend = kind === "energy" ? t("Energy") : t("Work happiness");
  return h("fieldset", { class: "scale-row" }, h("legend", { text: legend }),
    h("div", { class: "scale" }, [1, 2, 3, 4, 5].map((value) => h("button", {
      type: "button", key: `journal:checkin:${kind}:${value}`, class: "scale-button",
      "aria-pressed": current === value ? "true" : "false", title: `${value} – ${words[value]}`,
      onclick: () => tap(app, kind, value),
    }, String(value), h("span", { class: "visually-hidden", text: ` – ${words[value]}` })))),
    h("p", { class: "scale-ends", "aria-hidden": "true" },
      h("span", { text: words[1] }), h("span", { text: words[5] })));
}

function body(app) {
  const ctx = app.ctx;
  const journal = journalOf(ctx);
  const employee = ctx.user && ctx.user.role === "employee";
  const children = [];
  if (mayJournal(ctx, "checkin")) {
    const current = chosen(app);
    children.push(h("p", { class: "hint", text: journal.checkin_between
      ? t("This conversation is over: a check-in now counts between conversations. One tap on each row. Only you and %(name)s see your check-ins.",
        { name: nameOf(ctx, "manager") })
      : t("One tap on each row, for this conversation. Only you and %(name)s see your check-ins.",
        { name: nameOf(ctx, "manager") }) }));
    for (const kind of KINDS) children.push(scaleRow(app, kind, current[kind]));
    const waiting = app.ui.checkin && (!current.energy || !current.happiness);
    if (waiting) {
      children.push(h("p", { class: "meta", text: current.energy
        ? t("Choose your work happiness too; then it is saved.")
        : t("Choose your energy too; then it is saved.") }));
    }
  } else {
    children.push(h("p", { class: "hint", text: employee
      ? t("Only you and %(name)s see your check-ins.", { name: nameOf(ctx, "manager") })
      : t("How %(name)s rated energy and work happiness. Only the two of you see this.",
        { name: nameOf(ctx, "employee") }) }));
  }
  const trend = journal.trend || [];
  children.push(h("h3", { text: t("Trend") }));
  children.push(trend.length
    ? trendChart(trend, { key: "journal:trend" })
    : h("p", { class: "meta", text: t("No check-ins yet.") }));
  return children;
}

/** The card; null when the context has no journal. */
export function checkinCard(app) {
  const journal = journalOf(app.ctx);
  if (!journal) return null;
  const open = mayJournal(app.ctx, "checkin") && !journal.checkin;
  return journalCard(app, "checkin", t("Energy and work happiness"), () => body(app), { open });
}
