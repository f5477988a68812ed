"""What a Mosquitto 2.0 broker keeps of acknowledged QoS 1 messages when it is killed.

The experiment behind the choice of RabbitMQ's MQTT plugin over Mosquitto and a
bridge (benchmarks/README.md, "MQTT ingest"): a private Mosquitto (``persistence
true``, unlimited queue) holds a persistent subscriber session, as a bridge's would
be while the bridge is down; a device publishes N readings with QoS 1 and gets a
PUBACK for each; the broker is killed (SIGKILL) and started again; the subscriber
comes back and counts what it receives. Mosquitto writes its persistence file only
at ``autosave_interval`` or on a clean shutdown, so what it acknowledged since the
last save is gone.

    .venv/bin/python benchmarks/mosquitto_sigkill.py [--count 5000]
"""

import argparse
import json
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

import benchkit  # noqa: F401 - makes the harness importable
import paho.mqtt.client as mqtt

from harness.ports import free_port

TOPIC = "ems/devices/d1/reading"


def start(config: Path) -> subprocess.Popen:
    broker = subprocess.Popen(
        ["mosquitto", "-c", str(config)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    time.sleep(0.5)
    return broker


def client(client_id: str, port: int, clean_session: bool = True) -> mqtt.Client:
    made = mqtt.Client(
        mqtt.CallbackAPIVersion.VERSION2,
        client_id=client_id,
        clean_session=clean_session,
    )
    made.max_inflight_messages_set(1000)
    made.connect("127.0.0.1", port)
    made.loop_start()
    return made


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=5000)
    args = parser.parse_args()
    if not shutil.which("mosquitto"):
        print("mosquitto is not installed")
        return 1
    folder = Path(tempfile.mkdtemp(prefix="ems-mosquitto-"))
    port = free_port()
    config = folder / "mosquitto.conf"
    config.write_text(
        f"listener {port} 127.0.0.1\nallow_anonymous true\npersistence true\n"
        f"persistence_location {folder}/\nmax_queued_messages 0\n"
    )
    broker = start(config)
    try:
        subscriber = client("bridge", port, clean_session=False)
        subscriber.subscribe("ems/devices/+/reading", qos=1)
        time.sleep(0.5)
        subscriber.disconnect()
        subscriber.loop_stop()
        device = client("device", port)
        sent = [
            device.publish(TOPIC, json.dumps({"n": n}), qos=1)
            for n in range(args.count)
        ]
        for info in sent:
            info.wait_for_publish(30)
        acknowledged = sum(info.is_published() for info in sent)
        device.disconnect()
        device.loop_stop()
        broker.send_signal(signal.SIGKILL)
        broker.wait()
        broker = start(config)
        received = []
        subscriber = client("bridge", port, clean_session=False)
        subscriber.on_message = lambda c, u, message: received.append(message)
        time.sleep(3)
        subscriber.disconnect()
        subscriber.loop_stop()
    finally:
        broker.terminate()
        broker.wait()
        shutil.rmtree(folder, ignore_errors=True)
    version = subprocess.run(
        ["mosquitto", "-h"], capture_output=True, text=True
    ).stdout.splitlines()[0]
    print(version)
    print(f"acknowledged (PUBACK) before the kill: {acknowledged}")
    print(f"delivered after SIGKILL and restart:   {len(received)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
