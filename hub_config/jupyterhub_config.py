# JupyterHub configuration of the embedded default: local processes, sqlite, a local exchange.
# Every setting is a trait of arena_hub.hub.HubSettings (defaults from ARENA_HUB_* variables);
# start it with `make hub` or `.venv/bin/arena-hub hub --help`.
from arena_hub.hub import HubSettings

c = get_config()  # noqa: F821 -- provided by JupyterHub
HubSettings(config=c).apply(c)
