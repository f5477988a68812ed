"""``python -m ws_gateway``'s settings (``config``, process ``ws_gateway``) and the
environment."""

import subprocess
import sys

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

import config
from ws_gateway.__main__ import allowed_origins, make_application
from ws_gateway.registry import Registry


def test_defaults():
    conf = config.settings("ws_gateway", {})
    assert conf["ALLOWED_ORIGINS"] == "http://app.localhost:8080,http://localhost:8080"
    assert allowed_origins(conf["ALLOWED_ORIGINS"]) == [
        "http://app.localhost:8080",
        "http://localhost:8080",
    ]
    assert (conf["PORT"], conf["MAX_PENDING"]) == (8002, 256)
    assert conf["MAX_SOCKETS_PER_USER"] == 10
    assert conf["PING_TIMEOUT"] <= conf["PING_INTERVAL"]
    assert conf["AUTH_VERIFY_URL"] == "http://127.0.0.1:8001/internal/verify"
    assert conf["AUTH_SESSIONS_URL"] == "http://127.0.0.1:8001/internal/sessions"
    assert conf["SESSION_RECHECK_INTERVAL"] == 60
    assert conf["JWT"] == config.settings("gateway", {})["JWT"]


def test_origins_from_the_environment():
    def origins(value: str) -> list[str]:
        conf = config.settings("ws_gateway", {"EMS_WS_ALLOWED_ORIGINS": value})
        return allowed_origins(conf["ALLOWED_ORIGINS"])

    assert origins("https://ems.example, http://x:8080/") == [
        "https://ems.example",
        "http://x:8080/",
    ]
    assert origins("http://only.one") == ["http://only.one"]
    assert allowed_origins(["a", " b ", ""]) == ["a", "b"]


def test_the_process_is_plain_tornado_not_eventlet_patched():
    # This test process is patched (tests/conftest.py); a fresh one shows what
    # importing the gateway does.
    check = (
        "import ws_gateway.__main__, socket, eventlet.patcher as p;"
        "assert not p.is_monkey_patched('socket');"
        "assert not p.is_monkey_patched('thread')"
    )
    subprocess.run(
        [sys.executable, "-c", check], cwd=config.ROOT_DIR, check=True, timeout=60
    )


def test_the_socket_quota_from_the_environment_reaches_the_handler(tmp_path):
    public_key = tmp_path / "jwt_public.pem"
    public_key.write_bytes(
        Ed25519PrivateKey.generate()
        .public_key()
        .public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo)
    )
    conf = config.settings(
        "ws_gateway",
        {"EMS_JWT_PUBLIC_KEY": str(public_key), "EMS_WS_MAX_SOCKETS_PER_USER": "3"},
    )
    application = make_application(conf, Registry(max_pending=1))
    [rule] = [
        rule
        for rule in application.wildcard_router.rules
        if getattr(rule.target, "__name__", "") == "SocketHandler"
    ]
    assert rule.target_kwargs["max_sockets_per_user"] == 3
