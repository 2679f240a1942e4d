// A stand-in for Office.js in the demo and the browser tests, shaped like office-addin-mock's
// mailbox mocks: Office.onReady, Office.context.mailbox.item (read or compose mode) with the
// *Async methods the pane uses, displayLanguage, convertToRestId, auth.getAccessToken and the
// enums. It is backed by the demo routes: GET /demo/item (the appointment in the local store),
// GET /demo/token (the person's token) and POST /demo/item (a compose-mode save).
//
// Query parameters of the page: as=ada|grace (who), event=<id> (the opened event; none in
// compose mode means a new appointment), mode=read|compose, lang=nl|en (display language),
// autosave=0 (compose changes stay in the form until item.saveAsync, as in Outlook; by default
// the demo saves each change at once so the calendar shows it).
(function officeStub() {
  "use strict";

  const params = new URLSearchParams(window.location.search);
  const who = params.get("as") || "ada";
  const mode = params.get("mode") === "compose" ? "compose" : "read";
  const eventId = params.get("event") || "";
  const lang = params.get("lang") === "en" ? "en-US" : "nl-NL";
  const autosave = params.get("autosave") !== "0";

  const Succeeded = "succeeded";
  const Failed = "failed";

  function result(value, asyncContext) {
    return { status: Succeeded, value, error: null, asyncContext };
  }

  function failure(code, name, message, asyncContext) {
    return { status: Failed, value: undefined, error: { code, name, message }, asyncContext };
  }

  /** Call an Office-style callback later, as Office does. */
  function later(callback, outcome) {
    if (typeof callback === "function") setTimeout(() => callback(outcome), 0);
  }

  /** Office's (options, callback) or (callback) argument convention. */
  function split(args) {
    const list = Array.from(args);
    const callback = typeof list[list.length - 1] === "function" ? list.pop() : undefined;
    const options = list.length && typeof list[list.length - 1] === "object" ? list.pop() : {};
    return { list, options: options || {}, callback };
  }

  const state = {
    item: null, // the appointment as /demo/item gives it
    body: "",
    attachments: [], // {id, name, contentType, size, base64?, saved}
    dirty: false,
    newKey: null,
  };

  function newAppointment() {
    const start = new Date();
    start.setUTCDate(start.getUTCDate() + 7);
    start.setUTCHours(9, 0, 0, 0);
    const end = new Date(start.getTime() + 60 * 60 * 1000);
    const attendee = params.get("with");
    return {
      id: "",
      subject: params.get("subject") || "",
      start: start.toISOString(),
      end: end.toISOString(),
      tz: "Europe/Amsterdam",
      organizer: { email: "", name: "" },
      attendees: attendee ? [{ email: attendee, name: "" }] : [],
      location: "",
      body_html: "",
      etag: "",
      attachments: [],
    };
  }

  function load(data) {
    state.item = data;
    state.body = data.body_html || "";
    state.attachments = (data.attachments || []).map((a) => ({
      id: a.id, name: a.name, contentType: a.content_type, size: a.size, saved: true,
    }));
    state.dirty = false;
  }

  async function fetchItem() {
    const id = (state.item && state.item.id) || eventId;
    if (!id) {
      load(newAppointment());
      return;
    }
    const url = `/demo/item?event=${encodeURIComponent(id)}&as=${encodeURIComponent(who)}`;
    const response = await fetch(url, { headers: { Accept: "application/json" }, cache: "no-store" });
    if (!response.ok) throw new Error(`The demo could not open event ${id}.`);
    load(await response.json());
  }

  function randomKey() {
    return Array.from(crypto.getRandomValues(new Uint8Array(16)),
      (b) => b.toString(16).padStart(2, "0")).join("");
  }

  /** POST the compose form to the local store; resolves to the saved item. */
  async function save() {
    const payload = { as: who, event: state.item.id || null };
    const headers = { "Content-Type": "application/json", Accept: "application/json" };
    if (!state.item.id) {
      state.newKey = state.newKey || randomKey();
      payload.key = state.newKey;
      payload.new = {
        subject: state.item.subject,
        start: state.item.start,
        end: state.item.end,
        tz: state.item.tz,
        attendees: state.item.attendees.map((a) => a.email),
        body_html: state.body,
        location: state.item.location,
      };
    } else {
      payload.body_html = state.body;
      if (state.item.etag) headers["If-Match"] = state.item.etag;
    }
    payload.attachments = state.attachments.filter((a) => !a.saved).map((a) => ({
      name: a.name, content_type: a.contentType, base64: a.base64,
    }));
    const response = await fetch("/demo/item", { method: "POST", headers, body: JSON.stringify(payload) });
    const data = await response.json();
    if (!response.ok) throw new Error(data.message || "The demo could not save the event.");
    load(data);
    return data;
  }

  function autosaveThen(callback, value, asyncContext) {
    if (!autosave || !state.item.id) {
      state.dirty = true;
      later(callback, result(value, asyncContext));
      return;
    }
    save().then(
      () => later(callback, result(value, asyncContext)),
      (error) => later(callback, failure(9002, "InternalError", error.message, asyncContext)),
    );
  }

  function emailDetails(address) {
    return {
      emailAddress: address.email,
      displayName: address.name || address.email,
      recipientType: "user",
      appointmentResponse: address.response || "none",
    };
  }

  /** A compose-mode property: getAsync (and setAsync where Outlook has it). */
  function property(read, write) {
    const prop = {
      getAsync() {
        const { options, callback } = split(arguments);
        later(callback, result(read(), options.asyncContext));
      },
    };
    if (write) {
      prop.setAsync = function setAsync(value) {
        const { options, callback } = split(Array.from(arguments).slice(1));
        write(value);
        later(callback, result(undefined, options.asyncContext));
      };
    }
    return prop;
  }

  function composeItem() {
    const it = () => state.item; // load() replaces it after a save or refresh
    return {
      itemType: "appointment",
      subject: property(() => it().subject, (v) => { it().subject = String(v); }),
      start: property(() => new Date(it().start), (v) => { it().start = new Date(v).toISOString(); }),
      end: property(() => new Date(it().end), (v) => { it().end = new Date(v).toISOString(); }),
      location: property(() => it().location, (v) => { it().location = String(v); }),
      organizer: property(() => emailDetails(it().organizer)),
      requiredAttendees: property(() => it().attendees.map(emailDetails)),
      optionalAttendees: property(() => []),
      body: {
        getAsync(coercionType) {
          const { options, callback } = split(Array.from(arguments).slice(1));
          // With autosave the form mirrors the calendar, so read what it holds now (the server
          // may have written the agreed agenda into the event since the pane opened).
          const fresh = autosave && it().id && !state.dirty ? fetchItem() : Promise.resolve();
          fresh.then(() => {
            const body = state.body;
            const text = coercionType === "text" ? body.replace(/<[^>]*>/g, "") : body;
            later(callback, result(text, options.asyncContext));
          }, (error) => later(callback, failure(9002, "InternalError", error.message, options.asyncContext)));
        },
        setAsync(data) {
          const { options, callback } = split(Array.from(arguments).slice(1));
          state.body = String(data);
          autosaveThen(callback, undefined, options.asyncContext);
        },
        getTypeAsync() {
          const { options, callback } = split(arguments);
          later(callback, result("html", options.asyncContext));
        },
      },
      getItemIdAsync() {
        const { options, callback } = split(arguments);
        if (!it().id) later(callback, failure(9057, "ItemNotSaved", "The item is not saved yet.", options.asyncContext));
        else later(callback, result(it().id, options.asyncContext));
      },
      saveAsync() {
        const { options, callback } = split(arguments);
        save().then(
          (data) => later(callback, result(data.id, options.asyncContext)),
          (error) => later(callback, failure(9002, "InternalError", error.message, options.asyncContext)),
        );
      },
      getAttachmentsAsync() {
        const { options, callback } = split(arguments);
        const list = state.attachments.map((a) => ({
          id: a.id, name: a.name, contentType: a.contentType, size: a.size,
          attachmentType: "file", isInline: false,
        }));
        later(callback, result(list, options.asyncContext));
      },
      addFileAttachmentFromBase64Async(base64, name) {
        const { options, callback } = split(Array.from(arguments).slice(2));
        const id = `stub-${randomKey()}`;
        const size = Math.floor((String(base64).length * 3) / 4);
        const contentType = name.endsWith(".html") ? "text/html" : "application/octet-stream";
        state.attachments.push({ id, name, contentType, size, base64, saved: false });
        autosaveThen(callback, id, options.asyncContext);
      },
      removeAttachmentAsync(attachmentId) {
        const { options, callback } = split(Array.from(arguments).slice(1));
        const before = state.attachments.length;
        state.attachments = state.attachments.filter((a) => a.id !== attachmentId);
        if (state.attachments.length === before) {
          later(callback, failure(9010, "InvalidAttachmentId", "No such attachment.", options.asyncContext));
        } else later(callback, result(undefined, options.asyncContext));
      },
    };
  }

  function readItem() {
    const it = state.item;
    return {
      itemType: "appointment",
      itemId: it.id,
      seriesId: it.series_id || null,
      subject: it.subject,
      start: new Date(it.start),
      end: new Date(it.end),
      location: it.location,
      organizer: emailDetails(it.organizer),
      requiredAttendees: it.attendees.map(emailDetails),
      optionalAttendees: [],
      attachments: state.attachments.map((a) => ({
        id: a.id, name: a.name, contentType: a.contentType, size: a.size,
        attachmentType: "file", isInline: false,
      })),
      body: {
        getAsync(coercionType) {
          const { options, callback } = split(Array.from(arguments).slice(1));
          const text = coercionType === "text" ? state.body.replace(/<[^>]*>/g, "") : state.body;
          later(callback, result(text, options.asyncContext));
        },
      },
    };
  }

  const mailbox = {
    item: null,
    userProfile: { emailAddress: "", displayName: "", timeZone: "Europe/Amsterdam" },
    // The demo's ids are already what the API wants.
    convertToRestId(itemId) { return itemId; },
    convertToEwsId(itemId) { return itemId; },
  };

  let ready = null;

  function start() {
    if (!ready) {
      ready = (async () => {
        await fetchItem();
        mailbox.item = mode === "compose" ? composeItem() : readItem();
        const token = await getToken();
        const claims = JSON.parse(atob(token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/")));
        mailbox.userProfile.emailAddress = claims.email || "";
        mailbox.userProfile.displayName = claims.name || "";
        return { host: "Outlook", platform: "OfficeOnline" };
      })();
    }
    return ready;
  }

  async function getToken() {
    const response = await fetch(`/demo/token?as=${encodeURIComponent(who)}`, {
      headers: { Accept: "application/json" },
    });
    const data = await response.json();
    if (!response.ok) throw { code: 13001, name: "NotSignedIn", message: data.message };
    return data.token;
  }

  window.Office = {
    AsyncResultStatus: { Succeeded, Failed },
    CoercionType: { Html: "html", Text: "text" },
    HostType: { Outlook: "Outlook" },
    PlatformType: { OfficeOnline: "OfficeOnline" },
    MailboxEnums: {
      ItemType: { Message: "message", Appointment: "appointment" },
      RestVersion: { v1_0: "v1.0", v2_0: "v2.0", Beta: "beta" },
      AttachmentType: { File: "file", Item: "item", Cloud: "cloud" },
    },
    context: {
      displayLanguage: lang,
      mailbox,
      // No nested app auth bridge here: with Entra sign-in configured, msal-browser uses a popup.
      requirements: { isSetSupported: (name) => name !== "NestedAppAuth" },
    },
    auth: {
      getAccessToken() { return start().then(getToken); },
    },
    onReady(callback) {
      const promise = start();
      if (typeof callback === "function") promise.then(callback);
      return promise;
    },
  };

  // For the host preview and the tests: the stub's state and a compose-mode save.
  window.OfficeStub = { state, save, who, mode };
})();
