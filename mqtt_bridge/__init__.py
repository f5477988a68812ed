"""The MQTT bridge: device readings from Mosquitto to the ``ems.data`` exchange.

Run as ``python -m mqtt_bridge``; settings in ``config/mqtt_bridge.yaml``. How a
reading travels and what is guaranteed is told in ``mqtt_bridge/bridge.py``.
"""
