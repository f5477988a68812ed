"""The simulator: a reading producer with realistic household load profiles.

``profiles`` says how much energy a device uses, ``publisher`` delivers readings over
AMQP or MQTT until the broker confirms them, ``cli`` is ``ems simulate``.
"""
