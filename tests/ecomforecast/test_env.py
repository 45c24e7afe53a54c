from __future__ import annotations

from pathlib import Path

import pytest

from ecomforecast.env import database_config, env_bool, env_list


def test_it_parses_a_postgres_url():
    config = database_config(
        "postgres://shop:s%40cret@db.internal:6543/forecasts?sslmode=require", sqlite_default=Path("x")
    )
    assert config["ENGINE"] == "django.db.backends.postgresql"
    assert (config["USER"], config["PASSWORD"], config["HOST"], config["PORT"]) == (
        "shop",
        "s@cret",
        "db.internal",
        "6543",
    )
    assert config["NAME"] == "forecasts"
    assert config["OPTIONS"] == {"sslmode": "require"}


def test_it_falls_back_to_a_sqlite_file(tmp_path):
    config = database_config("", sqlite_default=tmp_path / "var" / "db.sqlite3")
    assert config == {"ENGINE": "django.db.backends.sqlite3", "NAME": str(tmp_path / "var" / "db.sqlite3")}
    assert (tmp_path / "var").is_dir()


def test_it_rejects_an_unknown_scheme():
    with pytest.raises(ValueError, match="mysql"):
        database_config("mysql://x/y", sqlite_default=Path("x"))


def test_it_reads_booleans_and_lists(monkeypatch):
    monkeypatch.setenv("FLAG", "yes")
    monkeypatch.setenv("HOSTS", "a.example, b.example,,")
    assert env_bool("FLAG") is True
    assert env_list("HOSTS") == ["a.example", "b.example"]
    monkeypatch.setenv("FLAG", "maybe")
    with pytest.raises(ValueError, match="FLAG"):
        env_bool("FLAG")
