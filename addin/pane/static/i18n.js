// Every visible string goes through t("English text"). The catalogue for the user's language
// comes from the app's gettext catalogues as JSON (msgid -> msgstr); until it is there, or for a
// string it lacks, the English msgid is shown. Placeholders are gettext's %(name)s, so the
// catalogue checks hold translations to them.

let catalog = {};
let current = "en";

/** The first of the candidates that is Dutch or English, as "nl"/"en"; else null. */
export function pickLanguage(...candidates) {
  for (const candidate of candidates) {
    const tag = String(candidate || "").trim().toLowerCase().slice(0, 2);
    if (tag === "nl" || tag === "en") return tag;
  }
  return null;
}

/** Load the catalogue for `lang` from `base` (e.g. "/i18n/pane/"); failures keep English. */
export async function loadCatalog(base, lang) {
  current = lang;
  catalog = {};
  try {
    const response = await fetch(`${base}${encodeURIComponent(lang)}.json`, {
      credentials: "same-origin",
      headers: { Accept: "application/json" },
    });
    if (!response.ok) return;
    const data = await response.json();
    const messages = data && typeof data.messages === "object" ? data.messages : data;
    if (messages && typeof messages === "object") catalog = messages;
  } catch {
    // No catalogue: the msgids (English) are shown.
  }
}

/** The language strings are shown in. */
export function language() {
  return current;
}

function fill(text, params) {
  if (!params) return text;
  return text.replace(/%\((\w+)\)s/g, (whole, key) =>
    Object.prototype.hasOwnProperty.call(params, key) ? String(params[key]) : whole,
  );
}

/** The translation of `msgid`, with %(name)s placeholders filled from `params`. */
export function t(msgid, params) {
  const found = catalog[msgid];
  return fill(typeof found === "string" && found ? found : msgid, params);
}

/** The singular or plural text for `n` (Dutch and English: singular exactly when n == 1). */
export function tn(singular, plural, n, params) {
  const msgid = n === 1 ? singular : plural;
  const found = catalog[msgid];
  return fill(typeof found === "string" && found ? found : msgid, { num: n, ...params });
}
