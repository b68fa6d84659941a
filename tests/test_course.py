"""Assignment ids, assignment.toml and the FAST/FULL switch."""

from __future__ import annotations

import pytest

from arena_hub import course
from arena_hub.course import AssignmentSpec, Layout, check_assignment_id


@pytest.mark.parametrize("aid", ["c0d0-prereqs", "c0d1-ray-tracing", "c1x1-saes", "c3d2-distributed"])
def test_good_ids(aid):
    assert check_assignment_id(aid) == aid


@pytest.mark.parametrize("aid, why", [
    ("0.1-ray-tracing", "does not follow the scheme"),
    ("c0d1_ray_tracing", "does not follow the scheme"),
    ("c0d1-Ray", "does not follow the scheme"),
    ("c0d1-ray--tracing", "does not follow the scheme"),
    ("c0d1-a+b", "does not follow the scheme"),
    ("c0d1-" + "x" * 40, "at most 40"),
])
def test_bad_ids(aid, why):
    with pytest.raises(ValueError, match=why):
        check_assignment_id(aid)


def write_spec(tmp_path, aid, text):
    d = tmp_path / aid
    d.mkdir()
    (d / "assignment.toml").write_text(text)
    return d / "assignment.toml"


def test_every_source_day_has_a_valid_spec():
    layout = Layout.from_env({})
    for aid in layout.assignment_ids():
        spec = layout.spec(aid)
        assert spec.id == aid
        assert spec.grading_spec.effective_timeout >= spec.grading_spec.cpu_budget_seconds


def test_spec_defaults_and_timeout(tmp_path):
    spec = AssignmentSpec.load(write_spec(tmp_path, "c9d9-demo", 'id = "c9d9-demo"\ntitle = "T"\narena = "9.9"\n'
                                          "[grading]\ncpu_budget_seconds = 20\n"))
    assert spec.grading_spec.effective_timeout == 60
    assert spec.grading_spec.world_size == 1 and spec.full_spec.gpus == 0


@pytest.mark.parametrize("text, message", [
    ('id = "c9d9-demo"\ntitle = "T"\n', "missing required key 'arena'"),
    ('id = "c9d9-other"\ntitle = "T"\narena = "1"\n', "differs from its folder"),
    ('id = "c9d9-demo"\ntitle = "T"\narena = "1"\n[grading]\ngpu = 1\n', r"unknown key\(s\) \['gpu'\]"),
    ('id = "c9d9-demo"\ntitle = "T"\narena = "1"\n[grading]\nworld_size = 0\n', "world_size"),
    ('id = "c9d9-demo"\ntitle = "T"\narena = "1"\nmemory = 3\n', r"unknown key\(s\) \['memory'\]"),
    ('id = "c9d9-demo"\ntitle = [\n', "not valid TOML"),
])
def test_spec_errors_say_what_is_wrong(tmp_path, text, message):
    with pytest.raises(ValueError, match=message):
        AssignmentSpec.load(write_spec(tmp_path, "c9d9-demo", text))


def test_size_switch(monkeypatch):
    monkeypatch.delenv("ARENA_HUB_SIZE", raising=False)
    monkeypatch.delenv("ARENA_HUB_DATA", raising=False)
    assert (course.size(), course.data_mode(), course.pick(fast=1, full=2)) == ("fast", "offline", 1)
    monkeypatch.setenv("ARENA_HUB_SIZE", "full")
    assert (course.size(), course.data_mode(), course.pick(fast=1, full=2)) == ("full", "online", 2)
    monkeypatch.setenv("ARENA_HUB_DATA", "offline")
    assert course.data_mode() == "offline"
    monkeypatch.setenv("ARENA_HUB_SIZE", "huge")
    with pytest.raises(ValueError, match="must be 'fast' or 'full'"):
        course.size()


def test_layout_moves_runtime_state(tmp_path):
    layout = Layout.from_env({"ARENA_HUB_DATA_DIR": str(tmp_path)})
    assert layout.course_root == course.COURSE_ROOT
    assert layout.autograded == tmp_path / "autograded"
    assert layout.exchange == tmp_path / "runtime" / "exchange"
    assert layout.gradebook_url == f"sqlite:///{tmp_path / 'gradebook.db'}"
    default = Layout.from_env({})
    assert default.data_dir == course.COURSE_ROOT and default.autograded == course.COURSE_ROOT / "autograded"
