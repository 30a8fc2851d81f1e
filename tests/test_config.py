"""Settings from interviewer.toml and the environment: profiles, keys, and what is shown."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from agent.cli import main
from agent.config import PROJECT_ROOT, Settings, load_settings
from agent.grading.providers import OfflineProvider, describe, make_provider
from agent.profiles import ConfigError, is_openai_url, mask_key

TOML = """
profile = "ollama"
transcripts_dir = "my-transcripts"
max_followups = 1

[profiles.ollama]
base_url = "http://localhost:11434/v1"
model = "qwen2.5:7b-instruct"
temperature = 0

[profiles.openai]
model = "gpt-4o-mini"

[profiles.vllm]
base_url = "http://gpu-box:8000/v1"
model = "Qwen/Qwen2.5-7B-Instruct"
api_key_env = "VLLM_API_KEY"
"""


def write_config(tmp_path: Path, text: str = TOML) -> dict[str, str]:
    path = tmp_path / "interviewer.toml"
    path.write_text(text, encoding="utf-8")
    return {"INTERVIEWER_CONFIG": str(path)}


def test_defaults_without_a_file_are_the_offline_engine(tmp_path, monkeypatch):
    monkeypatch.setattr("agent.config.DEFAULT_CONFIG", tmp_path / "interviewer.toml")
    settings = load_settings({"OPENAI_API_KEY": "sk-set-but-unused"})
    assert settings.profile == "offline" and settings.active.brain == "offline"
    assert isinstance(make_provider(settings), OfflineProvider)
    assert set(settings.profiles) >= {"offline", "openai"}


def test_settings_constructed_directly_still_work(tmp_path):
    settings = Settings(transcripts_dir=tmp_path)
    assert settings.active.brain == "offline" and settings.checkpoints.parent == tmp_path


def test_file_sets_profiles_paths_and_the_active_profile(tmp_path):
    settings = load_settings(write_config(tmp_path))
    assert settings.profile == "ollama"
    assert settings.active.model == "qwen2.5:7b-instruct"
    assert settings.active.temperature == 0
    assert settings.transcripts_dir == tmp_path / "my-transcripts", "relative to the file"
    assert settings.max_followups == 1
    assert settings.config_file == tmp_path / "interviewer.toml"


def test_environment_overrides_the_file(tmp_path):
    env = write_config(tmp_path) | {
        "INTERVIEWER_PROFILE": "offline",
        "INTERVIEWER_TRANSCRIPTS_DIR": str(tmp_path / "elsewhere"),
        "INTERVIEWER_MAX_FOLLOWUPS": "3",
    }
    settings = load_settings(env)
    assert settings.profile == "offline"
    assert settings.transcripts_dir == tmp_path / "elsewhere"
    assert settings.max_followups == 3


def test_openai_key_goes_only_to_openai(tmp_path):
    env = write_config(tmp_path) | {"OPENAI_API_KEY": "sk-openai-secret-98765"}
    settings = load_settings(env)
    assert settings.profiles["openai"].key() == "sk-openai-secret-98765"
    assert settings.profiles["ollama"].key() == "not-needed"
    assert settings.profiles["vllm"].key() == "not-needed", "its own variable is unset"


def test_a_profile_uses_the_key_in_its_own_variable(tmp_path):
    env = write_config(tmp_path) | {"VLLM_API_KEY": "vllm-secret-abcdef"}
    vllm = load_settings(env).profiles["vllm"]
    assert vllm.key() == "vllm-secret-abcdef" and vllm.key_source == "$VLLM_API_KEY"


def test_naming_openai_api_key_for_another_host_is_refused(tmp_path):
    text = '[profiles.x]\nbase_url = "http://localhost:1234/v1"\napi_key_env = "OPENAI_API_KEY"\n'
    env = write_config(tmp_path, text) | {"OPENAI_API_KEY": "sk-x"}
    with pytest.raises(ConfigError, match="only sent to api.openai.com"):
        load_settings(env)


def test_the_openai_key_value_is_refused_for_another_host_however_it_is_given(tmp_path):
    text = '[profiles.x]\nbase_url = "http://localhost:1234/v1"\napi_key_env = "MY_KEY"\n'
    same = "sk-same-value-123456"
    env = write_config(tmp_path, text) | {"OPENAI_API_KEY": same, "MY_KEY": same}
    with pytest.raises(ConfigError, match="would send the OPENAI_API_KEY value"):
        load_settings(env)


def test_openai_base_url_applies_where_a_profile_sets_none(tmp_path):
    env = write_config(tmp_path) | {
        "OPENAI_BASE_URL": "http://127.0.0.1:9999/v1",
        "OPENAI_API_KEY": "sk-openai-secret-98765",
    }
    settings = load_settings(env)
    openai_profile = settings.profiles["openai"]
    assert openai_profile.base_url == "http://127.0.0.1:9999/v1"
    assert openai_profile.key() == "not-needed", "no longer OpenAI: its key is not sent"
    assert settings.profiles["ollama"].base_url == "http://localhost:11434/v1"


@pytest.mark.parametrize(
    "text, message",
    [
        ("profile = 'nope'\n", "unknown profile 'nope'"),
        ("[profiles.x]\nmodel = 'm'\ntimeout = -1\n", "profile 'x' field timeout"),
        ("[profiles.x]\nbase_url = 'localhost:11434'\n", "profile 'x' field base_url"),
        ("[profiles.x]\nmodle = 'typo'\n", "profile 'x' field modle"),
        ("colour = 'blue'\n", "unknown setting 'colour'"),
        ("profile = \n", "not valid TOML"),
    ],
)
def test_bad_config_names_file_and_field(tmp_path, text, message):
    with pytest.raises(ConfigError, match=message) as info:
        load_settings(write_config(tmp_path, text))
    assert "interviewer.toml" in str(info.value) or "unknown profile" in str(info.value)


def test_missing_explicit_config_file_is_an_error(tmp_path):
    with pytest.raises(ConfigError, match="does not exist"):
        load_settings({"INTERVIEWER_CONFIG": str(tmp_path / "absent.toml")})


def test_keys_are_masked_wherever_settings_are_shown(tmp_path):
    env = write_config(tmp_path) | {"OPENAI_API_KEY": "sk-openai-secret-98765"}
    settings = load_settings(env)
    shown = json.dumps(settings.public())
    assert "sk-openai-secret" not in shown and "****8765" in shown
    assert "sk-openai-secret" not in repr(settings) and "sk-openai-secret" not in str(settings)
    assert mask_key("short") == "****" and mask_key(None) == "(none)"


def test_with_profile_switches_and_rejects_unknown_names(tmp_path):
    settings = load_settings(write_config(tmp_path))
    assert settings.with_profile("vllm").active.name == "vllm"
    assert settings.with_profile(None) is settings
    with pytest.raises(ConfigError, match="choose from"):
        settings.with_profile("gpt-17")


def test_describe_says_which_brain_and_model_grade(tmp_path):
    settings = load_settings(write_config(tmp_path))
    provider = make_provider(settings)
    assert provider.brain == "llm" and provider.model == "qwen2.5:7b-instruct"
    assert "qwen2.5:7b-instruct at http://localhost:11434/v1" in describe(provider)
    assert describe(OfflineProvider()).startswith("offline")


def test_is_openai_url_only_for_https_api_host():
    assert is_openai_url("https://api.openai.com/v1")
    assert not is_openai_url("http://api.openai.com/v1")
    assert not is_openai_url("https://api.openai.com.evil.example/v1")
    assert not is_openai_url("http://localhost:11434/v1")


def test_cli_profile_flag_before_or_after_the_command(tmp_path, monkeypatch, capsys):
    for key, value in write_config(tmp_path).items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("INTERVIEWER_PROFILE", "vllm")
    assert main(["--profile", "offline", "doctor"]) == 0
    assert "offline rubric engine" in capsys.readouterr().out
    assert main(["doctor", "--profile", "offline"]) == 0
    assert main(["doctor", "--profile", "missing"]) == 2
    assert "unknown profile 'missing'" in capsys.readouterr().err


def test_example_config_loads_and_every_profile_is_valid():
    example = PROJECT_ROOT / "interviewer.example.toml"
    settings = load_settings({"INTERVIEWER_CONFIG": str(example)})
    assert settings.profile == "offline", "the example keeps the offline default"
    assert {"openai", "ollama", "llamacpp", "vllm"} <= set(settings.profiles)


def test_a_profile_that_cannot_be_written_is_one_clear_message(tmp_path):
    from agent.config import save_profile
    from agent.profiles import build_profile

    blocker = tmp_path / "not-a-folder"
    blocker.write_text("", encoding="utf-8")
    settings = Settings(config_file=blocker / "interviewer.toml")
    profile = build_profile("local", {"base_url": "http://localhost:11434/v1", "model": "m"}, {})
    with pytest.raises(ConfigError, match=r"cannot write .*interviewer\.toml"):
        save_profile(settings, profile, env={})
    assert blocker.read_text(encoding="utf-8") == ""
