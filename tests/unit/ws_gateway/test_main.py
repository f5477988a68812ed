"""``python -m ws_gateway``'s settings: config/ws_gateway.yaml and the environment."""

import subprocess
import sys

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

import config as settings
from ws_gateway.__main__ import allowed_origins, make_application
from ws_gateway.registry import Registry


def test_defaults(monkeypatch):
    for name in (
        "EMS_WS_ALLOWED_ORIGINS",
        "EMS_WS_PORT",
        "EMS_WS_MAX_PENDING",
        "EMS_WS_MAX_SOCKETS_PER_USER",
        "EMS_WS_PING_INTERVAL",
        "EMS_WS_PING_TIMEOUT",
        "EMS_AUTH_VERIFY_URL",
        "EMS_AUTH_SESSIONS_URL",
        "EMS_WS_SESSION_RECHECK_INTERVAL",
    ):
        monkeypatch.delenv(name, raising=False)
    conf = settings.load("ws_gateway")
    # A comma inside a ${NAME:default} default stays one string.
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
    assert conf["JWT"] == settings.load("gateway")["JWT"]


def test_origins_from_the_environment(monkeypatch):
    monkeypatch.setenv("EMS_WS_ALLOWED_ORIGINS", "https://ems.example, http://x:8080/")
    conf = settings.load("ws_gateway")
    assert allowed_origins(conf["ALLOWED_ORIGINS"]) == [
        "https://ems.example",
        "http://x:8080/",
    ]
    monkeypatch.setenv("EMS_WS_ALLOWED_ORIGINS", "http://only.one")
    assert allowed_origins(settings.load("ws_gateway")["ALLOWED_ORIGINS"]) == [
        "http://only.one"
    ]
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
        [sys.executable, "-c", check], cwd=settings.ROOT_DIR, check=True, timeout=60
    )


def test_the_socket_quota_from_the_environment_reaches_the_handler(
    monkeypatch, tmp_path
):
    public_key = tmp_path / "jwt_public.pem"
    public_key.write_bytes(
        Ed25519PrivateKey.generate()
        .public_key()
        .public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo)
    )
    monkeypatch.setenv("EMS_JWT_PUBLIC_KEY", str(public_key))
    monkeypatch.setenv("EMS_WS_MAX_SOCKETS_PER_USER", "3")
    conf = settings.load("ws_gateway")
    application = make_application(conf, Registry(max_pending=1))
    [rule] = [
        rule
        for rule in application.wildcard_router.rules
        if getattr(rule.target, "__name__", "") == "SocketHandler"
    ]
    assert rule.target_kwargs["max_sockets_per_user"] == 3
