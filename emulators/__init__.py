"""Faithful stand-ins for Microsoft Graph and the Google APIs: WSGI apps speaking the published REST shapes."""
