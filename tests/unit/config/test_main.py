"""``python -m config``: a process's effective settings, secrets masked."""

import yaml

from config.__main__ import main


def test_settings_are_printed_with_passwords_masked(capsys, monkeypatch):
    monkeypatch.setenv("EMS_PG_URL", "postgresql+psycopg2://owner:pg-secret@db:5432")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-secret")
    monkeypatch.setenv("SUPPORT_AI_MODEL", "model-x")
    assert main(["support"]) == 0
    out = capsys.readouterr().out
    assert "secret" not in out
    shown = yaml.safe_load(out)
    assert (
        shown["DATABASE_URL"]
        == "postgresql+psycopg2://owner:********@db:5432/supportdb"
    )
    assert shown["OPENAI_API_KEY"] == "********"
    assert shown["SUPPORT"]["ai_model"] == "model-x"


def test_an_unset_secret_shows_as_unset(capsys, monkeypatch):
    monkeypatch.delenv("EMS_ADMIN_PASSWORD", raising=False)
    main(["common"])
    assert yaml.safe_load(capsys.readouterr().out)["ADMIN"]["password"] is None


def test_variables_are_listed_with_defaults_and_meaning(capsys):
    main(["--variables", "balancer"])
    out = capsys.readouterr().out
    assert "EMS_BALANCER_PREFETCH=500\n    readings in flight" in out
    assert "EMS_AMQP_URI_BALANCER=amqp://guest:********@127.0.0.1:5672/ems" in out
    assert "EMS_WS_PORT" not in out
