"""Configuration: the layer stack (`config.toml`, profiles, projects, `-c`), validation, edits."""

from parley.config.layers import ConfigError, ConfigFileError, LayerStack, TextRange, parse_override
from parley.config.loader import (
    Config,
    ConfigWarning,
    ModelProvider,
    RealtimeConfig,
    load_config,
    resolve_codex_home,
)

__all__ = [
    "Config",
    "ConfigError",
    "ConfigFileError",
    "ConfigWarning",
    "LayerStack",
    "ModelProvider",
    "RealtimeConfig",
    "TextRange",
    "load_config",
    "parse_override",
    "resolve_codex_home",
]
