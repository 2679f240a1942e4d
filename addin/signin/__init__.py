"""Sign-in: who calls the pane and the cards, and the provider tokens kept to act for them later."""

GRAPH_PERMISSIONS = (
    "Calendars.ReadWrite",  # the series' events in both partners' calendars
    "Files.ReadWrite.AppFolder",  # the sealed records in the app's OneDrive folder
    "Mail.Send",  # invitations and reminders (send only: no mailbox is read)
    "User.Read",  # the signed-in person's profile
    "User.Read.All",  # their manager (GET /users/{id}/manager)
    "MailboxSettings.Read",  # time zone and working hours
)
"""The delegated Graph permissions the exchange asks for (one list for the server, the emulator
CLI and the deployment guide); msal adds ``offline_access``, ``openid`` and ``profile`` itself.

Short names mean Microsoft Graph, and the token endpoint answers Graph's scopes in that form:
asking in the same form lets msal's cache match its tokens to later requests (a URI form would
miss, and every silent call would spend the refresh token)."""
