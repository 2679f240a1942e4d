// Small DOM helpers. User text only ever goes in through text nodes or attribute values, never
// through innerHTML.

let counter = 0;

/** A fresh element id. */
export function uid(prefix = "gg") {
  counter += 1;
  return `${prefix}-${counter}`;
}

/**
 * Create an element. `props`: "class", "text" (textContent), "key" (data-key, used to keep focus
 * across re-renders), on<event> handlers, booleans (checked, disabled, ...), other attributes.
 * `value` is set last, after the children (a select needs its options first).
 */
export function h(tag, props = {}, ...children) {
  const el = document.createElement(tag);
  let value;
  for (const [name, v] of Object.entries(props || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (name === "class") el.className = v;
    else if (name === "text") el.textContent = String(v);
    else if (name === "key") el.dataset.key = String(v);
    else if (name === "value") value = v;
    else if (name.startsWith("on") && typeof v === "function") {
      el.addEventListener(name.slice(2).toLowerCase(), v);
    } else if (typeof v === "boolean") {
      el.setAttribute(name, "");
      if (name in el) el[name] = true;
    } else el.setAttribute(name, String(v));
  }
  append(el, children);
  if (value !== undefined) el.value = String(value);
  return el;
}

/** Append children: nodes, strings (as text), arrays; null and false are skipped. */
export function append(parent, children) {
  for (const child of [children].flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    parent.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return parent;
}

/** Remove every child of `el`. */
export function clear(el) {
  while (el.firstChild) el.firstChild.remove();
  return el;
}
