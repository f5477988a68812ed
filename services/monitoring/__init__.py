"""monitoring: readings, hourly energy per device, overconsumption notifications."""
