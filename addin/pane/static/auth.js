// Sign-in: the token the pane sends to our API. The server says how (the page's data-signin):
//   - "local": the host hands the token (the demo's stub Office host, one machine);
//   - "entra": an access token for OUR API (never Graph's, never the ID token) from Entra ID
//     through msal-browser, as Microsoft's Outlook NAA samples do (office-add-in-samples,
//     Samples/auth/Outlook-Add-in-SSO-NAA):
//       * Outlook with NestedAppAuth 1.1: createNestablePublicClientApplication, acquireTokenSilent,
//         falling back to acquireTokenPopup (the host opens the popup);
//       * Outlook without it: the Office dialog API opens our /pane/signin-dialog page, which
//         signs in with a standard PublicClientApplication and hands the token back;
//       * a plain browser (the preview, tests): a standard PublicClientApplication popup.
//
// msal-browser 4, not 5: version 5's popups need a redirect-bridge page that posts the answer
// back; version 4 reads it from the popup's URL on our origin (the blank /pane/signin-done).
// msal-browser is loaded only in "entra" mode, through the page's import map.

import { t } from "./i18n.js";

/**
 * The user has to act before the pane gets a token: `kind` is "signin" (never signed in here),
 * "again" (the sign-in no longer works) or "consent" (access not granted yet).
 */
export class SigninRequired extends Error {
  constructor(kind, reason) {
    super(reason || kind);
    this.name = "SigninRequired";
    this.kind = kind;
  }
}

/** The sign-in settings the server put in the page (`data-signin`); "local" when absent. */
export function readConfig(element) {
  try {
    const config = JSON.parse((element && element.dataset.signin) || "{}");
    if (config && config.mode === "entra") return config;
  } catch {
    // Unreadable settings: the local identity, which the server refuses when it wants Entra.
  }
  return { mode: "local" };
}

/** How this host can sign in: "naa", "dialog" or "popup". */
export function strategy(office) {
  const context = office && office.context;
  const requirements = context && context.requirements;
  try {
    if (requirements && requirements.isSetSupported("NestedAppAuth", "1.1")) return "naa";
  } catch {
    // An older Office.js without the requirement set.
  }
  if (context && context.ui && typeof context.ui.displayDialogAsync === "function") return "dialog";
  return "popup";
}

/** msal-browser's configuration for the server's settings (`redirectUri`: the page msal returns to). */
export function msalConfig(config, redirectUri) {
  return {
    auth: {
      clientId: config.clientId,
      authority: config.authority,
      knownAuthorities: config.knownAuthorities || [],
      redirectUri: redirectUri || config.redirectUri,
      navigateToLoginRequestUrl: false,
    },
    // As Microsoft's NAA sample: the account stays known when the pane is opened again.
    cache: { cacheLocation: "localStorage" },
  };
}

/** The interactive request for `kind`: consent asks for it; a sign-in lets the user pick again. */
export function interactiveRequest(config, kind) {
  return { scopes: config.scopes, prompt: kind === "consent" ? "consent" : "select_account" };
}

const GRAPH = "https://graph.microsoft.com/";

/**
 * The request that lets the user grant what the server's on-behalf-of exchange lacks: the API
 * lists Graph permissions ("Calendars.ReadWrite"); a bare name is Graph's, as Entra reads it.
 * Entra issues tokens for one resource a request, so this is a request of its own for Graph;
 * its token is not used (the pane sends our API only its own token). No `prompt: "consent"`:
 * Entra then asks only for what is not granted yet, so permissions only an admin may grant
 * (and has) do not stop the user (a forced consent would, with AADSTS90094).
 */
export function consentRequest(scopes) {
  const names = (Array.isArray(scopes) ? scopes : [])
    .filter((s) => typeof s === "string" && /^[\w.:/-]+$/.test(s))
    .map((s) => (s.includes("/") ? s : GRAPH + s));
  return names.length ? { scopes: names } : null;
}

function reasonOf(error) {
  return (error && (error.errorMessage || error.message)) || String(error);
}

/**
 * The pane's sign-in: `token(refresh)` resolves to a bearer token or throws SigninRequired;
 * `interactive(kind)` runs the interactive flow (from a click) and resolves to a token.
 * `hostToken()` is the host's own token, used in "local" mode.
 */
