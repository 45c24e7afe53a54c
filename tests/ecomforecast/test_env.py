from __future__ import annotations

from pathlib import Path

import pytest

from ecomforecast.env import database_config, env_bool, env_float, env_list


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


def test_it_reads_a_float_and_names_the_variable_when_it_is_not_one(monkeypatch):
    monkeypatch.setenv("SOME_WEIGHT", "0.25")
    assert env_float("SOME_WEIGHT", 0.5) == 0.25
    monkeypatch.setenv("SOME_WEIGHT", " ")
    assert env_float("SOME_WEIGHT", 0.5) == 0.5
    monkeypatch.setenv("SOME_WEIGHT", "half")
    with pytest.raises(ValueError, match="SOME_WEIGHT must be a number"):
        env_float("SOME_WEIGHT", 0.5)
