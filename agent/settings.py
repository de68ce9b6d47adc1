"""Every setting of the agent, read from CCW_* environment variables and a .env file."""

from __future__ import annotations

import os
from enum import StrEnum
from pathlib import Path
from typing import Annotated
from urllib.parse import urlsplit

import structlog
from dotenv import dotenv_values
from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from flows.hosts import CredentialHosts, parse_host_patterns
from pages.labels import Labels, labels, read_label_file
from pages.secrets import register, register_totp_secret

PRODUCTION_HOME = "https://apps.cisco.com/Commerce/home"
ENV_FILE = ".env"
# Settings that decide where the credentials go: a .env file in the working folder that sets them
# is worth a warning, since the credentials themselves often come from the environment.
WHERE_CREDENTIALS_GO = ("CCW_BASE_URL", "CCW_ALLOWED_HOSTS")

log = structlog.get_logger(__name__)


def default_state_dir() -> Path:
    """Per-user state folder (XDG): saved sessions, the bulk ledger, artifacts."""
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "ccw-agent"


class LogFormat(StrEnum):
    """How log lines are written: decided by the terminal unless forced."""

    AUTO = "auto"
    CONSOLE = "console"
    JSON = "json"


class TraceMode(StrEnum):
    """When a Playwright trace of an order is kept."""

    OFF = "off"
    ON_FAILURE = "on-failure"
    ALWAYS = "always"


class Settings(BaseSettings):
    """ccw-agent settings; each one is documented in .env.example."""

    model_config = SettingsConfigDict(
        env_prefix="CCW_",
        env_file=ENV_FILE,
        env_file_encoding="utf-8",
        env_ignore_empty=True,
        extra="ignore",
        hide_input_in_errors=True,  # a refused value may be a secret
    )

    base_url: str = Field(default=PRODUCTION_HOME, description="CCW home page the agent opens.")
    username: str | None = Field(default=None, description="Cisco.com sign-in email.")
    password: SecretStr | None = None
    totp_secret: SecretStr | None = Field(
        default=None, description="Base32 secret of the authenticator app, when MFA is enrolled."
    )
    allowed_hosts: str = Field(
        default="",
        description="More hosts where credentials may be typed (comma-separated, *.domain).",
    )
    locale: str = Field(default="en", description="Language of the portal's labels: en, fr.")
    labels_file: Path | None = Field(
        default=None, description="TOML file of single labels replacing the locale's."
    )

    browser_executable: Path | None = None
    browser_endpoint: str | None = Field(
        default=None,
        description="ws:// Playwright server or http:// CDP endpoint of a remote browser.",
    )
    headless: bool = True
    slow_mo_ms: Annotated[int, Field(ge=0)] = 0

    state_dir: Path = Field(default_factory=default_state_dir)
    artifacts_dir: Path | None = None
    trace: TraceMode = TraceMode.ON_FAILURE

    timeout_ms: Annotated[int, Field(ge=1000, le=600_000)] = 30_000
    attempts: Annotated[int, Field(ge=1, le=10)] = 3
    # A read-only step the portal fails is recovered in place and run again, this many runs in
    # all, before the order's attempt fails; every order has this much time for all its attempts.
    step_attempts: Annotated[int, Field(ge=1, le=10)] = 4
    order_budget_s: Annotated[float, Field(gt=0)] = 300.0
    # Yes again after an error only when every look since showed the order unchanged; 0: never.
    resubmits: Annotated[int, Field(ge=0, le=3)] = 1
    retry_backoff_s: Annotated[float, Field(ge=0)] = 2.0
    workers: Annotated[int, Field(ge=1, le=32)] = 2
    max_submits_per_minute: Annotated[float, Field(gt=0)] | None = None

    log_level: str = "INFO"
    log_format: LogFormat = LogFormat.AUTO

    @field_validator("base_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError(f"{value!r} is not an http(s) URL")
        return value

    @field_validator("browser_endpoint")
    @classmethod
    def _endpoint(cls, value: str | None) -> str | None:
        if value and not value.startswith(("ws://", "wss://", "http://", "https://")):
            raise ValueError(
                f"{value!r}: expected ws:// (Playwright server) or http:// (CDP endpoint)"
            )
        return value or None

    @field_validator("password")
    @classmethod
    def _password(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None:
            register(value.get_secret_value())
        return value

    @field_validator("totp_secret")
    @classmethod
    def _totp(cls, value: SecretStr | None) -> SecretStr | None:
        """Accept the secret as identity providers issue it: 16+ characters, spaces, any case."""
        if value is None:
            return None
        try:
            return SecretStr(register_totp_secret(value.get_secret_value()))
        except ValueError as exc:
            # The message never repeats the secret.
            raise ValueError(f"not a usable base32 authenticator secret: {exc}") from None

    @field_validator("allowed_hosts")
    @classmethod
    def _hosts(cls, value: str) -> str:
        return ",".join(parse_host_patterns(value))

    @field_validator("locale")
    @classmethod
    def _known_locale(cls, value: str) -> str:
        labels(value)  # raises ValueError naming the known locales
        return value

    @field_validator("labels_file")
    @classmethod
    def _label_file(cls, value: Path | None) -> Path | None:
        if value is not None:
            read_label_file(value)  # raises ValueError naming the file and the label
        return value

    @field_validator("log_level")
    @classmethod
    def _level(cls, value: str) -> str:
        level = value.upper()
        if level not in ("DEBUG", "INFO", "WARNING", "ERROR"):
            raise ValueError(f"{value!r} is not one of DEBUG, INFO, WARNING, ERROR")
        return level

    @property
    def labels(self) -> Labels:
        """The label catalogue of the locale, with the labels of the label file on top."""
        return labels(self.locale, self.labels_file)

    @property
    def credential_hosts(self) -> CredentialHosts:
        """Where credentials may be typed: the portal, Cisco's sign-on hosts, CCW_ALLOWED_HOSTS."""
        extra = self.allowed_hosts.split(",") if self.allowed_hosts else ()
        return CredentialHosts.for_portal(self.base_url, extra)

    @property
    def artifacts_path(self) -> Path:
        return self.artifacts_dir or self.state_dir / "artifacts"

    @property
    def session_file(self) -> Path:
        """Saved sign-in of this portal: one file per host, so staging and production never mix."""
        host = urlsplit(self.base_url).netloc.replace(":", "_")
        return self.state_dir / "sessions" / f"{host}.json"


def warn_if_env_file_redirects(settings: Settings, env_file: Path = Path(ENV_FILE)) -> list[str]:
    """Log a warning for each setting deciding where credentials go that the .env file sets.

    Only values in effect that differ from the default count: the environment wins over the
    file, and a value the settings no longer hold (an option, --mock) came from elsewhere.
    Returns the variables named.
    """
    try:
        from_file = dotenv_values(env_file) if env_file.is_file() else {}
    except (OSError, UnicodeDecodeError):
        return []
    named = []
    for name in WHERE_CREDENTIALS_GO:
        field = name.removeprefix("CCW_").lower()
        value = from_file.get(name)
        if not value or os.environ.get(name):
            continue
        if field == "allowed_hosts":
            try:
                value = ",".join(parse_host_patterns(value))
            except ValueError:
                continue
        if value != getattr(settings, field) or value == Settings.model_fields[field].default:
            continue
        named.append(name)
        log.warning(
            "env_file_sets_credential_hosts",
            variable=name,
            value=value,
            file=str(env_file.resolve()),
            advice="credentials are typed only on the hosts these allow; check the file",
        )
    return named
