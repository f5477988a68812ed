"""support: the support chat — rule answers, an AI fallback, and staff replies."""
