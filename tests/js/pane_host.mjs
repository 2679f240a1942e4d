// Reads the appointment through the pane's host module with a stand-in Office that has none
// open, the pane's catalog for a language loaded, and prints the error message the pane shows.
//
// Usage: node tests/js/pane_host.mjs <static dir URL> <catalog JSON file> <language>

import { readFileSync } from "node:fs";

const [staticUrl, catalogFile, lang] = process.argv.slice(2);
const messages = JSON.parse(readFileSync(catalogFile, "utf8"));
globalThis.fetch = async () => ({ ok: true, json: async () => ({ messages }) });
globalThis.window = { Office: { context: { mailbox: { item: null } } } };

const { loadCatalog } = await import(new URL("i18n.js", staticUrl));
const { HostError, readAppointment } = await import(new URL("host.js", staticUrl));
await loadCatalog("/i18n/pane/", lang);
const shown = [];
try {
  await readAppointment();
} catch (error) {
  shown.push(error.message);
}
shown.push(new HostError(undefined).message);
console.log(JSON.stringify(shown));
