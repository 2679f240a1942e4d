"""Work that runs when nobody has the panel open: the sweep, its ledger, the mails it sends."""
