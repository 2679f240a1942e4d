// The Office dialog API fallback (Outlook without NestedAppAuth): this page runs in the dialog,
// signs in by redirect with a standard PublicClientApplication and hands the access token to the
// pane with Office.context.ui.messageParent, as Microsoft's Outlook-Add-in-SSO-NAA sample's
// fallback dialog does.

import { consentRequest, interactiveRequest, msalConfig, readConfig } from "./auth.js";
import { loadCatalog, pickLanguage, t } from "./i18n.js";

const body = document.body;

async function tell(message) {
  await window.Office.onReady();
  window.Office.context.ui.messageParent(JSON.stringify(message));
}

async function signIn() {
  const lang = pickLanguage(navigator.language) || body.dataset.lang || "nl";
  await loadCatalog(body.dataset.i18n || "/i18n/pane/", lang);
  document.getElementById("status").textContent = t("Signing you in…");
  const config = readConfig(body);
  if (config.mode !== "entra") {
    await tell({ error: "not_configured" });
    return;
  }
  const msal = await import("@azure/msal-browser");
  const app = await msal.createStandardPublicClientApplication(msalConfig(config, config.dialogUrl));
  try {
    const result = await app.handleRedirectPromise();
    if (result) {
      app.setActiveAccount(result.account);
      if (sessionStorage.getItem("goedgesprek.consent")) {
        // That was the consent (a Graph token, never sent to our API): now our API's token.
        sessionStorage.removeItem("goedgesprek.consent");
        // Fresh: the server's msal repeats a refusal for the same token for a minute.
        const ours = await app.acquireTokenSilent({
          scopes: config.scopes,
          account: result.account,
          forceRefresh: true,
        });
        await tell({ accessToken: ours.accessToken });
        return;
      }
      await tell({ accessToken: result.accessToken });
      return;
    }
  } catch (error) {
    await tell({ error: (error && (error.errorCode || error.name)) || "signin_failed" });
    return;
  }
  const query = new URLSearchParams(window.location.search);
  const kind = query.get("prompt") === "consent" ? "consent" : "signin";
  const request = { ...interactiveRequest(config, kind), redirectUri: config.dialogUrl };
  // Granting Graph permissions the server lacks: consent to them here; the redirect returns to
  // this page without the query, and then the API's own token comes from the cache.
  const consent = kind === "consent" ? consentRequest((query.get("consent") || "").split(" ")) : null;
  if (consent) sessionStorage.setItem("goedgesprek.consent", "1");
  await app.acquireTokenRedirect(consent ? { ...consent, redirectUri: config.dialogUrl } : request);
}

signIn();
