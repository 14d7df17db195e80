"""Settings: file, environment and flags, with clear errors naming the setting."""

from __future__ import annotations

import dataclasses
import datetime as dt
import typing
from pathlib import Path

import pytest

from archiver.config import (
    GROUPS,
    SETTINGS,
    STAGES,
    ConfigError,
    Settings,
    env_name,
    flag_name,
    flag_of,
    load_settings,
    settings_groups,
    settings_table,
    stage_of,
)
from archiver.options import OPTIONS, CheckOptions, StageOptions
from tests.support.docs import config_reference


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


def test_every_setting_is_in_the_generated_reference() -> None:
    """docs/configuration.md's reference, as the mkdocs hook generates it from the declarations."""
    page = (Path(__file__).resolve().parent.parent / "docs" / "configuration.md").read_text("utf-8")
    reference = config_reference().render(page)
    for names in (names for _, names in settings_groups()):
        assert settings_table(names) in reference
    for name in SETTINGS:
        assert f"`{name}`" in reference, f"setting {name} is not in the generated configuration reference"
        assert env_name(name) in reference, f"{env_name(name)} is not in the generated configuration reference"
        assert SETTINGS[name].metadata["doc"] in reference, f"the description of {name} is not in the reference"
        row = next(line for line in reference.splitlines() if line.startswith(f"| `{name}` |"))
        assert f"| {stage_of(name)} |" in row, f"the stage of {name} is not in its row"
        if flag_of(name) is not None:
            assert f"`{flag_name(name)}`" in row, f"the flag of {name} is not in its row"


def test_settings_groups_cover_every_setting_in_declaration_order() -> None:
    assert set(GROUPS) <= set(SETTINGS), "GROUPS names a setting that does not exist"
    groups = settings_groups()
    assert [name for _, names in groups for name in names] == list(SETTINGS)
    assert [title for title, _ in groups] == list(GROUPS.values()), "the first setting opens the first group"


# --------------------------------------------------------------------------- options per stage (issue 20)

#: stages whose settings no options class of archiver/options.py carries: the pipeline's own (budgets, the clock)
NO_OPTIONS_CLASS = {"run"}


def test_every_setting_names_a_known_stage() -> None:
    assert {stage_of(name) for name in SETTINGS} <= set(STAGES)
    assert {cls.STAGE for cls in OPTIONS} | NO_OPTIONS_CLASS == set(STAGES)


@pytest.mark.parametrize("cls", OPTIONS, ids=lambda c: c.__name__)
def test_options_fields_are_settings_of_the_same_type(cls: type[StageOptions]) -> None:
    hints, declared = typing.get_type_hints(cls), typing.get_type_hints(Settings)
    for f in dataclasses.fields(cls):
        if isinstance(hints[f.name], type) and issubclass(hints[f.name], StageOptions):
            continue  # another stage's options, built from the same settings
        assert f.name in SETTINGS, f"{cls.__name__}.{f.name} is not a setting"
        assert hints[f.name] == declared[f.name], f"{cls.__name__}.{f.name} is not typed as the setting"
        assert f.default is dataclasses.MISSING, f"{cls.__name__}.{f.name}: the default is the table's"


@pytest.mark.parametrize("cls", OPTIONS, ids=lambda c: c.__name__)
def test_each_stage_gets_all_its_settings(cls: type[StageOptions]) -> None:
    own = {name for name in SETTINGS if stage_of(name) == cls.STAGE}
    assert own <= {f.name for f in dataclasses.fields(cls)}, f"settings of stage {cls.STAGE} missing"


def test_options_are_built_from_the_settings(tmp_path: Path) -> None:
    s = load_settings(overrides={"concurrency": 7, "wayback_url": "http://127.0.0.1:9", "extract_timeout": 3,
                                 "archive_timeout": 4, "date_tolerance_days": 0, "now": "2026-01-02T00:00:00Z"},
                      env={}, cwd=tmp_path)
    check = s.check_options
    assert isinstance(check, CheckOptions) and check.concurrency == 7 and check.ua == s.ua
    assert check.clock() == s.clock() == dt.datetime(2026, 1, 2, tzinfo=dt.UTC)
    archives = s.archives_options
    assert archives.archive_timeout == 4 and archives.wayback.wayback_url == "http://127.0.0.1:9"
    assert archives.wayback.fetch == check and archives.wayback.text.extract_timeout == 3
    assert s.audit_options.date_tolerance_days == 0 and s.snapshot_options.warc_folder == s.warc_folder
    with pytest.raises(dataclasses.FrozenInstanceError):
        check.concurrency = 1  # type: ignore[misc]  # frozen: the assignment is the point of the test
