"""GPU hand-out for student servers on one GPU server (allocator level: no GPU here)."""

from __future__ import annotations

import pytest

from arena_hub.gpus import GpuPool, NoGpuAvailable, device_requests, held_from_states

POOL = GpuPool(("0", "1", "2"))


def test_each_running_student_gets_a_distinct_gpu():
    held = {}
    for user in ("alice", "bob", "carol"):
        held[user] = POOL.allocate(held, user)
    assert sorted(sum(held.values(), [])) == ["0", "1", "2"]


def test_exhaustion_is_a_clear_message_not_a_crash():
    held = {"alice": ["0"], "bob": ["1"], "carol": ["2"]}
    with pytest.raises(NoGpuAvailable, match=r"All GPUs of this server are in use \(3 of 3 taken.*CPU profile"):
        POOL.allocate(held, "dave")


def test_a_stopped_server_returns_its_gpu():
    held = {"alice": ["0"], "bob": ["1"], "carol": ["2"]}
    del held["bob"]  # bob's server stopped: its state no longer lists GPUs
    assert POOL.allocate(held, "dave") == ["1"]


def test_restarting_ones_own_server_does_not_count_against_oneself():
    held = {"alice": ["0"], "bob": ["1"], "carol": ["2"]}
    assert POOL.allocate(held, "bob") == ["1"]


def test_sharing_spreads_students_evenly_when_the_operator_allows_it():
    pool = GpuPool(("0", "1"), users_per_gpu=2)
    held = {}
    for user in ("a", "b", "c", "d"):
        held[user] = pool.allocate(held, user)
    assert sorted(sum(held.values(), [])) == ["0", "0", "1", "1"]
    with pytest.raises(NoGpuAvailable):
        pool.allocate(held, "e")


def test_multi_gpu_requests_need_that_many_free_devices():
    assert POOL.allocate({"alice": ["1"]}, "bob", count=2) == ["0", "2"]
    with pytest.raises(NoGpuAvailable, match="you asked for 2"):
        POOL.allocate({"alice": ["1"], "carol": ["2"]}, "bob", count=2)


def test_held_gpus_survive_a_restart_because_they_come_from_saved_state():
    # What the hub DB holds for running servers after a restart (malformed entries ignored).
    states = {"alice": {"gpu_ids": ["2"], "container_id": "x"}, "bob": None, "carol": {"gpu_ids": "0"},
              "dave": {"gpu_ids": []}}
    held = held_from_states(states)
    assert held == {"alice": ["2"]}
    assert POOL.allocate(held, "erin") == ["0"]


def test_device_requests_name_the_devices():
    assert device_requests(["1", "3"]) == [{"Driver": "nvidia", "DeviceIDs": ["1", "3"],
                                            "Capabilities": [["gpu"]]}]
    assert device_requests([]) == []
