"""batteries: battery storage, optimal schedules."""
