"""Settings refuse unsafe secrets outside demo mode, with a message that says what to do."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from civicgrid.config import DEMO_SECRET, Settings, random_secret, weak_secret_reason


@pytest.mark.parametrize("mode", ["production", "test"])
@pytest.mark.parametrize(
    ("secret", "reason"),
    [
        (DEMO_SECRET, "published demo value"),
        ("short-secret", "shorter than 32"),
        ("a" * 40, "too few distinct"),
        ("abababababababababababababababababab", "too few distinct"),
    ],
)
def test_unsafe_secret_is_refused_outside_demo(mode: str, secret: str, reason: str) -> None:
    with pytest.raises(ValidationError) as excinfo:
        Settings(mode=mode, secret_key=secret)  # type: ignore[arg-type]
    message = str(excinfo.value)
    assert reason in message
    assert "CIVICGRID_SECRET_KEY" in message
    assert "token_urlsafe" in message  # tells the operator how to make one


def test_demo_mode_accepts_the_demo_secret() -> None:
    assert Settings(mode="demo").secret_key == DEMO_SECRET


def test_strong_secret_is_accepted_in_production() -> None:
    secret = random_secret()
    assert weak_secret_reason(secret) is None
    assert Settings(mode="production", secret_key=secret).secret_key == secret


def test_environment_variables_configure_settings(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("CIVICGRID_MODE", "production")
    monkeypatch.setenv("CIVICGRID_SECRET_KEY", random_secret())
    monkeypatch.setenv("CIVICGRID_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("CIVICGRID_MAP_STYLE_URL", "https://tiles.example/style.json")
    settings = Settings()
    assert settings.resolved_database_url == f"sqlite:///{tmp_path.as_posix()}/civicgrid.db"
    assert settings.map_style_url == "https://tiles.example/style.json"
    monkeypatch.setenv("CIVICGRID_DATABASE_URL", "postgresql://u@db/civicgrid")
    assert Settings().resolved_database_url == "postgresql://u@db/civicgrid"


def test_unknown_timezone_is_refused() -> None:
    with pytest.raises(ValidationError, match="unknown time zone"):
        Settings(timezone="Mars/Olympus")


def test_unsafe_env_refuses_cli(monkeypatch: pytest.MonkeyPatch) -> None:
    from typer.testing import CliRunner

    from civicgrid.cli import app
    from civicgrid.config import get_settings

    monkeypatch.setenv("CIVICGRID_MODE", "production")
    monkeypatch.setenv("CIVICGRID_SECRET_KEY", "weak")
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(app, ["init"])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 2
    assert "refusing to start" in result.output
