# nbgrader config of the course: this directory is the course root (course id "arena").
# Runtime state (submitted/, autograded/, feedback/, gradebook.db) lives under ARENA_HUB_DATA_DIR,
# which defaults to this directory.
from arena_hub.course import configure_nbgrader

c = get_config()  # noqa: F821
configure_nbgrader(c)
