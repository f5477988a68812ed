"""auth: credentials, access tokens, and the ForwardAuth check Traefik calls."""
