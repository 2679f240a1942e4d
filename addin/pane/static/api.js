// The side-panel JSON API. Every call carries the user's bearer token and ?lang=.

import { t } from "./i18n.js";

/** An answer that is not a success: `status`, `code` (the API's "error"), `message`, `body`. */
export class ApiError extends Error {
  constructor(status, body) {
    super(body && typeof body.message === "string" ? body.message : defaultMessage(status));
    this.status = status;
    this.code = body && body.error ? String(body.error) : `http_${status}`;
    this.body = body || {};
  }
}

function defaultMessage(status) {
  if (status === 0) return t("Could not reach Goed Gesprek. Check your connection and try again.");
  if (status === 401) return t("Your sign-in has expired. Close and reopen the pane.");
  return t("Something went wrong on our side. Try again in a moment.");
}

export class Api {
  /** `base` ("/api"), `lang` ("nl"/"en"), `getToken(refresh)` returns a bearer token. */
  constructor(base, lang, getToken) {
    this.base = base;
    this.lang = lang;
    this.getToken = getToken;
  }

  url(path, query = {}) {
    const params = new URLSearchParams({ ...query, lang: this.lang });
    return `${this.base}${path}?${params}`;
  }

  /** The raw response of an authorised call; retries once with a fresh token after a 401. */
  async fetch(method, path, { query, body, headers } = {}) {
    for (let attempt = 0; attempt < 2; attempt += 1) {
      const token = await this.getToken(attempt > 0);
      const init = {
        method,
        headers: { Accept: "application/json", Authorization: `Bearer ${token}`, ...headers },
        credentials: "omit",
        cache: "no-store",
      };
      if (body !== undefined) {
        init.headers["Content-Type"] = "application/json";
        init.body = JSON.stringify(body);
      }
      let response;
      try {
        response = await fetch(this.url(path, query), init);
      } catch {
        throw new ApiError(0, null);
      }
      if (response.status !== 401 || attempt > 0) return response;
      // Consent the user has not given is not fixed by a fresh token: the pane asks for it.
      if ((await signinOf(response)) === "consent") return response;
    }
    throw new ApiError(401, null);
  }

  /** The JSON answer of a call, or an ApiError. */
  async json(method, path, options) {
    const response = await this.fetch(method, path, options);
    let data = null;
    try {
      data = await response.json();
    } catch {
      data = null;
    }
    if (!response.ok) throw new ApiError(response.status, data);
    return data;
  }

  /** The context of an event; `hints` ({seriesId, start}) help a first open, never decide it. */
  context(event, hints = {}) {
    const query = { event };
    if (hints.seriesId) query.series = hints.seriesId;
    const start = hints.start ? new Date(hints.start) : null;
    if (start && !Number.isNaN(start.getTime())) query.start = start.toISOString();
    return this.json("GET", "/context", { query });
  }

  preview(body) {
    return this.json("POST", "/series/preview", { body });
  }

  createSeries(body) {
    return this.json("POST", "/series", { body });
  }

  endSeries(series) {
    return this.json("POST", `/series/${encodeURIComponent(series)}/end`);
  }

  workingHours() {
    return this.json("GET", "/me/working-hours");
  }

  setWorkingHours(body) {
    return this.json("PUT", "/me/working-hours", { body });
  }

  reminders() {
    return this.json("GET", "/me/reminders");
  }

  hr() {
    return this.json("GET", "/me/hr");
  }

  hrReportLink() {
    return this.json("POST", "/hr/report-link");
  }

  setReminders(body) {
    return this.json("PUT", "/me/reminders", { body });
  }

  patchSeries(series, body) {
    return this.json("PATCH", `/series/${encodeURIComponent(series)}`, { body });
  }

  /**
   * Apply ops to an occurrence; If-Match is the context's etag (left out when it is null).
   * `changeId` names this change on every resend, so one that was applied is never applied twice.
   */
  apply(series, occ, event, ops, etag, changeId) {
    const headers = etag ? { "If-Match": etag } : {};
    const body = { event, ops, change_id: changeId };
    return this.json("POST", occurrencePath(series, occ), { body, headers });
  }

  eventCopy(series, occ) {
    return this.json("GET", `${occurrencePath(series, occ)}/event-copy`);
  }

  /** The caller's whole dossier (zip) as a Blob and its file name. */
  dossier() {
    return this.download("/me/dossier", {}, "dossier.zip");
  }

  /** Erase the series' pair dossier for good; answers the signed receipt. */
  erase(series) {
    return this.json("POST", `/series/${encodeURIComponent(series)}/erase`, { body: { confirm: true } });
  }

  /** The record export as a Blob and its file name. */
  exportRecord(series, occ, format) {
    return this.download(`${occurrencePath(series, occ)}/export`, { format },
      `record.${format === "md" ? "md" : "html"}`);
  }

  async download(path, query, fallback) {
    const response = await this.fetch("GET", path, { query });
    if (!response.ok) {
      let data = null;
      try {
        data = await response.json();
      } catch {
        data = null;
      }
      throw new ApiError(response.status, data);
    }
    const disposition = response.headers.get("Content-Disposition") || "";
    const match = /filename\*?=(?:UTF-8'')?"?([^";]+)"?/i.exec(disposition);
    const name = match ? decodeURIComponent(match[1]) : fallback;
    return { blob: await response.blob(), name };
  }
}

/** What a 401 asks of the user (the API's "signin": "again" or "consent"), if it says. */
async function signinOf(response) {
  try {
    const data = await response.clone().json();
    return data && typeof data.signin === "string" ? data.signin : null;
  } catch {
    return null;
  }
}

/** The sign-in a failed call needs ("signin", "again" or "consent"), or null for other failures. */
export function signinNeeded(error) {
  if (!(error instanceof ApiError) || error.status !== 401) return null;
  const kind = error.body && error.body.signin;
  return kind === "signin" || kind === "again" || kind === "consent" ? kind : null;
}

function occurrencePath(series, occ) {
  return `/series/${encodeURIComponent(series)}/occurrences/${encodeURIComponent(occ)}`;
}
