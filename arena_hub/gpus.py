"""GPUs for student servers on one GPU server: who holds which device, and who gets one next.

The hub hands each running student server its own GPU(s) by device id (DockerSpawner's
``device_requests``). Which ids are taken is worked out from the spawners' saved state (the hub
database), never from memory, so a hub restart neither forgets a running server's GPU nor
frees it twice; the only in-memory part covers spawns still starting, whose state is not saved
yet. Sharing (several students on one GPU) is the operator's choice: ``users_per_gpu``.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

STATE_KEY = "gpu_ids"


class NoGpuAvailable(RuntimeError):
    """All GPUs are taken: the message is what the student reads on the spawn page."""


@dataclass(frozen=True)
class GpuPool:
    device_ids: tuple[str, ...]  # as the NVIDIA runtime names them: "0", "1", or GPU UUIDs
    users_per_gpu: int = 1  # > 1: the operator allows sharing a device

    def allocate(self, held: dict[str, list[str]], user: str, count: int = 1) -> list[str]:
        """Device ids for ``user``'s new server, given what running servers hold.

        ``held`` maps each running server (by user) to its ids; the user's own entry, if any,
        is ignored (a restart of their server gets a fresh pick). Least-loaded devices first,
        in the configured order, so sharing spreads students evenly.
        """
        if count < 1:
            return []
        load = Counter({d: 0 for d in self.device_ids})
        for owner, ids in held.items():
            if owner != user:
                load.update(i for i in ids if i in load)
        free = [d for d in self.device_ids if load[d] < self.users_per_gpu]
        if len(free) < count:
            busy = len(self.device_ids) - len(free)
            raise NoGpuAvailable(
                f"All GPUs of this server are in use ({busy} of {len(self.device_ids)} taken, "
                f"you asked for {count}). Start the CPU profile, or try again when a GPU "
                "server has stopped (idle servers are stopped automatically).")
        order = {d: i for i, d in enumerate(self.device_ids)}
        return sorted(free, key=lambda d: (load[d], order[d]))[:count]


def parse_ids(text: str | None) -> list[str]:
    """``"0, 2"`` (an environment variable or a CLI option) -> ``["0", "2"]``."""
    return [i.strip() for i in (text or "").split(",") if i.strip()]


def held_from_states(states: dict[str, dict | None]) -> dict[str, list[str]]:
    """``{user: spawner state}`` of running servers (from the hub DB) -> ``{user: gpu ids}``."""
    held = {}
    for user, state in states.items():
        ids = (state or {}).get(STATE_KEY) or []
        if isinstance(ids, list) and all(isinstance(i, str) for i in ids) and ids:
            held[user] = list(ids)
    return held


def device_requests(ids: list[str]) -> list[dict]:
    """Docker's ``HostConfig.DeviceRequests`` for exactly these GPUs."""
    if not ids:
        return []
    return [{"Driver": "nvidia", "DeviceIDs": list(ids), "Capabilities": [["gpu"]]}]
