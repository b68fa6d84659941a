"""The embedded hub: settings, and how they become JupyterHub configuration.

``hub_config/jupyterhub_config.py`` builds a :class:`HubSettings` and calls :meth:`apply`.
Each setting is a trait whose default comes from an ``ARENA_HUB_*`` environment variable, so the
CLI (``arena-hub hub``), tests and operators all drive the same file.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

from traitlets import Integer, Unicode, default
from traitlets.config import Configurable

from . import cohort
from .course import COURSE_ID, Layout

#: The checkout this package is installed from (hub config, node modules), which need not be
#: the course root that a deployment or a test points ARENA_HUB_COURSE_ROOT at.
INSTALL_ROOT = Path(__file__).resolve().parent.parent
HUB_CONFIG_DIR = INSTALL_ROOT / "hub_config"


def _env_int(name: str, fallback: int) -> int:
    return int(os.environ.get(name) or fallback)


class HubSettings(Configurable):
    """Settings of the embedded default hub (local processes, sqlite, local exchange)."""

    ip = Unicode(help="Address the public proxy binds to (ARENA_HUB_IP). Loopback by default.")
    port = Integer(help="Public port of the hub (ARENA_HUB_PORT).")
    hub_port = Integer(help="Port of the hub's internal API (ARENA_HUB_HUB_PORT).")
    proxy_api_port = Integer(help="Port of configurable-http-proxy's API (ARENA_HUB_PROXY_API_PORT).")
    formgrader_port = Integer(help="Port of the formgrader service (ARENA_HUB_FORMGRADER_PORT).")
    dashboard_port = Integer(help="Port of the cohort dashboard service (ARENA_HUB_DASHBOARD_PORT).")
    data_dir = Unicode(help="Runtime state root (ARENA_HUB_DATA_DIR; default: the course root).")
    python_bin = Unicode(help="Folder holding jupyterhub-singleuser (default: this Python's).")
    node_bin = Unicode(help="Folder holding configurable-http-proxy (default: ./node_modules/.bin).")
    db_url = Unicode(help="The hub's database (ARENA_HUB_DB_URL): sqlite under runtime/ by default; "
                     "postgresql://... for real cohorts. The gradebook's is ARENA_HUB_GRADEBOOK_URL.")

    @default("ip")
    def _ip(self):
        return os.environ.get("ARENA_HUB_IP", "127.0.0.1")

    @default("port")
    def _port(self):
        return _env_int("ARENA_HUB_PORT", 8000)

    @default("hub_port")
    def _hub_port(self):
        return _env_int("ARENA_HUB_HUB_PORT", 8081)

    @default("proxy_api_port")
    def _proxy_api_port(self):
        return _env_int("ARENA_HUB_PROXY_API_PORT", 8001)

    @default("formgrader_port")
    def _formgrader_port(self):
        return _env_int("ARENA_HUB_FORMGRADER_PORT", 8002)

    @default("dashboard_port")
    def _dashboard_port(self):
        return _env_int("ARENA_HUB_DASHBOARD_PORT", 8003)

    @default("data_dir")
    def _data_dir(self):
        return str(Layout.from_env().data_dir)

    @default("db_url")
    def _db_url(self):
        return os.environ.get("ARENA_HUB_DB_URL") or f"sqlite:///{self.layout.runtime / 'jupyterhub.sqlite'}"

    @default("python_bin")
    def _python_bin(self):
        return str(Path(sys.executable).parent)

    @default("node_bin")
    def _node_bin(self):
        return str(INSTALL_ROOT / "node_modules" / ".bin")

    @property
    def layout(self) -> Layout:
        return Layout.from_env({**os.environ, "ARENA_HUB_DATA_DIR": self.data_dir})

    @property
    def cohort_file(self) -> Path:
        return self.layout.runtime / "cohort.json"

    def singleuser_cmd(self) -> list[str]:
        cmd = [str(Path(self.python_bin) / "jupyterhub-singleuser")]
        if os.geteuid() == 0:
            cmd.append("--allow-root")  # the embedded default runs every server as this user
        return cmd

    def apply(self, c) -> None:
        """Write the whole hub configuration into the config object ``c``."""
        layout = self.layout
        runtime = layout.runtime
        runtime.mkdir(parents=True, exist_ok=True)
        users = cohort.load(self.cohort_file)
        instructors = cohort.members(users, cohort.INSTRUCTOR)
        students = cohort.members(users, cohort.STUDENT)

        c.JupyterHub.bind_url = f"http://{self.ip}:{self.port}"
        c.JupyterHub.hub_bind_url = f"http://127.0.0.1:{self.hub_port}"
        c.ConfigurableHTTPProxy.api_url = f"http://127.0.0.1:{self.proxy_api_port}"
        c.ConfigurableHTTPProxy.command = [str(Path(self.node_bin) / "configurable-http-proxy")]
        c.ConfigurableHTTPProxy.pid_file = str(runtime / "proxy.pid")
        c.JupyterHub.db_url = self.db_url
        c.JupyterHub.cookie_secret_file = str(runtime / "jupyterhub_cookie_secret")
        c.JupyterHub.pid_file = str(runtime / "jupyterhub.pid")

        c.JupyterHub.authenticator_class = cohort.CohortAuthenticator
        c.CohortAuthenticator.cohort_file = str(self.cohort_file)
        c.Authenticator.allowed_users = set(users)

        # Every user server is a local process of this OS user: no isolation (see README).
        c.JupyterHub.spawner_class = "jupyterhub.spawner.SimpleLocalProcessSpawner"
        c.SimpleLocalProcessSpawner.home_dir_template = str(runtime / "home" / "{username}")
        c.Spawner.cmd = self.singleuser_cmd()
        c.Spawner.default_url = "/lab"
        c.Spawner.start_timeout = 120
        c.Spawner.http_timeout = 90
        c.Spawner.environment = {
            # Student-side config: nbgrader exchange + hub identity, instructor extensions off.
            "JUPYTER_CONFIG_PATH": str(HUB_CONFIG_DIR / "student"),
            "ARENA_HUB_EXCHANGE_DIR": str(layout.exchange),
            "ARENA_HUB_SIZE": os.environ.get("ARENA_HUB_SIZE", "fast"),
            "PYTHONNOUSERSITE": "1",
        }

        # The formgrader: an nbgrader server in the course directory, run by the hub.
        c.JupyterHub.services = [
            {
                "name": COURSE_ID,
                "url": f"http://127.0.0.1:{self.formgrader_port}",
                "command": self.singleuser_cmd(),
                "cwd": str(layout.course_root),
                "oauth_no_confirm": True,
                "environment": {
                    "JUPYTERHUB_DEFAULT_URL": "/formgrader",
                    "ARENA_HUB_DATA_DIR": str(layout.data_dir),
                    "ARENA_HUB_COURSE_ROOT": str(layout.course_root),
                    "PATH": f"{self.python_bin}:{os.environ.get('PATH', '/usr/bin:/bin')}",
                },
            }
        ]
        # The cohort dashboard (arena_hub.dashboard_service): graders only, like the formgrader.
        from .dashboard_service import SCOPES, SERVICE_NAME

        c.JupyterHub.services.append({
            "name": SERVICE_NAME,
            "url": f"http://127.0.0.1:{self.dashboard_port}",
            "command": [sys.executable, "-m", "arena_hub.dashboard_service"],
            "oauth_no_confirm": True,
            "environment": {
                "ARENA_HUB_DATA_DIR": str(layout.data_dir),
                "ARENA_HUB_COURSE_ROOT": str(layout.course_root),
                "ARENA_HUB_GRADEBOOK_URL": layout.gradebook_url,
            },
        })
        c.JupyterHub.load_groups = {
            cohort.GRADERS_GROUP: {"users": instructors},
            cohort.STUDENTS_GROUP: {"users": students},
        }
        c.JupyterHub.load_roles = [
            {
                "name": f"{COURSE_ID}-grader",
                "description": "Open the course's formgrader service.",
                "scopes": [f"access:services!service={COURSE_ID}", "self"],
                "groups": [cohort.GRADERS_GROUP],
            },
            {
                "name": "dashboard-viewer",
                "description": "Open the cohort dashboard.",
                "scopes": [f"access:services!service={SERVICE_NAME}", "self"],
                "groups": [cohort.GRADERS_GROUP],
            },
            {
                "name": "dashboard-service",
                "description": "What the dashboard service reads from the hub.",
                "scopes": SCOPES,
                "services": [SERVICE_NAME],
            },
        ]
        # Activity is refreshed every minute (the dashboards read last_activity).
        c.JupyterHub.last_activity_interval = 60


def node_bin_ok(settings: HubSettings) -> bool:
    return shutil.which("configurable-http-proxy", path=settings.node_bin) is not None
