"""The one-GPU-server spawner without an engine: mounts, GPU requests, state, refusal when every
GPU is taken (tests/test_one_gpu_server.py runs it for real with the Docker engine)."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace

import pytest
from tornado import web

from arena_hub import gpus
from arena_hub.spawner import ArenaDockerSpawner, exchange_volumes, gpu_host_config


def test_a_student_mounts_outbound_read_only_and_only_their_own_folders():
    v = exchange_volumes("/srv/exchange", "alice")
    assert v == {
        "/srv/exchange/arena/outbound": {"bind": "/srv/nbgrader/exchange/arena/outbound", "mode": "ro"},
        "/srv/exchange/arena/inbound/alice": {"bind": "/srv/nbgrader/exchange/arena/inbound", "mode": "rw"},
        "/srv/exchange/arena/feedback/alice": {"bind": "/srv/nbgrader/exchange/arena/feedback", "mode": "ro"},
    }
    assert not any("bob" in k for k in v)
    for bad in ("", "..", "a/b", "a+b", "*"):
        with pytest.raises(ValueError):
            exchange_volumes("/srv/exchange", bad)


def test_gpus_go_to_docker_as_explicit_device_ids():
    assert gpu_host_config([]) == {}
    assert gpu_host_config(["1"]) == {"device_requests": [
        {"Driver": "nvidia", "DeviceIDs": ["1"], "Capabilities": [["gpu"]]}]}


def test_gpu_ids_live_in_the_saved_state():
    s = ArenaDockerSpawner(user=SimpleNamespace(name="alice", url="/user/alice/", escaped_name="alice", id=1))
    s.gpu_ids = ["0"]
    state = s.get_state()
    assert state[gpus.STATE_KEY] == ["0"]
    fresh = ArenaDockerSpawner(user=s.user)
    fresh.load_state(state)  # a hub restart reloads it from the database
    assert fresh.gpu_ids == ["0"]
    fresh.clear_state()  # the server stopped: the GPU is free again
    assert fresh.gpu_ids == [] and gpus.STATE_KEY not in fresh.get_state()


def spawner(name="alice", **kw) -> ArenaDockerSpawner:
    user = SimpleNamespace(name=name, url=f"/user/{name}/", escaped_name=name, id=1)
    return ArenaDockerSpawner(user=user, **kw)


def test_defaults_come_from_the_environment(monkeypatch):
    monkeypatch.setenv("ARENA_HUB_GPU_IDS", "0, 2")
    monkeypatch.setenv("ARENA_HUB_STUDENT_IMAGE", "arena-hub-student:v1")
    monkeypatch.setenv("ARENA_HUB_MEM_LIMIT", "24G")
    monkeypatch.setenv("ARENA_HUB_CPU_LIMIT", "8")
    s = spawner()
    assert (s.gpu_device_ids, s.gpus_per_server, s.image) == (["0", "2"], 1, "arena-hub-student:v1")
    assert (s.mem_limit, s.cpu_limit) == (24 * 1024**3, 8.0)
    assert s.volumes == {"arena-hub-home-{username}": "/home/jovyan"} and s.remove
    monkeypatch.delenv("ARENA_HUB_GPU_IDS")
    assert spawner().gpus_per_server == 0, "no GPU ids: CPU servers"


def test_a_student_finds_every_gpu_taken_and_reads_why(monkeypatch):
    s = spawner(gpu_device_ids=["0", "1"])
    monkeypatch.setattr(s, "held_by_others", lambda: {"bob": ["0"], "carol": ["1"]})

    async def must_not_run(self):
        raise AssertionError("no container may start without a GPU")

    monkeypatch.setattr("dockerspawner.DockerSpawner.start", must_not_run)
    with pytest.raises(web.HTTPError) as e:
        asyncio.run(s.start())
    assert e.value.status_code == 503 and "All GPUs of this server are in use (2 of 2 taken" in e.value.log_message
    assert s.gpu_ids == [] and "alice" not in ArenaDockerSpawner._starting


def test_a_free_gpu_is_requested_by_id_and_held_while_starting(monkeypatch):
    s = spawner(gpu_device_ids=["0", "1"])
    monkeypatch.setattr(s, "held_by_others", lambda: {"bob": ["0"]})
    seen = {}

    async def fake_start(self):
        seen["host_config"] = dict(self.extra_host_config)
        seen["starting"] = dict(ArenaDockerSpawner._starting)
        return ("127.0.0.1", 1)

    monkeypatch.setattr("dockerspawner.DockerSpawner.start", fake_start)
    asyncio.run(s.start())
    assert s.gpu_ids == ["1"] and s.get_state()[gpus.STATE_KEY] == ["1"]
    assert seen["host_config"]["device_requests"][0]["DeviceIDs"] == ["1"]
    assert seen["starting"] == {"alice": ["1"]}, "a starting server holds its GPU before its state is saved"
    assert ArenaDockerSpawner._starting == {}


def test_a_restarted_hub_reads_who_holds_which_gpu_from_its_database(tmp_path):
    """What a hub restart relies on: the held GPUs come from the spawners' saved state in the
    hub database (running servers only), not from the memory of the process that started them."""
    from jupyterhub import orm

    db = orm.new_session_factory(f"sqlite:///{tmp_path / 'jupyterhub.sqlite'}")()
    for name, state, running in (("bob", {gpus.STATE_KEY: ["0"]}, True), ("carol", {gpus.STATE_KEY: ["1"]}, False),
                                 ("dave", {}, True), ("alice", {gpus.STATE_KEY: ["1"]}, True)):
        user = orm.User(name=name)
        db.add(user)
        sp = orm.Spawner(user=user, name="", state=state)
        if running:
            sp.server = orm.Server()
        db.add(sp)
    db.commit()
    s = spawner("alice", db=db, gpu_device_ids=["0", "1"])
    # bob's running server holds 0; carol's stopped server holds nothing; alice's own is ignored.
    assert s.held_by_others() == {"bob": ["0"]}
    assert gpus.GpuPool(("0", "1")).allocate(s.held_by_others(), "alice") == ["1"]
