"""Who may read and answer which interview once people sign in (agent/access.py), and the
settings that configure it."""

from __future__ import annotations

import pytest

from agent.access import Viewer, is_coach, may_answer, may_read, scope_for
from agent.config import Settings, load_settings
from agent.profiles import ConfigError


def _settings(tmp_path, text: str) -> Settings:
    config = tmp_path / "interviewer.toml"
    config.write_text(text, encoding="utf-8")
    return load_settings({"INTERVIEWER_CONFIG": str(config)})


COHORTS = """
group_claim = "roles"
[[cohorts]]
name = "autumn"
coaches = ["Coach@Example.com", "group:mentors"]
members = ["ann@example.com", "@bootcamp.example"]
"""


def test_a_candidate_reads_and_answers_only_their_own(tmp_path):
    settings = _settings(tmp_path, COHORTS)
    ann = Viewer.from_claims({"email": "Ann@Example.com"}, settings.group_claim)
    assert may_read(settings, ann, "ann@example.com") and may_answer(ann, "ann@example.com")
    assert not may_read(settings, ann, "bob@bootcamp.example")
    assert not may_answer(ann, "bob@bootcamp.example") and not may_answer(ann, None)
    assert not may_read(settings, ann, None), "an interview with no owner is nobody's to read"
    assert not is_coach(settings, ann)


def test_a_coach_by_email_or_group_reads_the_cohort_and_answers_none_of_it(tmp_path):
    settings = _settings(tmp_path, COHORTS)
    by_email = Viewer.from_claims({"email": "coach@example.com"}, settings.group_claim)
    by_group = Viewer.from_claims(
        {"sub": "u-17", "email": "mentor@elsewhere.org", "roles": ["mentors"]}, settings.group_claim
    )
    for coach in (by_email, by_group):
        assert is_coach(settings, coach)
        assert may_read(settings, coach, "ann@example.com")
        assert may_read(settings, coach, "zoe@bootcamp.example")
        assert not may_read(settings, coach, "eve@other.example")
        assert not may_answer(coach, "ann@example.com")
    outsider = Viewer.from_claims({"email": "x@y.z", "groups": ["mentors"]}, settings.group_claim)
    assert not is_coach(settings, outsider), "the group claim named in the settings counts"


def test_without_sign_in_everything_is_the_one_users(tmp_path):
    settings = _settings(tmp_path, COHORTS)
    assert scope_for(settings, None).everyone
    assert may_read(settings, None, "anyone@example.com") and may_answer(None, None)


def test_a_cohort_of_everyone_and_claims_that_name_nobody(tmp_path):
    settings = _settings(
        tmp_path, '[[cohorts]]\nname = "all"\ncoaches = ["h@x.org"]\nmembers = ["*"]\n'
    )
    assert scope_for(settings, Viewer("h@x.org")).everyone
    with pytest.raises(ValueError, match="no e-mail address or subject"):
        Viewer.from_claims({"email": "  "})
    assert Viewer.from_claims({"sub": "abc", "groups": "solo"}).groups == frozenset({"solo"})
    with pytest.raises(ValueError, match="not verified"):
        Viewer.from_claims({"email": "ceo@example.com", "email_verified": False})
    assert Viewer.from_claims({"email": "a@b.c", "email_verified": True}).email == "a@b.c"


def test_bad_cohorts_and_database_urls_are_refused_naming_the_field(tmp_path):
    with pytest.raises(ConfigError, match="cohorts.0.members"):
        _settings(tmp_path, '[[cohorts]]\nname = "x"\ncoaches = ["a@b.c"]\n')
    with pytest.raises(ConfigError, match="postgresql:// URL"):
        _settings(tmp_path, 'database_url = "sqlite:///x.db"\n')
    env_url = load_settings(
        {
            "INTERVIEWER_CONFIG": str(tmp_path / "interviewer.toml"),
            "INTERVIEWER_DATABASE_URL": "postgresql://u:pw@db/x",
        }
    )
    assert env_url.database_display == "postgresql://u:***@db/x"


@pytest.mark.parametrize("var", ["INTERVIEWER_DATABASE_URL", "DATABASE_URL", "PGPASSWORD"])
def test_a_profile_never_sends_the_database_url_or_a_database_password_as_its_key(var):
    from agent.profiles import build_profile

    env = {var: "postgresql://ann:hunter2@db/x"}
    raw = {"base_url": "http://attacker.example/v1", "model": "m", "api_key_env": var}
    with pytest.raises(ConfigError, match=f"not {var}"):
        build_profile("sneaky", raw, env)
    assert build_profile("fine", {**raw, "api_key_env": "VLLM_API_KEY"}, env).key() != env[var]
