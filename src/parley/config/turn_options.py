"""What a thread's configuration adds to each of its turns: request fields, roots, notify."""

from __future__ import annotations

from parley.agent.settings import ConfiguredOptions, ModelOptions, ProviderSettings, WorkspaceRoots
from parley.catalog.models import model_info
from parley.config.loader import Config


def provider_settings(config: Config) -> ProviderSettings:
    p = config.provider
    return ProviderSettings(
        base_url=p.base_url,
        request_max_retries=p.request_max_retries,
        stream_max_retries=p.stream_max_retries,
        name=p.name,
        query_params=tuple(p.query_params.items()),
        headers=tuple(p.headers().items()),
        stream_idle_timeout_s=p.stream_idle_timeout_ms / 1000,
        websockets=p.supports_websockets,
    )


def model_options(config: Config, model: str) -> ModelOptions:
    """The model's catalogue properties with the configuration's choices on top."""
    info = model_info(model, config.codex_home)
    window = info.usable_context_window
    if config.model_context_window is not None:
        window = config.model_context_window * info.effective_context_window_percent // 100
    return ModelOptions(
        reasoning_effort=config.reasoning_effort,
        reasoning_summary=config.reasoning_summary,
        verbosity=config.verbosity,
        service_tier=config.service_tier,
        supports_reasoning_summaries=info.supports_reasoning_summaries
        or bool(config.supports_reasoning_summaries),
        default_reasoning_effort=info.default_reasoning_level,
        default_reasoning_summary=info.default_reasoning_summary,
        support_verbosity=info.support_verbosity,
        default_verbosity=info.default_verbosity,
        context_window=window,
    )


def turn_options(config: Config, model: str) -> ConfiguredOptions:
    return ConfiguredOptions(
        model=model_options(config, model),
        workspace_roots=WorkspaceRoots(
            extra=config.writable_roots,
            exclude_tmpdir_env_var=config.exclude_tmpdir_env_var,
            exclude_slash_tmp=config.exclude_slash_tmp,
        ),
        notify=config.notify,
        personality=config.personality,
    )
