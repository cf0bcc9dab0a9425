"""Built-in catalogues the reference ships: feature flags, models, collaboration modes.

The data files hold facts about Codex CLI 0.120.0 (names, stages, model properties), not code;
the modules read them and answer the questions the server asks.
"""
