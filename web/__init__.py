"""web: the single-page app and the server that serves it."""
