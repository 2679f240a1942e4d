// Runs the pane's sign-in module (auth.js) against stand-in Office hosts and prints what it did
// as JSON: the strategy per host, the settings it reads, the local mode, and the Office dialog
// fallback (token handed back, dialog closed by the user, an unreadable message).
//
// Usage: node tests/js/pane_auth.mjs <static dir URL>

const [staticUrl] = process.argv.slice(2);
const auth = await import(new URL("auth.js", staticUrl));

const Succeeded = "succeeded";
const EventType = { DialogMessageReceived: "message", DialogEventReceived: "event" };

/** An Office host whose dialog answers with `answer` ({message} or {error}) once opened. */
function dialogHost(answer, opened) {
  return {
    AsyncResultStatus: { Succeeded, Failed: "failed" },
    EventType,
    context: {
      requirements: { isSetSupported: (name) => name !== "NestedAppAuth" },
      ui: {
        displayDialogAsync(url, options, callback) {
          const handlers = {};
          const dialog = {
            closed: false,
            addEventHandler(type, handler) {
              handlers[type] = handler;
            },
            close() {
              this.closed = true;
            },
          };
          opened.push({ url, options, dialog });
          callback({ status: Succeeded, value: dialog });
          setTimeout(() => {
            if ("message" in answer) handlers.message({ message: answer.message, origin: "x" });
            else handlers.event({ error: answer.error });
          }, 0);
        },
      },
    },
  };
}

const config = {
  mode: "entra",
  clientId: "c",
  authority: "https://login.example/organizations",
  knownAuthorities: ["login.example"],
  scopes: ["api://app.example/c/access_as_user"],
  redirectUri: "https://app.example/pane/signin-done",
  dialogUrl: "https://app.example/pane/signin-dialog",
};

const out = {};
out.strategies = {
  naa: auth.strategy({ context: { requirements: { isSetSupported: (n, v) => n === "NestedAppAuth" && v === "1.1" } } }),
  dialog: auth.strategy(dialogHost({ message: "{}" }, [])),
  popupWithoutOffice: auth.strategy(undefined),
  popupStub: auth.strategy({ context: { requirements: { isSetSupported: () => false } } }),
  throwing: auth.strategy({ context: { requirements: { isSetSupported: () => { throw new Error("old"); } } } }),
};
out.readConfig = [
  auth.readConfig({ dataset: { signin: JSON.stringify(config) } }).mode,
  auth.readConfig({ dataset: { signin: "{not json" } }).mode,
  auth.readConfig({ dataset: {} }).mode,
  auth.readConfig({ dataset: { signin: '{"mode":"other"}' } }).mode,
];
out.msalConfig = auth.msalConfig(config);
out.requests = [auth.interactiveRequest(config, "consent"), auth.interactiveRequest(config, "again")];

out.consent = [
  auth.consentRequest(["Calendars.ReadWrite", "api://x.example/c/access_as_user", "a b", "<x>", 5]),
  auth.consentRequest([]),
  auth.consentRequest(undefined),
];

const consentOpened = [];
const consentHost = dialogHost({ message: JSON.stringify({ accessToken: "T2" }) }, consentOpened);
out.dialogConsent = [
  await auth.createAuth(config, consentHost, null).interactive("consent", ["Mail.Send", "User.Read"]),
  consentOpened[0].url,
];

const local = auth.createAuth({ mode: "local" }, undefined, async () => "host-token");
out.local = [local.mode, await local.token(false), await local.interactive("again")];

const opened = [];
const viaDialog = auth.createAuth(config, dialogHost({ message: JSON.stringify({ accessToken: "T1" }) }, opened), null);
out.dialog = {
  strategy: viaDialog.strategy,
  token: await viaDialog.interactive("consent"),
  again: await viaDialog.token(false),
  url: opened[0].url,
  closed: opened[0].dialog.closed,
};
try {
  await viaDialog.token(true); // a refused token: the dialog's token cannot be refreshed silently
  out.dialog.refresh = "no error";
} catch (error) {
  out.dialog.refresh = [error.name, error.kind];
}

for (const [name, answer] of [
  ["userClosed", { error: 12006 }],
  ["refused", { message: JSON.stringify({ error: "access_denied" }) }],
  ["garbage", { message: "<html>" }],
]) {
  const host = dialogHost(answer, []);
  try {
    await auth.createAuth(config, host, null).interactive("again");
    out[name] = "no error";
  } catch (error) {
    out[name] = [error.name, error.kind, error.message];
  }
}
console.log(JSON.stringify(out));
