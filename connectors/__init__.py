"""Everything that talks to a calendar, a drive or a mail service.

The ports live in `connectors.ports`, the neutral models in `connectors.models`, the error family in
`connectors.errors`. Backends are imported lazily, only when configured.
"""
