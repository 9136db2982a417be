"""Configuration: TOML defaults, environment overrides, and refusing unsafe production settings."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from coprod.config import INSECURE_SECRET, ConfigError, load_settings


def test_defaults_come_from_the_toml_file():
    settings = load_settings(env={})
    assert settings.day_rate_pence == 14000
    assert settings.half_day_rate_pence == 7000
    assert settings.contract_default_years == 3
    assert settings.recovery_window_days == 42
    assert settings.expiry_reminder_days == (90, 30)
    assert settings.reminder_hours_before == 48
    assert settings.mileage_pence_per_mile == 45
    assert settings.earnings_limits and all(lim.applies_from for lim in settings.earnings_limits)


def test_environment_variables_override_the_file():
    settings = load_settings(
        env={"DATABASE_URL": "postgres://x@y/z", "SMTP_PORT": "2525", "DAY_RATE_PENCE": "15000"}
    )
    assert settings.database_url == "postgres://x@y/z"
    assert settings.smtp_port == 2525
    assert settings.day_rate_pence == 15000


def test_a_bad_number_is_explained():
    with pytest.raises(ConfigError, match="SMTP_PORT must be a whole number"):
        load_settings(env={"SMTP_PORT": "twenty"})


def test_production_refuses_the_default_secret_and_says_why():
    settings = load_settings(env={"COPROD_ENV": "production", "BASE_URL": "https://c.example"})
    assert settings.secret_key == INSECURE_SECRET
    with pytest.raises(ConfigError) as caught:
        settings.validate()
    assert "SECRET_KEY" in str(caught.value)
    assert "FIELD_ENCRYPTION_KEY" in str(caught.value)


def test_production_starts_with_proper_secrets():
    from cryptography.fernet import Fernet

    settings = load_settings(
        env={
            "COPROD_ENV": "production",
            "SECRET_KEY": "x" * 40,
            "FIELD_ENCRYPTION_KEY": Fernet.generate_key().decode(),
            "BASE_URL": "https://coprod.example.nhs.uk",
            "CHANNELS": "email",  # texts and letters need GOV.UK Notify's settings too
        }
    )
    settings.validate()
    assert settings.uses_https


def test_the_command_line_refuses_to_start_in_production_with_the_default_secret():
    env = {
        **os.environ,
        "COPROD_ENV": "production",
        "SECRET_KEY": "",
        "BASE_URL": "https://x.example",
    }
    env.pop("SECRET_KEY")
    result = subprocess.run(
        [sys.executable, "-m", "coprod", "migrate"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 3
    assert "will not start in production mode" in result.stderr
    assert "SECRET_KEY" in result.stderr
