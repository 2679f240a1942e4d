// The employee's own dossier (AVG/GDPR): all of it as one zip, readable without Goed Gesprek,
// and erasing it for good. Only the employee sees this: the dossier is theirs.

import { h } from "./dom.js";
import { t } from "./i18n.js";
import { button, formatDateTime, nameOf, section } from "./common.js";

/** The section for the employee of a series; null for anyone else. */
export function dossierSection(app) {
  const ctx = app.ctx;
  if (!ctx || !ctx.series || !ctx.user || ctx.user.role !== "employee") return null;
  if (ctx.state !== "upcoming" && ctx.state !== "ended") return null;
  const children = [
    h("p", { text: t("Every conversation with your manager, with who accepted what and when: yours to keep, readable without Goed Gesprek.") }),
    h("div", { class: "actions" },
      button(t("Download my whole dossier (zip)"), () => app.downloadDossier(), { key: "dossier:zip" }),
      app.ui.erasing ? null : button(t("Erase this dossier…"), () => {
        app.ui.erasing = true;
        app.render("dossier:keep");
      }, { subtle: true, key: "dossier:erase" })),
  ];
  if (app.ui.erasing) {
    children.push(h("div", { class: "confirm", role: "group", "aria-label": t("Erase this dossier") },
      h("p", { text: t("Erasing destroys the key of every conversation with %(name)s: no record opens again, not from the drive, its recycle bin or a backup. Conversations still to come are cancelled. This cannot be undone.", { name: nameOf(ctx, "manager") }) }),
      h("div", { class: "actions" },
        button(t("Keep it"), () => {
          app.ui.erasing = false;
          app.render("dossier:erase");
        }, { key: "dossier:keep" }),
        button(t("Erase for good"), () => app.eraseDossier(), { primary: true, key: "dossier:confirm" }))));
  }
  return section(t("Your dossier"), children, { key: "dossier" });
}

/** What the pane shows once the dossier is erased: the receipt, to keep. */
export function erasedView(app) {
  const receipt = app.erased;
  const files = receipt.series.reduce((sum, s) => sum + s.files_deleted, 0);
  return [
    h("h1", { text: t("The dossier is erased"), tabindex: "-1" }),
    h("p", { text: t("Its key is destroyed, so no copy of a record opens again; %(files)s file(s) were deleted from your drive. The server keeps only a note that it was erased, without names.", { files: String(files) }) }),
    h("p", { text: t("Receipt %(id)s, %(at)s. Keep it: the organisation can check it was issued.", { id: receipt.id, at: formatDateTime(receipt.at) }) }),
    h("div", { class: "actions" },
      button(t("Save the receipt"), () => app.saveReceipt(), { primary: true, key: "dossier:receipt" })),
  ];
}
