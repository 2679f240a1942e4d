"""The Flask add-in: the app factory, the demo, the CLI."""
