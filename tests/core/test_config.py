"""Settings refuse unsafe secrets outside demo mode, with a message that says what to do."""

from __future__ import annotations

import base64
import secrets

import pytest
from pydantic import ValidationError

from civicgrid.config import DEMO_SECRET, Settings, UnsafeConfigError, random_secret, weak_secret_reason


def _b64(key: bytes) -> str:
    return base64.b64encode(key).decode()


def production_keys(**overrides: str) -> dict[str, str]:
    """Valid data-key settings (two keys, the second active), with some replaced."""
    values = {
        "data_keys": f"k1:{_b64(secrets.token_bytes(32))},k2:{_b64(secrets.token_bytes(32))}",
        "data_key_active": "k2",
        "index_key": _b64(secrets.token_bytes(32)),
    }
    values.update(overrides)
    return values


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
    assert Settings(mode="production", secret_key=secret, **production_keys()).secret_key == secret


def test_environment_variables_configure_settings(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("CIVICGRID_MODE", "production")
    monkeypatch.setenv("CIVICGRID_SECRET_KEY", random_secret())
    for name, value in production_keys().items():
        monkeypatch.setenv(f"CIVICGRID_{name.upper()}", value)
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


# -- data keys (encryption of personal data at rest) --------------------------------------------------------


@pytest.mark.parametrize(
    ("missing", "named"),
    [
        (("data_keys", "data_key_active", "index_key"), "CIVICGRID_DATA_KEYS and CIVICGRID_DATA_KEY_ACTIVE and"),
        (("index_key",), "CIVICGRID_INDEX_KEY is not set"),
        (("data_keys",), "CIVICGRID_DATA_KEYS is not set"),
        (("data_key_active",), "CIVICGRID_DATA_KEY_ACTIVE is not set"),
    ],
)
def test_production_refuses_to_start_without_data_keys(missing: tuple[str, ...], named: str) -> None:
    values = {name: value for name, value in production_keys().items() if name not in missing}
    with pytest.raises(ValidationError) as excinfo:
        Settings(mode="production", secret_key=random_secret(), **values)  # type: ignore[arg-type]
    message = str(excinfo.value)
    assert named in message
    assert "civicgrid keys generate" in message  # tells the operator how to make them


def test_empty_values_count_as_unset_in_production() -> None:
    with pytest.raises(ValidationError, match="CIVICGRID_INDEX_KEY is not set"):
        Settings(mode="production", secret_key=random_secret(), **production_keys(index_key="  "))  # type: ignore[arg-type]


_KEY16 = _b64(bytes(range(16)))
_KEY33 = _b64(bytes(range(33)))
_GOOD = _b64(bytes(range(100, 132)))


@pytest.mark.parametrize("mode", ["production", "test", "demo"])
@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        ({"data_keys": f"k1{_GOOD}", "data_key_active": "k1"}, "entry 1 is not of the form key-id:base64-key"),
        ({"data_keys": f"k1:{_GOOD},", "data_key_active": "k1"}, "entry 2 is not of the form"),
        ({"data_keys": f"k1:{_GOOD},k2:", "data_key_active": "k1"}, "entry 2 is not of the form"),
        ({"data_keys": f"bad id:{_GOOD}", "data_key_active": "k1"}, "entry 1 has an invalid key id"),
        ({"data_keys": f"k1:{_GOOD[:-3]}!!=", "data_key_active": "k1"}, "key 'k1' in CIVICGRID_DATA_KEYS is not valid"),
        ({"data_keys": f"k1:{_KEY16}", "data_key_active": "k1"}, "is 16 bytes long; keys must be exactly 32"),
        ({"data_keys": f"k1:{_KEY33}", "data_key_active": "k1"}, "is 33 bytes long"),
        ({"data_keys": f"k1:{_GOOD},k1:{_GOOD}", "data_key_active": "k1"}, "lists key id 'k1' twice"),
        (
            {"data_key_active": "k3"},
            "CIVICGRID_DATA_KEY_ACTIVE 'k3' is not one of the key ids in CIVICGRID_DATA_KEYS (k1, k2)",
        ),
        ({"index_key": _KEY16}, "CIVICGRID_INDEX_KEY is 16 bytes long"),
        ({"index_key": "not base64 at all"}, "CIVICGRID_INDEX_KEY is not valid base64"),
        ({"data_keys": f"k1:{_GOOD}", "data_key_active": "k1", "index_key": _GOOD}, "must differ from every key"),
    ],
)
def test_malformed_data_keys_are_refused_in_every_mode(mode: str, overrides: dict[str, str], reason: str) -> None:
    values = production_keys(**overrides)
    with pytest.raises(ValidationError) as excinfo:
        Settings(mode=mode, secret_key=random_secret(), **values)  # type: ignore[arg-type]
    message = str(excinfo.value)
    assert reason in message
    # The message names the problem, never a key's value.
    for name in ("data_keys", "index_key"):
        for part in values[name].replace(":", ",").split(","):
            if len(part) > 8:
                assert part not in message


