"""Plugins from local marketplaces: `marketplace.json` files, plugin manifests, the installed
plugin cache under `$CODEX_HOME/plugins/cache`, and the `[plugins."<name>@<marketplace>"]` config
entries that record what is installed and enabled. No remote catalogue: Parley serves API-key
users, for whom the reference has no remote plugin state either."""
