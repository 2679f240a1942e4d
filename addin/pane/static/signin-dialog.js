// The Office dialog API fallback (Outlook without NestedAppAuth): this page runs in the dialog,
// signs in by redirect with a standard PublicClientApplication and hands the access token to the
// pane with Office.context.ui.messageParent, as Microsoft's Outlook-Add-in-SSO-NAA sample's
// fallback dialog does.

import { interactiveRequest, msalConfig, readConfig } from "./auth.js";
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
      await tell({ accessToken: result.accessToken });
      return;
    }
  } catch (error) {
    await tell({ error: (error && (error.errorCode || error.name)) || "signin_failed" });
    return;
  }
  const prompt = new URLSearchParams(window.location.search).get("prompt") === "consent" ? "consent" : "signin";
  await app.acquireTokenRedirect({ ...interactiveRequest(config, prompt), redirectUri: config.dialogUrl });
}

signIn();
