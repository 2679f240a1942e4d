// Opens an occurrence through the pane's host and API modules with a stand-in Office in read
// mode, and prints the context URL the pane asks for (the hints it sends on a first open).
//
// Usage: node tests/js/pane_context.mjs <static dir URL>

const [staticUrl] = process.argv.slice(2);
const asked = [];
globalThis.fetch = async (url) => {
  asked.push(String(url));
  return { ok: true, status: 200, json: async () => ({ messages: {} }) };
};
globalThis.window = {
  Office: {
    MailboxEnums: { RestVersion: { v2_0: "v2.0" } },
    context: {
      mailbox: {
        convertToRestId: (id) => `rest:${id}`,
        item: {
          itemType: "appointment",
          itemId: "ews-occurrence",
          seriesId: "ews-master",
          subject: "Goed gesprek",
          start: new Date("2027-03-02T08:30:00Z"),
          end: new Date("2027-03-02T09:30:00Z"),
          organizer: { emailAddress: "ada@example.org", displayName: "Ada" },
          requiredAttendees: [],
          optionalAttendees: [],
        },
      },
    },
  },
};

const { readAppointment } = await import(new URL("host.js", staticUrl));
const { Api } = await import(new URL("api.js", staticUrl));
const item = await readAppointment();
const api = new Api("/api", "nl", async () => "token");
await api.context(item.id, { seriesId: item.seriesId, start: item.start });
await api.context(item.id);
console.log(JSON.stringify(asked));
