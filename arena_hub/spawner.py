"""One GPU server: DockerSpawner with GPUs by device id and each student's own exchange folders.

``hub_config/one_gpu_server.py`` selects it. What it adds to DockerSpawner:

- GPUs: a profile asks for ``gpus_per_server``; the device ids come from ``arena_hub.gpus``
  (distinct per running student unless ``users_per_gpu`` > 1), taken from the hub database's
  saved spawner states so a hub restart neither forgets nor double-frees them, and passed to
  Docker as ``device_requests`` with explicit ids. All taken: the student reads why on the spawn
  page, nothing crashes.
- The exchange: ``outbound/`` read-only, the student's own ``inbound/<name>`` and
  ``feedback/<name>`` (every container runs as uid 1000, so mounts are the isolation; the
  instructor side reads them with ``arena_hub.exchange.PerStudentCollect`` /
  ``PerStudentReleaseFeedback``).
- Defaults from ``ARENA_HUB_*`` variables (image, network, GPUs, limits), like ``HubSettings``.
- ``network_name = "host"`` (the tests here: the Docker engine has no bridge) gives each server
  a free loopback port of its own.
"""

from __future__ import annotations

import os
from pathlib import Path

from dockerspawner import DockerSpawner
from tornado import web
from jupyterhub.utils import random_port
from traitlets import Integer, List, Unicode, default

from . import gpus
from .course import COURSE_ID

EXCHANGE_IN_CONTAINER = "/srv/nbgrader/exchange"
STUDENT_CONFIG_IN_CONTAINER = "/opt/arena-hub/hub_config/student"
CONTAINER_UID = 1000


def exchange_volumes(exchange_root: str, user: str) -> dict[str, dict]:
    """DockerSpawner ``volumes`` for one student's view of the exchange (host -> container)."""
    if not user or set(user) & set("/+*") or user in (".", ".."):
        raise ValueError(f"hub user name {user!r} cannot name an exchange folder")
    course, inside = f"{exchange_root}/{COURSE_ID}", f"{EXCHANGE_IN_CONTAINER}/{COURSE_ID}"
    return {
        f"{course}/outbound": {"bind": f"{inside}/outbound", "mode": "ro"},
        f"{course}/inbound/{user}": {"bind": f"{inside}/inbound", "mode": "rw"},
        f"{course}/feedback/{user}": {"bind": f"{inside}/feedback", "mode": "ro"},
    }


def gpu_host_config(ids: list[str]) -> dict:
    """The ``extra_host_config`` part that gives a container exactly these GPUs."""
    return {"device_requests": gpus.device_requests(ids)} if ids else {}


