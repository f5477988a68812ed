"""dr: demand-response events."""
