"""The support and privacy pages the manifests point at (`/support`, `/privacy`), nl and en.

The templates are written for gettext: English source text in `_()` and `{% set domain = "site" %}`
at the top. Until the `site` catalog holds their Dutch, `_NL` below does (English msgid -> Dutch)
and the views pass their own `_`. Moving to the catalog: copy `_NL` into
`translations/nl/LC_MESSAGES/site.po`, then drop `_NL` and the `_=` argument of `_render`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping

from flask import Blueprint, Flask, current_app, render_template, request
from werkzeug.wrappers import Response

from addin.i18n import pick_locale
from addin.manifest import GOOGLE_SCOPES

bp = Blueprint("support", __name__)

_EMAIL = re.compile(r"[^@\s<>\"']+@[^@\s<>\"']+\.[^@\s<>\"']+")

_NL: Mapping[str, str] = {
    "Goed Gesprek: help": "Goed Gesprek: hulp",
    "Goed Gesprek: privacy": "Goed Gesprek: privacy",
    "Language": "Taal",
    "Pages": "Pagina's",
    "Help": "Hulp",
    "Privacy": "Privacy",
    # support.html
    "Goed Gesprek supports the good conversation (het goede gesprek): the regular 1:1 in which "
    "the employee leads and the manager prepares, agrees and follows up. It works in the meeting "
    "itself, in Outlook and in Google Calendar.": "Goed Gesprek ondersteunt het goede gesprek: "
    "het vaste 1-op-1-gesprek waarin de medewerker de regie heeft en de leidinggevende "
    "voorbereidt, afspraken maakt en opvolgt. Het werkt in de afspraak zelf, in Outlook en in "
    "Google Agenda.",
    "In Outlook": "In Outlook",
    "Open the meeting with your conversation partner, or create a new one.": "Open de afspraak "
    "met je gesprekspartner, of maak een nieuwe.",
    "Choose Goed Gesprek on the ribbon of the meeting (in Outlook on the web: under Apps). The "
    "side panel opens beside the meeting.": "Kies Goed Gesprek in het lint van de afspraak (in "
    "Outlook op het web: onder Apps). Het zijpaneel opent naast de afspraak.",
    "Pin the side panel to keep it open while you go from one meeting to the next.": "Maak het "
    "zijpaneel vast, dan blijft het open als je van de ene afspraak naar de andere gaat.",
    "In Google Calendar": "In Google Agenda",
    "Open the event with your conversation partner.": "Open de afspraak met je gesprekspartner.",
    "Choose the Goed Gesprek icon in the side panel on the right.": "Kies het pictogram van Goed "
    "Gesprek in het zijpaneel rechts.",
    "What the side panel does": "Wat het zijpaneel doet",
    "Plan the series: a conversation every quarter, at a time that fits both calendars.": "De "
    "reeks plannen: elk kwartaal een gesprek, op een tijd die in beide agenda's past.",
    "Agree the agenda: the employee sets it, the manager may propose items, then you agree it "
    "together.": "De agenda afspreken: de medewerker stelt hem op, de leidinggevende kan "
    "agendapunten voorstellen, daarna spreken jullie hem samen af.",
    "Prepare: the previous agreements, the open actions and questions for feedback and "
    "feedforward.": "Voorbereiden: de vorige afspraken, de open actiepunten en vragen voor "
    "terugblik en vooruitblik.",
    "After the conversation: write the record per agenda item, with agreements and actions. "
    "Agreements are final once both of you accept them.": "Na het gesprek: het verslag per "
    "agendapunt schrijven, met afspraken en actiepunten. Afspraken zijn definitief zodra jullie "
    "allebei akkoord geven.",
    "Common questions": "Veelgestelde vragen",
    "I do not see Goed Gesprek in my calendar.": "Ik zie Goed Gesprek niet in mijn agenda.",
    "Your organisation's administrator installs Goed Gesprek for you. Ask them whether it has "
    "been made available to you; after that it can take a few hours to appear.": "De beheerder "
    "van je organisatie installeert Goed Gesprek voor je. Vraag of het voor jou beschikbaar is "
    "gemaakt; daarna kan het een paar uur duren voordat je het ziet.",
    "Who can read the agenda?": "Wie kan de agenda lezen?",
    "The copy of the agenda in the calendar event can be read by anyone who can see either of "
    "your calendars. In the checklist of agreements you choose whether the event shows the full "
    "agenda items or only the theme titles. The record is never put in the event.": "De kopie "
    "van de agenda in de afspraak is te lezen voor iedereen die een van jullie agenda's kan "
    "zien. In de afsprakenkaart kiezen jullie of de afspraak de volledige agendapunten toont of "
    "alleen de titels van de thema's. Het verslag komt nooit in de afspraak.",
    "Does HR see what we discussed?": "Ziet HR wat we besproken hebben?",
    "No. HR can see whether conversations take place, never what is in the agenda or the "
    "record.": "Nee. HR kan zien of gesprekken plaatsvinden, nooit wat er in de agenda of het "
    "verslag staat.",
    "Contact": "Contact",
    "Questions or problems? Write to the support address:": "Vragen of problemen? Schrijf naar "
    "het supportadres:",
    "Questions or problems? Contact your organisation's IT service desk.": "Vragen of "
    "problemen? Neem contact op met de IT-servicedesk van je organisatie.",
    "Privacy: what is stored where": "Privacy: wat wordt waar bewaard",
    # privacy.html
    "What Goed Gesprek stores, where it is kept and who can see it.": "Wat Goed Gesprek "
    "opslaat, waar het bewaard wordt en wie het kan zien.",
    "The content of your conversations": "De inhoud van jullie gesprekken",
    "The agenda, the preparation, the record, the agreements, the actions and who accepted what "
    "are kept in the drive of the person who owns the series: in Goed Gesprek's own app folder "
    "in OneDrive, or in a folder that Goed Gesprek created in Google Drive.": "De agenda, de "
    "voorbereiding, het verslag, de afspraken, de actiepunten en wie waarop akkoord gaf, staan "
    "in de opslag van degene van wie de reeks is: in de eigen app-map van Goed Gesprek in "
    "OneDrive, of in een map die Goed Gesprek in Google Drive heeft gemaakt.",
    "Every document is encrypted (AES-256-GCM) before it is written. The content never rests "
    "unencrypted on the Goed Gesprek server.": "Elk document wordt versleuteld (AES-256-GCM) "
    "voordat het wordt weggeschreven. De inhoud staat nooit onversleuteld op de server van Goed "
    "Gesprek.",
    "Both conversation partners see the same content through the side panel. Goed Gesprek "
    "shares it with no one else.": "Beide gesprekspartners zien via het zijpaneel dezelfde "
    "inhoud. Goed Gesprek deelt die met niemand anders.",
    "The copy of the agenda in the calendar event": "De kopie van de agenda in de afspraak",
    "The agreed agenda is also written into the meeting, so both of you have it at hand. Anyone "
    "who can see either of your calendars can read it. In the checklist of agreements you "
    "choose whether the event shows the full agenda items or only the theme titles.": "De "
    "afgesproken agenda komt ook in de afspraak zelf, zodat jullie hem allebei bij de hand "
    "hebben. Iedereen die een van jullie agenda's kan zien, kan hem lezen. In de afsprakenkaart "
    "kiezen jullie of de afspraak de volledige agendapunten toont of alleen de titels van de "
    "thema's.",
    "The record, the agreements and the actions are never written into the event.": "Het "
    "verslag, de afspraken en de actiepunten komen nooit in de afspraak.",
    "Goed Gesprek also keeps its own reference numbers in hidden properties of the event, so "
    "the side panel recognises the series. They contain no content.": "Goed Gesprek bewaart ook "
    "eigen kenmerken in verborgen eigenschappen van de afspraak, zodat het zijpaneel de reeks "
    "herkent. Daar staat geen inhoud in.",
    "What the Goed Gesprek server stores": "Wat de server van Goed Gesprek opslaat",
    "Your account: who you are and which calendar service you use.": "Je account: wie je bent "
    "en welke agendadienst je gebruikt.",
    "The sign-in tokens that let Goed Gesprek act for you while you are not using it "
    "(reminders, delivering a record), encrypted.": "De aanmeldtokens waarmee Goed Gesprek voor "
    "je kan handelen als je het niet gebruikt (herinneringen, een verslag afleveren), "
    "versleuteld.",
    "The register of series: the two conversation partners, the rhythm, who owns the series, "
    "the calendar ids of the meetings and where in the drive the documents are.": "Het register "
    "van reeksen: de twee gesprekspartners, het ritme, van wie de reeks is, de kenmerken van de "
    "afspraken in de agenda en waar in de opslag de documenten staan.",
    "A log of the reminders and prompts that were sent, so that none is sent twice.": "Een "
    "logboek van de verstuurde herinneringen en verzoeken, zodat er geen twee keer wordt "
    "verstuurd.",
    "A record that could not be delivered to the drive yet, encrypted, until the drive can be "
    "reached again.": "Een verslag dat nog niet in de opslag kon worden afgeleverd, versleuteld, "
    "tot die weer bereikbaar is.",
    "The keys that encrypt the documents are held by the organisation that runs Goed Gesprek, "
    "apart from the documents themselves.": "De sleutels waarmee de documenten versleuteld zijn, "
    "beheert de organisatie die Goed Gesprek draait, los van de documenten zelf.",
    "Who sees what": "Wie ziet wat",
    "You and your conversation partner: everything about your own conversations.": "Jij en je "
    "gesprekspartner: alles over jullie eigen gesprekken.",
    "HR: whether conversations take place (the rhythm), never what is in them.": "HR: of "
    "gesprekken plaatsvinden (het ritme), nooit wat erin staat.",
    "Permissions Goed Gesprek asks for": "Toestemmingen die Goed Gesprek vraagt",
    "The meeting that is open in Outlook (ReadWriteItem): to read its date and participants and "
    "to write the agreed agenda into it.": "De afspraak die in Outlook open staat "
    "(ReadWriteItem): om de datum en deelnemers te lezen en de afgesproken agenda erin te "
    "schrijven.",
    "Its own app folder in your OneDrive (Files.ReadWrite.AppFolder), for the encrypted "
    "documents. The rest of your OneDrive stays out of reach.": "Een eigen app-map in je "
    "OneDrive (Files.ReadWrite.AppFolder), voor de versleutelde documenten. De rest van je "
    "OneDrive blijft buiten bereik.",
    "Run as an add-on in Google Calendar.": "Werken als invoegtoepassing in Google Agenda.",
    "Read the event you have open, such as its participants.": "De afspraak lezen die je open "
    "hebt, zoals de deelnemers.",
    "Write the agreed agenda into the event you are editing.": "De afgesproken agenda schrijven "
    "in de afspraak die je bewerkt.",
    "Create the series in your own calendar and read your copy of its meetings. Calendars you "
    "do not own stay out of reach.": "De reeks in je eigen agenda maken en jouw kopie van de "
    "afspraken lezen. Agenda's die niet van jou zijn, blijven buiten bereik.",
    "See when your conversation partner is free or busy, to plan a time that fits you both. Not "
    "what is in their calendar.": "Zien wanneer je gesprekspartner vrij of bezet is, om een tijd "
    "te plannen die jullie allebei past. Niet wat er in diens agenda staat.",
    "Keep the encrypted documents in a folder Goed Gesprek creates. The rest of your Drive "
    "stays out of reach.": "De versleutelde documenten bewaren in een map die Goed Gesprek "
    "maakt. De rest van je Drive blijft buiten bereik.",
    "Know your email address, to recognise you as the employee or the manager of a pair.": "Je "
    "e-mailadres kennen, om je te herkennen als medewerker of leidinggevende van een duo.",
    "Goed Gesprek does not ask to read or send your email.": "Goed Gesprek vraagt niet om je "
    "e-mail te lezen of te versturen.",
    "Other parties": "Andere partijen",
    "Microsoft or Google keeps your calendar and your drive, as it already does. In Outlook the "
    "side panel loads Microsoft's Office library from Microsoft. Goed Gesprek uses no "
    "advertising or analytics and sells no data.": "Microsoft of Google bewaart je agenda en je "
    "opslag, zoals nu al. In Outlook laadt het zijpaneel de Office-bibliotheek van Microsoft bij "
    "Microsoft. Goed Gesprek gebruikt geen advertenties of analysediensten en verkoopt geen "
    "gegevens.",
    "Your rights": "Jouw rechten",
    "The organisation that runs Goed Gesprek is responsible for this data. Ask them to see, "
    "correct or delete what is stored about you. The documents in your own drive you can delete "
    "yourself at any time.": "De organisatie die Goed Gesprek draait, is verantwoordelijk voor "
    "deze gegevens. Vraag haar om in te zien, te verbeteren of te verwijderen wat er over jou is "
    "opgeslagen. De documenten in je eigen opslag kun je altijd zelf verwijderen.",
    "Questions about privacy? Write to:": "Vragen over privacy? Schrijf naar:",
}
"""The Dutch of every text in support.html and privacy.html, keyed by its English source."""


def translator(locale: str) -> Callable[..., str]:
    """The `_` the templates call: Dutch from `_NL` for nl, the English source text otherwise."""

    def gettext(msgid: str, **params: object) -> str:
        text = _NL.get(msgid, msgid) if locale == "nl" else msgid
        return text % params if params else text

    return gettext


def _locale() -> str:
    """`?lang=`, else the browser's Accept-Language, else the deployment's default language."""
    settings = current_app.extensions.get("goedgesprek.settings")
    default = getattr(settings, "default_locale", "nl")
    return pick_locale(
        request.args.get("lang"),
        request.headers.get("Accept-Language"),
        default if default in ("nl", "en") else "nl",
    )


def _support_email() -> str | None:
    """The support address from `GOEDGESPREK_SUPPORT_EMAIL`, if it looks like one."""
    value = str(current_app.config.get("SUPPORT_EMAIL") or "").strip()
    return value if _EMAIL.fullmatch(value) else None


def _render(template: str) -> Response:
    locale = _locale()
    html = render_template(
        template,
        locale=locale,
        endpoint=request.endpoint,
        support_email=_support_email(),
        google_scopes=GOOGLE_SCOPES,
        _=translator(locale),
    )
    response = Response(html, mimetype="text/html")
    response.headers["Content-Language"] = locale
    response.vary.add("Accept-Language")
    return response


@bp.get("/support")
def support() -> Response:
    """How to open and use the side panel in Outlook and Google Calendar, and whom to ask."""
    return _render("support.html")


@bp.get("/privacy")
def privacy() -> Response:
    """What is stored where, who sees what, and which permissions are asked for and why."""
    return _render("privacy.html")


def init_app(app: Flask) -> None:
    """Serve `/support` and `/privacy`."""
    app.register_blueprint(bp)
