# nbgrader config of a student server: the course, the exchange, and the student's identity as
# the hub knows it (JUPYTERHUB_USER), not the OS user every server shares.
from arena_hub.exchange import configure_student

configure_student(get_config())  # noqa: F821