@pytest.mark.parametrize("mode", ["test", "demo"])
def test_half_configured_keys_are_refused(mode: str) -> None:
    with pytest.raises(ValidationError, match="CIVICGRID_DATA_KEYS is set but CIVICGRID_DATA_KEY_ACTIVE is not"):
        Settings(mode=mode, secret_key=random_secret(), data_keys=f"k1:{_GOOD}")  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="CIVICGRID_DATA_KEY_ACTIVE is set but CIVICGRID_DATA_KEYS is not"):
        Settings(mode=mode, secret_key=random_secret(), data_key_active="k1")  # type: ignore[arg-type]


def test_production_keys_are_decoded() -> None:
    values = production_keys()
    material = Settings(mode="production", secret_key=random_secret(), **values).data_key_material()  # type: ignore[arg-type]
    assert set(material.keys) == {"k1", "k2"}
    assert material.active == "k2"
    assert material.keys["k1"] == base64.b64decode(values["data_keys"].split(",")[0].split(":")[1])
    assert material.index_key == base64.b64decode(values["index_key"])
    assert not material.derived


def test_url_safe_base64_and_spaces_are_accepted() -> None:
    key = bytes([0xFB, 0xFF] * 16)  # encodes with + and / in the standard alphabet
    url_safe = base64.urlsafe_b64encode(key).decode()
    assert "-" in url_safe or "_" in url_safe
    settings = Settings(mode="test", secret_key=random_secret(), data_keys=f" k1 : {url_safe} ", data_key_active="k1")  # type: ignore[arg-type]
    assert settings.data_key_material().keys["k1"] == key


def test_demo_and_test_mode_derive_unset_keys_from_the_secret() -> None:
    demo = Settings(mode="demo").data_key_material()
    assert demo.derived
    assert demo.active == "derived"
    assert demo == Settings(mode="demo").data_key_material()  # deterministic: make demo needs no setup
    assert demo.index_key != demo.keys["derived"]
    secret = random_secret()
    test = Settings(mode="test", secret_key=secret).data_key_material()
    assert test == Settings(mode="test", secret_key=secret).data_key_material()
    assert test.keys["derived"] != demo.keys["derived"]
    assert len(test.index_key) == len(test.keys["derived"]) == 32


def test_demo_mode_uses_the_keys_it_is_given() -> None:
    values = production_keys()
    material = Settings(mode="demo", **values).data_key_material()  # type: ignore[arg-type]
    assert set(material.keys) == {"k1", "k2"}
    assert material.index_key == base64.b64decode(values["index_key"])
    partly = Settings(mode="demo", data_keys=values["data_keys"], data_key_active="k1").data_key_material()  # type: ignore[arg-type]
    assert partly.derived  # the index key, unset, was derived
    assert partly.active == "k1"


def test_keys_are_secret_in_reprs() -> None:
    values = production_keys()
    settings = Settings(mode="production", secret_key=random_secret(), **values)  # type: ignore[arg-type]
    assert values["index_key"] not in repr(settings)
    assert values["data_keys"].split(":")[1][:20] not in repr(settings)


def test_missing_keys_refuse_cli_in_production(monkeypatch: pytest.MonkeyPatch) -> None:
    from typer.testing import CliRunner

    from civicgrid.cli import app
    from civicgrid.config import get_settings

    monkeypatch.setenv("CIVICGRID_MODE", "production")
    monkeypatch.setenv("CIVICGRID_SECRET_KEY", random_secret())
    for name in ("DATA_KEYS", "DATA_KEY_ACTIVE", "INDEX_KEY"):
        monkeypatch.delenv(f"CIVICGRID_{name}", raising=False)
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(app, ["init"])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 2
    assert "refusing to start" in result.output
    assert "civicgrid keys generate" in result.output


def test_unsafe_config_error_is_a_value_error() -> None:
    assert issubclass(UnsafeConfigError, ValueError)  # so pydantic reports it as a validation error
