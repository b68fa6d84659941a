"""Stop idle GPU servers sooner than every other server (a JupyterHub service).

Zero-to-JupyterHub's `cull` (jupyterhub-idle-culler) has one timeout for all servers; it cannot
tell a GPU server from a CPU one (jupyterhub-idle-culler #45). GPUs are the scarce part, so this
service stops the servers started with one of the GPU profiles once the hub has seen no activity
on them for `timeout` seconds, and leaves every other server to `cull`. KubeSpawner records the
chosen profile in the server's user_options ({"profile": "<slug>"}), which the hub's REST API
returns with each server.

The hub runs it as a managed service (jupyterhub.hub.services.arena-gpu-culler) and gives it
JUPYTERHUB_API_URL and JUPYTERHUB_API_TOKEN; its role needs list:users, read:users:activity,
read:servers and delete:servers. Settings come from a JSON file (the chart's gpuCulling values):
{"enabled": true, "timeout": 1200, "every": 60, "profiles": ["gpu"]}.

Standard library only: it runs with whatever Python the hub image has.
"""

from __future__ import annotations

import json
import os
import sys
import time
import urllib.request
from datetime import datetime, timezone
from urllib.parse import quote


def parse_time(value: str) -> datetime:
    """The hub's ISO 8601 timestamps ('2026-11-30T10:00:00.123456Z')."""
    when = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return when if when.tzinfo else when.replace(tzinfo=timezone.utc)


def idle_gpu_servers(users, profiles, timeout, now):
    """(user, server name, profile, idle seconds) of every ready GPU server idle too long."""
    for user in users:
        for name, server in (user.get("servers") or {}).items():
            if server.get("pending") or not server.get("ready"):
                continue  # starting or stopping: the hub is busy with it
            profile = (server.get("user_options") or {}).get("profile")
            if profile not in profiles:
                continue  # a CPU server: z2jh's culler decides
            seen = server.get("last_activity") or server.get("started")
            if not seen:
                continue
            idle = (now - parse_time(seen)).total_seconds()
            if idle > timeout:
                yield user["name"], name, profile, idle


class Hub:
    def __init__(self, api_url: str, token: str):
        self.api_url = api_url.rstrip("/")
        self.token = token

    def request(self, method: str, path: str):
        req = urllib.request.Request(
            self.api_url + path, method=method,
            headers={"Authorization": f"token {self.token}",
                     "Accept": "application/jupyterhub-pagination+json"},
        )
        with urllib.request.urlopen(req, timeout=30) as response:
            body = response.read()
        return json.loads(body) if body else None

    def users_with_ready_servers(self):
        offset = 0
        while True:
            page = self.request("GET", f"/users?state=ready&offset={offset}&limit=200")
            if isinstance(page, list):  # a hub that does not paginate
                yield from page
                return
            yield from page["items"]
            following = (page.get("_pagination") or {}).get("next")
            if not following:
                return
            offset = following["offset"]

    def stop(self, user: str, server: str) -> None:
        path = f"/users/{quote(user, safe='')}/server"
        if server:
            path = f"/users/{quote(user, safe='')}/servers/{quote(server, safe='')}"
        self.request("DELETE", path)


def cull_once(hub: Hub, profiles, timeout: float, now: datetime | None = None) -> list[str]:
    """Stop every idle GPU server once; returns 'user/server' of those stopped."""
    now = now or datetime.now(timezone.utc)
    stopped = []
    for user, name, profile, idle in list(idle_gpu_servers(hub.users_with_ready_servers(),
                                                           set(profiles), timeout, now)):
        hub.stop(user, name)
        stopped.append(f"{user}/{name}")
        print(f"arena-gpu-culler: stopped {user}/{name} (profile {profile}, idle {idle:.0f} s)",
              flush=True)
    return stopped


def main(argv: list[str]) -> int:
    with open(argv[1]) as f:
        settings = json.load(f)
    if not settings.get("enabled", True):
        # The hub restarts services that exit; an idle loop keeps the switch in one place.
        print("arena-gpu-culler: GPU culling is off (gpuCulling.enabled)", flush=True)
        while True:
            time.sleep(3600)
    hub = Hub(os.environ["JUPYTERHUB_API_URL"], os.environ["JUPYTERHUB_API_TOKEN"])
    print(f"arena-gpu-culler: stopping servers of profiles {settings['profiles']} after "
          f"{settings['timeout']} s idle, checking every {settings['every']} s", flush=True)
    while True:
        try:
            cull_once(hub, settings["profiles"], settings["timeout"])
        except Exception as e:  # the hub restarting, a network blip: try again next round
            print(f"arena-gpu-culler: {type(e).__name__}: {e}", file=sys.stderr, flush=True)
        time.sleep(settings["every"])


if __name__ == "__main__":
    sys.exit(main(sys.argv))
