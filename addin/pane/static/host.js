// The Office host: the opened appointment, the user's token, and writing the agenda into the
// event in compose mode. Only this module touches Office.js.

import { t } from "./i18n.js";
import { splice } from "./splice.js";

/** An Office call that failed; `code` is Office's error code (e.g. 9057) or name. */
export class HostError extends Error {
  constructor(error) {
    super((error && error.message) || t("Office could not do this."));
    this.code = error ? error.code || error.name : undefined;
  }
}

function office() {
  return window.Office;
}

/** Promise for an Office *Async call: `start(callback)`. */
function call(start) {
  return new Promise((resolve, reject) => {
    start((result) => {
      if (result && result.status === office().AsyncResultStatus.Succeeded) resolve(result.value);
      else reject(new HostError(result && result.error));
    });
  });
}

function item() {
  return office().context.mailbox.item;
}

/** True when the appointment is open for editing (compose), false in read mode. */
export function isCompose() {
  const it = item();
  return Boolean(it && it.subject && typeof it.subject.getAsync === "function");
}

/** Office's display language, e.g. "nl-NL". */
export function displayLanguage() {
  return office().context.displayLanguage || "";
}

function toRestId(id) {
  if (!id) return null;
  const mailbox = office().context.mailbox;
  const enums = office().MailboxEnums;
  if (typeof mailbox.convertToRestId !== "function") return id;
  return mailbox.convertToRestId(id, enums && enums.RestVersion ? enums.RestVersion.v2_0 : "v2.0");
}

function address(details) {
  if (!details) return null;
  return { email: details.emailAddress || "", name: details.displayName || "" };
}

function addresses(list) {
  return (list || []).map(address).filter((a) => a && a.email);
}

/** The opened appointment: {mode, id (REST id or null when unsaved), subject, start, end, organizer, attendees}. */
export async function readAppointment() {
  const it = item();
  if (!it) throw new HostError({ message: t("No appointment is open.") });
  if (!isCompose()) {
    return {
      mode: "read",
      id: toRestId(it.itemId),
      // An occurrence's series master (Mailbox 1.7); with the start it lets the server read the
      // event and its documents at once on a first open.
      seriesId: toRestId(it.seriesId) || null,
      subject: it.subject || "",
      start: it.start || null,
      end: it.end || null,
      organizer: address(it.organizer),
      attendees: [...addresses(it.requiredAttendees), ...addresses(it.optionalAttendees)],
    };
  }
  const get = (field) => (field && field.getAsync ? call((cb) => field.getAsync(cb)) : null);
  const [subject, start, end, organizer, required, optional] = await Promise.all([
    get(it.subject),
    get(it.start),
    get(it.end),
    Promise.resolve(get(it.organizer)).catch(() => null),
    get(it.requiredAttendees),
    get(it.optionalAttendees),
  ]);
  return {
    mode: "compose",
    id: await composeItemId(),
    subject: subject || "",
    start,
    end,
    organizer: address(organizer),
    attendees: [...addresses(required), ...addresses(optional)],
  };
}

/** The compose item's REST id, or null while it was never saved. */
async function composeItemId() {
  const it = item();
  if (typeof it.getItemIdAsync !== "function") return null;
  try {
    return toRestId(await call((cb) => it.getItemIdAsync(cb)));
  } catch {
    return null; // A new, unsaved item has no id yet.
  }
}

/** Save the compose item (so it gets an id); returns its REST id. */
export async function saveItem() {
  const id = await call((cb) => item().saveAsync(cb));
  return toRestId(id) || (await composeItemId());
}

/**
 * The host's own token, for the local identity only (the demo's stub Office host hands it out).
 * In a real Outlook the pane signs in with Entra ID through auth.js instead: Office's legacy SSO
 * (getAccessToken) is not what Microsoft recommends any more.
 */
export async function accessToken() {
  return office().auth.getAccessToken({ allowSignInPrompt: true, allowConsentPrompt: true });
}

/**
 * Write the event copy into the compose form: the body between the markers (the user's own text
 * stays), and the attachment, replacing an earlier one of the same name.
 */
export async function writeEventCopy(copy) {
  const it = item();
  const Office = office();
  const body = await call((cb) => it.body.getAsync(Office.CoercionType.Html, cb));
  const next = splice(body, copy.html, copy.markers);
  await call((cb) => it.body.setAsync(next, { coercionType: Office.CoercionType.Html }, cb));
  const attachment = copy.attachment;
  if (!attachment || typeof it.addFileAttachmentFromBase64Async !== "function") return;
  const existing = await call((cb) => it.getAttachmentsAsync(cb));
  for (const old of existing || []) {
    if (old.name === attachment.name) await call((cb) => it.removeAttachmentAsync(old.id, cb));
  }
  await call((cb) =>
    it.addFileAttachmentFromBase64Async(attachment.base64, attachment.name, { isInline: false }, cb),
  );
}
