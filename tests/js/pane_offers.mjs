// Renders the pane's "upcoming" and "ended" views in Node for each case of a can-vectors file
// (tests/data/can_cases.json) and prints, per case, the steps the rendered pane offers and its
// text. A small stand-in for the DOM is enough: the views only build elements.
//
// Usage: node tests/js/pane_offers.mjs <static dir URL> <cases file>

import { readFileSync } from "node:fs";

class Node {
  constructor(tag) {
    this.tagName = tag;
    this.childNodes = [];
    this.parentNode = null;
    this.attributes = {};
    this.dataset = {};
    this.className = "";
    this.value = "";
    this.checked = false;
    this.ownText = "";
  }

  append(...children) {
    for (const child of children) {
      const node = child instanceof Node ? child : new Text(String(child));
      node.parentNode = this;
      this.childNodes.push(node);
    }
  }

  appendChild(child) {
    this.append(child);
    return child;
  }

  remove() {
    if (!this.parentNode) return;
    const siblings = this.parentNode.childNodes;
    siblings.splice(siblings.indexOf(this), 1);
    this.parentNode = null;
  }

  get firstChild() {
    return this.childNodes[0] || null;
  }

  get children() {
    return this.childNodes.filter((n) => !(n instanceof Text));
  }

  setAttribute(name, value) {
    this.attributes[name] = String(value);
    if (name === "type") this.type = String(value);
    if (name === "id") this.id = String(value);
  }

  getAttribute(name) {
    return this.attributes[name] ?? null;
  }

  removeAttribute(name) {
    delete this.attributes[name];
  }

  addEventListener() {}

  set textContent(value) {
    this.childNodes = [];
    this.ownText = String(value);
  }

  get textContent() {
    return this.ownText + this.childNodes.map((n) => n.textContent).join(" ");
  }

  *walk() {
    yield this;
    for (const child of this.childNodes) yield* child.walk();
  }
}

class Text extends Node {
  constructor(text) {
    super("#text");
    this.ownText = text;
  }
}

globalThis.Node = Node;
globalThis.document = {
  createElement: (tag) => new Node(tag),
  createTextNode: (text) => new Text(text),
};
globalThis.sessionStorage = { getItem: () => null, setItem: () => {}, removeItem: () => {} };

const [base, casesFile] = process.argv.slice(2);
const { renderUpcoming } = await import(new URL("agenda.js", base));
const { renderEnded } = await import(new URL("record.js", base));

/** The steps a rendered view offers, in the vectors' keys, read from its controls. */
function offered(nodes) {
  const keys = [];
  for (const root of nodes.flat(Infinity).filter((n) => n instanceof Node)) {
    for (const node of root.walk()) {
      const key = node.dataset.key;
      if (!key) continue;
      let m;
      if (node.tagName === "button" && key === "new-item:submit") {
        keys.push(node.textContent.trim() === "Propose" ? "agenda.propose_item" : "agenda.add_item");
      } else if (key === "agenda:share" || key === "agenda:agree") {
        keys.push(key.replace(":", "."));
      } else if ((m = /^item:(.+):remove$/.exec(key))) {
        keys.push(`item.${m[1]}.remove`);
      } else if ((m = /^agreement:(.+):(propose|remove)$/.exec(key))) {
        keys.push(`agreement.${m[1]}.${m[2]}`);
      } else if (key === "accept:all") {
        keys.push("record.accept_all");
      } else if ((m = /^accept:(.+)$/.exec(key))) {
        keys.push(`agreement.${m[1]}.accept`);
      } else if ((m = /^decline:(.+):open$/.exec(key))) {
        keys.push(`agreement.${m[1]}.decline`);
      } else if (key === "agreements:propose-all") {
        keys.push("record.propose_all");
      } else if ((m = /^carried:(.+):(done|reopen)$/.exec(key))) {
        keys.push(`carried.${m[1]}.${m[2] === "done" ? "mark_done" : "reopen"}`);
      } else if ((m = /^action:(.+):status:(\w+)$/.exec(key)) && node.tagName === "select") {
        for (const option of node.children) {
          const value = option.getAttribute("value") ?? option.value;
          if (value === m[2]) continue;
          if (value === "done") keys.push(`action.${m[1]}.mark_done`);
          if (value === "open") keys.push(`action.${m[1]}.reopen`);
        }
      }
    }
  }
  return [...new Set(keys)].sort();
}

const data = JSON.parse(readFileSync(casesFile, "utf8"));
const out = [];
for (const c of data.cases) {
  const ctx = {
    ...data.base,
    state: c.state,
    user: { ...data.base.user, role: c.role },
    agenda: c.agenda,
    record: c.record || null,
    can: c.can,
  };
  const app = { ctx, ui: {}, compose: false, send() {}, render() {}, alert() {}, announce() {} };
  const nodes = c.state === "ended" ? renderEnded(app) : renderUpcoming(app);
  const text = nodes.flat(Infinity).filter((n) => n instanceof Node).map((n) => n.textContent).join(" ");
  out.push({ name: c.name, shown: offered(nodes), text });
}
console.log(JSON.stringify(out));
