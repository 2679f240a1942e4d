"""The Google Workspace add-on: request verification (`verify`), Card JSON (`cards`, `schema`)."""
