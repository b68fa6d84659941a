# JupyterHub configuration of one GPU server: the embedded default's hub, cohort, formgrader and
# dashboard, with every student server a container of the student image (ArenaDockerSpawner:
# a GPU of their own by device id, memory / CPU limits, a home volume, only their own exchange
# folders). Start it with `arena-hub hub --config hub_config/one_gpu_server.py` or the hub image
# (docker/README.md). Settings: ARENA_HUB_* variables (README, "One GPU server"), or set the
# traits below in a config file of your own that loads this one.
import os

from arena_hub.course import COURSE_ID
from arena_hub.exchange import PER_STUDENT_ENV
from arena_hub.hub import HubSettings

c = get_config()  # noqa: F821 -- provided by JupyterHub
settings = HubSettings(config=c)
settings.apply(c)

c.JupyterHub.spawner_class = "arena_hub.spawner.ArenaDockerSpawner"
c.ArenaDockerSpawner.cmd = ["jupyterhub-singleuser"]
c.ArenaDockerSpawner.exchange_root = str(settings.layout.exchange)
c.ArenaDockerSpawner.start_timeout = 180  # a first start may wait for the image to load

# Students write only into their own exchange folders (uid 1000 in every container): the
# formgrader collects from inbound/<name>/ and releases feedback into feedback/<name>/.
for service in c.JupyterHub.services:
    if service["name"] == COURSE_ID:
        service["environment"][PER_STUDENT_ENV] = "1"

network = os.environ.get("ARENA_HUB_DOCKER_NETWORK") or "bridge"
if network != "host":
    # Containers on a Docker network reach the hub by the hub's name there (the hub container,
    # or the host's address on the bridge: ARENA_HUB_HUB_CONNECT_HOST).
    c.JupyterHub.hub_bind_url = f"http://0.0.0.0:{settings.hub_port}"
    c.JupyterHub.hub_connect_url = (f"http://{os.environ.get('ARENA_HUB_HUB_CONNECT_HOST', 'arena-hub')}"
                                    f":{settings.hub_port}")
