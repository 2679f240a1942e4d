// What the user typed, kept by a stable key across re-renders and failed saves, so an error or
// the other partner's change never loses text. A draft is dropped once its save succeeded.
// Drafts also survive a reload of the pane (Outlook reloads it when the user switches items):
// they are kept in the session's storage, per opened event.

let drafts = new Map();
let storageKey = null;

function persist() {
  if (!storageKey) return;
  try {
    if (drafts.size) sessionStorage.setItem(storageKey, JSON.stringify([...drafts]));
    else sessionStorage.removeItem(storageKey);
  } catch {
    // Storage full or disabled: drafts still live in memory.
  }
}

/** Keep drafts for the event `scope` (its id); loads what the session kept for it. */
export function setScope(scope) {
  storageKey = scope ? `goedgesprek.drafts.${scope}` : null;
  drafts = new Map();
  if (!storageKey) return;
  try {
    const saved = JSON.parse(sessionStorage.getItem(storageKey) || "[]");
    if (Array.isArray(saved)) drafts = new Map(saved.filter((e) => Array.isArray(e) && e.length === 2));
  } catch {
    drafts = new Map();
  }
}

/** Bind a form control to the draft `key`; `initial` is the saved value. */
export function bindDraft(el, key, initial = "") {
  const isBox = el.type === "checkbox" || el.type === "radio";
  if (drafts.has(key)) {
    if (isBox) el.checked = Boolean(drafts.get(key));
    else el.value = drafts.get(key);
  } else if (isBox) el.checked = Boolean(initial);
  else el.value = initial ?? "";
  const keep = () => setDraft(key, isBox ? el.checked : el.value);
  el.addEventListener("input", keep);
  el.addEventListener("change", keep);
  return el;
}

/** The draft for `key`, or `fallback`. */
export function draft(key, fallback = "") {
  return drafts.has(key) ? drafts.get(key) : fallback;
}

/** Set a draft directly (for controls that share one key, like a group of radios). */
export function setDraft(key, value) {
  drafts.set(key, value);
  persist();
}

/** Forget drafts (after a successful save); keys ending in "*" drop a whole prefix. */
export function clearDrafts(keys) {
  for (const key of keys || []) {
    if (key.endsWith("*")) {
      const prefix = key.slice(0, -1);
      for (const k of [...drafts.keys()]) if (k.startsWith(prefix)) drafts.delete(k);
    } else drafts.delete(key);
  }
  persist();
}
