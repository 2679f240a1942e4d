// "Changed meanwhile": the other partner saved first. The current state is shown as usual; this
// panel lists the changes of yours that were not applied, with "apply mine again".

import { h } from "./dom.js";
import { t } from "./i18n.js";
import { button, section } from "./common.js";

function lookup(list, id, field) {
  const found = (list || []).find((x) => x.id === id);
  return found ? found[field] : "";
}

/** One op in words, quoting the user's own text. */
export function describeOp(ctx, op) {
  const items = ctx.agenda ? ctx.agenda.items : [];
  const record = ctx.record || {};
  const itemTitle = (id) => lookup(items, id, "title") || id;
  const agreement = (id) => lookup(record.agreements, id, "text") || id;
  const action = (id) => lookup(record.actions, id, "description") || id;
  const carried = (id) => lookup(ctx.agenda && ctx.agenda.actions, id, "description") || id;
  switch (op.op) {
    case "agenda.add_item": return t("Add item “%(title)s”", { title: op.title });
    case "agenda.edit_item": return t("Change item “%(title)s”", { title: op.title || itemTitle(op.item) });
    case "agenda.remove_item": return t("Remove item “%(title)s”", { title: itemTitle(op.item) });
    case "agenda.move_item": return t("Move item “%(title)s”", { title: itemTitle(op.item) });
    case "agenda.share": return t("Share the agenda");
    case "agenda.agree": return t("Agree with the agenda");
    case "agenda.set_action_status": return t("Set the status of action “%(text)s”", { text: carried(op.action) });
    case "record.summarise": return t("Summary of “%(title)s”: %(text)s", { title: itemTitle(op.item), text: op.text });
    case "record.add_agreement": return t("Add agreement: %(text)s", { text: op.text });
    case "record.edit_agreement": return t("Change agreement to: %(text)s", { text: op.text });
    case "record.remove_agreement": return t("Remove agreement: %(text)s", { text: agreement(op.agreement) });
    case "record.propose": return op.agreement === "*" ? t("Propose all drafts for acceptance")
      : t("Propose agreement: %(text)s", { text: agreement(op.agreement) });
    case "record.accept": return op.agreement === "*" ? t("Accept all proposed agreements")
      : t("Accept agreement: %(text)s", { text: agreement(op.agreement) });
    case "record.decline": return t("Decline agreement: %(text)s", { text: agreement(op.agreement) });
    case "record.add_action": return t("Add action: %(text)s", { text: op.description });
    case "record.edit_action": return t("Change action: %(text)s", { text: op.description || action(op.action) });
    case "record.set_status": return t("Set the status of action “%(text)s”", { text: action(op.action) });
    default: return String(op.op || "");
  }
}

/** The panel above the current state. */
export function conflictPanel(app) {
  const conflict = app.conflict;
  return section(t("Changed meanwhile"), [
    h("p", { text: t("Below is the current version. These changes of yours were not saved:") }),
    h("ul", {}, conflict.ops.map((op) => h("li", { text: describeOp(app.ctx, op) }))),
    h("div", { class: "actions" },
      button(t("Apply mine again"), () => app.send(conflict.ops, { clear: conflict.clear, done: conflict.done }),
        { primary: true, key: "conflict:apply" }),
      button(t("Discard mine"), () => { app.conflict = null; app.render(); }, { key: "conflict:discard" })),
  ], { cls: "conflict", key: "conflict" });
}
