// What the user typed, kept by a stable key across re-renders and failed saves, so an error or
// the other partner's change never loses text. A draft is dropped once its save succeeded.

const drafts = new Map();

/** Bind a form control to the draft `key`; `initial` is the saved value. */
export function bindDraft(el, key, initial = "") {
  const isBox = el.type === "checkbox" || el.type === "radio";
  if (drafts.has(key)) {
    if (isBox) el.checked = drafts.get(key);
    else el.value = drafts.get(key);
  } else if (isBox) el.checked = Boolean(initial);
  else el.value = initial ?? "";
  const keep = () => drafts.set(key, isBox ? el.checked : el.value);
  el.addEventListener("input", keep);
  el.addEventListener("change", keep);
  return el;
}

/** The draft for `key`, or `fallback`. */
export function draft(key, fallback = "") {
  return drafts.has(key) ? drafts.get(key) : fallback;
}

/** True when the user changed `key` since its last save. */
export function hasDraft(key) {
  return drafts.has(key);
}

/** Forget drafts (after a successful save); keys ending in "*" drop a whole prefix. */
export function clearDrafts(keys) {
  for (const key of keys || []) {
    if (key.endsWith("*")) {
      const prefix = key.slice(0, -1);
      for (const k of [...drafts.keys()]) if (k.startsWith(prefix)) drafts.delete(k);
    } else drafts.delete(key);
  }
}

/** Set a draft directly (for controls that share one key, like a group of radios). */
export function setDraft(key, value) {
  drafts.set(key, value);
}
