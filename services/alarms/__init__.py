"""alarms: alarm rules, the alarms they raise and clear, acknowledgements, and who is
told of them (in the app, by e-mail, in a daily digest)."""
