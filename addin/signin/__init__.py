"""Sign-in: who calls the pane and the cards, and the provider tokens kept to act for them later."""
