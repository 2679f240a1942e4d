"""Faithful stand-ins for Microsoft Graph and the Google APIs, in their published REST shapes."""
