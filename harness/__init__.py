"""The platform's test harness: throw-away installations (``stack``), RabbitMQ of
their own (``broker``), clients as devices and browsers talk to them (``clients``),
readings (``readings``), forged tokens (``tokens``) and stand-ins for outside
services (``fakes``). Tests and benchmarks import it; the platform never does, and
it is not installed with it."""