class ArenaDockerSpawner(DockerSpawner):
    gpu_device_ids = List(Unicode(), help="This server's GPUs to hand out, as the NVIDIA runtime "
                          "names them (\"0\", \"1\", or GPU UUIDs). Empty: no GPUs.").tag(config=True)
    users_per_gpu = Integer(1, min=1, help="Students sharing one GPU; 1 gives each running "
                            "student a device of their own.").tag(config=True)
    gpus_per_server = Integer(0, min=0, help="GPUs of each server (a GPU profile sets 1).").tag(config=True)
    exchange_root = Unicode(help="The course exchange on the host (the hub's "
                            "ARENA_HUB_EXCHANGE_DIR).").tag(config=True)

    @default("image")
    def _image(self):
        return os.environ.get("ARENA_HUB_STUDENT_IMAGE") or "arena-hub-student:latest"

    @default("network_name")
    def _network_name(self):
        return os.environ.get("ARENA_HUB_DOCKER_NETWORK") or "bridge"

    @default("gpu_device_ids")
    def _gpu_device_ids(self):
        return gpus.parse_ids(os.environ.get("ARENA_HUB_GPU_IDS"))

    @default("users_per_gpu")
    def _users_per_gpu(self):
        return int(os.environ.get("ARENA_HUB_USERS_PER_GPU") or 1)

    @default("gpus_per_server")
    def _gpus_per_server(self):
        return 1 if self.gpu_device_ids else 0

    @default("mem_limit")
    def _mem_limit(self):
        return os.environ.get("ARENA_HUB_MEM_LIMIT") or None

    @default("cpu_limit")
    def _cpu_limit(self):
        value = os.environ.get("ARENA_HUB_CPU_LIMIT")
        return float(value) if value else None

    @default("exchange_root")
    def _exchange_root(self):
        return os.environ.get("ARENA_HUB_EXCHANGE_DIR", "")

    @default("name_template")
    def _name_template(self):
        return "arena-hub-{username}"

    @default("volumes")
    def _volumes(self):
        # A named volume per student keeps their home across server restarts and image upgrades.
        return {"arena-hub-home-{username}": "/home/jovyan"}

    @default("remove")
    def _remove(self):
        return True  # a stopped server's container goes; the home volume stays

    # Spawns still starting hold GPUs before their state is saved in the hub database.
    _starting: dict[str, list[str]] = {}

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.gpu_ids: list[str] = []

    def held_by_others(self) -> dict[str, list[str]]:
        """GPU ids of every other running server: saved states from the hub database, plus
        spawns still starting in this hub process."""
        from jupyterhub import orm

        states = {}
        for sp in self.db.query(orm.Spawner).filter(orm.Spawner.server_id.isnot(None)):
            if sp.user is not None and sp.user.name != self.user.name:
                states[sp.user.name] = sp.state
        held = gpus.held_from_states(states)
        held.update({u: ids for u, ids in self._starting.items() if u != self.user.name})
        return held

    def _make_exchange_folders(self) -> None:
        course = Path(self.exchange_root) / COURSE_ID
        for sub in ("inbound", "feedback"):
            folder = course / sub / self.user.name
            folder.mkdir(parents=True, exist_ok=True)
            if os.geteuid() == 0:
                os.chown(folder, CONTAINER_UID, CONTAINER_UID)

    def get_env(self):
        env = super().get_env()
        # The hub's own paths mean nothing inside the image: use the image's.
        env["JUPYTER_CONFIG_PATH"] = STUDENT_CONFIG_IN_CONTAINER
        env["ARENA_HUB_EXCHANGE_DIR"] = EXCHANGE_IN_CONTAINER
        return env

    async def get_ip_and_port(self):
        if self.network_name == "host":
            return "127.0.0.1", self.port
        return await super().get_ip_and_port()

    async def start(self):
        if self.network_name == "host":
            self.ip, self.port = "127.0.0.1", random_port()  # servers share the host's ports
            self.use_internal_ip = True  # no port publishing: Docker refuses it on the host network
        if self.exchange_root:
            self._make_exchange_folders()
            self.volumes = {**self.volumes, **exchange_volumes(self.exchange_root, self.user.name)}
        if self.gpus_per_server:
            pool = gpus.GpuPool(tuple(self.gpu_device_ids), self.users_per_gpu)
            try:
                self.gpu_ids = pool.allocate(self.held_by_others(), self.user.name, self.gpus_per_server)
            except gpus.NoGpuAvailable as e:
                raise web.HTTPError(503, str(e), reason=str(e)) from None
            self._starting[self.user.name] = self.gpu_ids
            self.extra_host_config = {**self.extra_host_config, **gpu_host_config(self.gpu_ids)}
        try:
            return await super().start()
        finally:
            self._starting.pop(self.user.name, None)

    def get_state(self):
        state = super().get_state()
        if self.gpu_ids:
            state[gpus.STATE_KEY] = list(self.gpu_ids)
        return state

    def load_state(self, state):
        super().load_state(state)
        self.gpu_ids = list((state or {}).get(gpus.STATE_KEY) or [])

    def clear_state(self):
        super().clear_state()
        self.gpu_ids = []
