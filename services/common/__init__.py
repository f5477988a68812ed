"""What every service shares: topology, database provider, tokens, error types."""