export function createAuth(config, office, hostToken) {
  if (config.mode !== "entra") {
    return {
      mode: "local",
      token: () => hostToken(),
      interactive: () => hostToken(),
    };
  }
  const how = strategy(office);
  let pca = null;
  let msal = null;
  let dialogToken = null; // the dialog's token; the pane has no msal cache of its own then

  async function client() {
    if (!pca) {
      msal = await import("@azure/msal-browser");
      const settings = msalConfig(config);
      pca = how === "naa"
        ? await msal.createNestablePublicClientApplication(settings)
        : await msal.createStandardPublicClientApplication(settings);
    }
    return pca;
  }

  function remember(app, result) {
    if (result && result.account) app.setActiveAccount(result.account);
    return result.accessToken;
  }

  function accountOf(app) {
    return app.getActiveAccount() || app.getAllAccounts()[0] || null;
  }

  function viaDialog(kind, scopes) {
    const Office = office;
    const url = new URL(config.dialogUrl);
    url.searchParams.set("prompt", interactiveRequest(config, kind).prompt);
    const consent = kind === "consent" ? consentRequest(scopes) : null;
    if (consent) url.searchParams.set("consent", consent.scopes.join(" "));
    return new Promise((resolve, reject) => {
      Office.context.ui.displayDialogAsync(url.toString(), { height: 60, width: 30 }, (opened) => {
        if (opened.status !== Office.AsyncResultStatus.Succeeded) {
          reject(new SigninRequired(kind, opened.error && opened.error.message));
          return;
        }
        const dialog = opened.value;
        // 12006: the user closed the dialog (Office's DialogEventReceived codes).
        dialog.addEventHandler(Office.EventType.DialogEventReceived, () => {
          reject(new SigninRequired(kind, t("The sign-in window was closed.")));
        });
        dialog.addEventHandler(Office.EventType.DialogMessageReceived, (arg) => {
          dialog.close();
          let answer = {};
          try {
            answer = JSON.parse(arg.message);
          } catch {
            answer = { error: "unreadable" };
          }
          if (answer.accessToken) resolve(answer.accessToken);
          else reject(new SigninRequired(kind, answer.error));
        });
      });
    });
  }

  return {
    mode: "entra",
    strategy: how,

    async token(refresh) {
      if (dialogToken && !refresh) return dialogToken;
      if (how === "dialog" && dialogToken) throw new SigninRequired("again");
      const app = await client();
      const account = accountOf(app);
      // Never signed in here: the user clicks "Sign in" (a popup needs a click); NAA asks Outlook.
      if (!account && how !== "naa") throw new SigninRequired("signin");
      const request = { scopes: config.scopes, forceRefresh: Boolean(refresh) };
      if (account) request.account = account;
      // The cache, then the refresh token; no hidden iframe (an add-in's frames lose the
      // sign-in cookies, and the page's CSP frames only our own origin): the user signs in.
      if (how !== "naa") request.cacheLookupPolicy = msal.CacheLookupPolicy.AccessTokenAndRefreshToken;
      try {
        return remember(app, await app.acquireTokenSilent(request));
      } catch (error) {
        // A known account whose silent token fails: revoked, expired, or a policy wants more.
        const kind = account ? "again" : "signin";
        if (how !== "naa") throw new SigninRequired(kind, reasonOf(error));
        // As Microsoft's NAA sample: fall back to acquireTokenPopup, which Outlook opens itself.
        try {
          return remember(app, await app.acquireTokenPopup(interactiveRequest(config, kind)));
        } catch (popupError) {
          throw new SigninRequired(kind, reasonOf(popupError));
        }
      }
    },

    async interactive(kind, scopes) {
      if (how === "dialog") {
        dialogToken = await viaDialog(kind, scopes);
        return dialogToken;
      }
      const app = await client();
      const consent = kind === "consent" ? consentRequest(scopes) : null;
      try {
        if (consent) {
          // One popup (the click's): the user grants the missing permissions; then a fresh
          // token for our API from the refresh token. Fresh, because msal (Python) on the server
          // answers a request it saw refused (HTTP 400) with that refusal for 60 seconds.
          remember(app, await app.acquireTokenPopup(consent));
          return await this.token(true);
        }
        return remember(app, await app.acquireTokenPopup(interactiveRequest(config, kind)));
      } catch (error) {
        if (error instanceof SigninRequired) throw error;
        throw new SigninRequired(kind, reasonOf(error));
      }
    },
  };
}
