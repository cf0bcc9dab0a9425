"""Configuration: `$CODEX_HOME/config.toml`, `-c key=value` overrides and feature flags."""

from parley.config.loader import (
    Config,
    ConfigError,
    ModelProvider,
    RealtimeConfig,
    load_config,
    parse_override,
    resolve_codex_home,
)

__all__ = [
    "Config",
    "ConfigError",
    "ModelProvider",
    "RealtimeConfig",
    "load_config",
    "parse_override",
    "resolve_codex_home",
]
