"""trading: the peer-to-peer energy market."""
