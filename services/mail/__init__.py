"""mail: sends the platform's e-mail through an SMTP server, from a durable queue."""
