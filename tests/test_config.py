"""Settings: file, environment and flags, with clear errors naming the setting."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from archiver.config import SETTINGS, ConfigError, env_name, load_settings, settings_table


def test_defaults(tmp_path: Path) -> None:
    s = load_settings(env={}, cwd=tmp_path)
    assert s.events == Path("events")
    assert s.per_host_concurrency == 2
    assert s.allow_networks == ()
    assert "archiver/" in s.ua and s.contact_url in s.ua


def test_precedence_file_env_flag(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname="timeline"\n\n[tool.archiver]\nper_host_gap = 2.5\nconcurrency = 8\nevents = "data/events"\n')
    s = load_settings(env={}, cwd=tmp_path)
    assert (s.per_host_gap, s.concurrency, s.events) == (2.5, 8, tmp_path / "data/events")
    s = load_settings(env={"ARCHIVER_CONCURRENCY": "4"}, cwd=tmp_path)
    assert s.concurrency == 4
    s = load_settings(overrides={"concurrency": 2, "per_host_gap": None}, env={"ARCHIVER_CONCURRENCY": "4"},
                      cwd=tmp_path)
    assert (s.concurrency, s.per_host_gap) == (2, 2.5)


def test_archiver_toml_wins_over_pyproject(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text("[tool.archiver]\nconcurrency = 8\n")
    (tmp_path / "archiver.toml").write_text("concurrency = 3\nallow_networks = ['127.0.0.0/8']\n")
    s = load_settings(env={}, cwd=tmp_path)
    assert (s.concurrency, s.allow_networks) == (3, ("127.0.0.0/8",))


@pytest.mark.parametrize(("env", "needle"), [
    ({"ARCHIVER_CONCURRENCY": "many"}, "'concurrency' in environment variable ARCHIVER_CONCURRENCY"),
    ({"ARCHIVER_PER_HOST_CONCURRENCY": "0"}, "'per_host_concurrency'"),
    ({"ARCHIVER_ALLOW_NETWORKS": "127.0.0.0/8,banana"}, "'allow_networks'"),
    ({"ARCHIVER_NOW": "yesterday"}, "'now' in environment variable ARCHIVER_NOW"),
    ({"ARCHIVER_PER_HOST_GAP": "-1"}, "'per_host_gap'"),
])
def test_bad_values_name_the_setting(tmp_path: Path, env: dict[str, str], needle: str) -> None:
    with pytest.raises(ConfigError) as err:
        load_settings(env=env, cwd=tmp_path)
    assert needle in str(err.value)


def test_unknown_setting_in_file_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "archiver.toml").write_text("concurrancy = 3\n")
    with pytest.raises(ConfigError, match="unknown setting 'concurrancy'"):
        load_settings(env={}, cwd=tmp_path)


def test_invalid_toml_names_the_file(tmp_path: Path) -> None:
    (tmp_path / "archiver.toml").write_text("concurrency = = 3\n")
    with pytest.raises(ConfigError, match=r"archiver\.toml"):
        load_settings(env={}, cwd=tmp_path)


def test_now_is_utc(tmp_path: Path) -> None:
    s = load_settings(env={"ARCHIVER_NOW": "2026-01-02T03:04:05+02:00"}, cwd=tmp_path)
    assert s.clock() == dt.datetime(2026, 1, 2, 1, 4, 5, tzinfo=dt.UTC)


def test_every_setting_is_documented_in_readme() -> None:
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text("utf-8")
    assert settings_table() in readme, "refresh it: python -m archiver.config README.md"
    for name in SETTINGS:
        assert f"`{name}`" in readme, f"setting {name} is not in the README's configuration table"
        assert env_name(name) in readme, f"{env_name(name)} is not in the README"
