"""Start the student's kernel under its own uid: ``python -m arena_hub.grading.kernel UID -f CONN``.

nbgrader (trusted, in the sandbox) runs as root there and writes the kernel's connection file
readable by root only. This launcher copies it for the kernel's uid, drops to that uid, and
becomes ipykernel. From then on the student's code cannot read or write the run's gradebook,
nbgrader's files or other runs. Where the local backend runs a zygote (``ARENA_HUB_ZYGOTE``),
the kernel is forked from it instead, already warm (see ``zygote``); this process then stands
for it towards jupyter_client.
"""

import os
import sys

from .sandbox import drop_privileges, join_kernel_cgroups


def main(argv: list[str]) -> None:
    uid = int(argv[0])
    conn = argv[argv.index("-f") + 1]
    join_kernel_cgroups(os.getpid())  # whether cold or warm, the kernel's pids count apart
    zygote = os.environ.get("ARENA_HUB_ZYGOTE")
    if zygote and os.path.exists(zygote):
        from .zygote import request_kernel

        sys.exit(request_kernel(zygote, uid, conn))
    home = os.environ["HOME"]
    copy = os.path.join(home, ".kernel-" + os.path.basename(conn))
    with open(conn, "rb") as f:
        data = f.read()
    fd = os.open(copy, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.write(fd, data)
    os.close(fd)
    os.chown(copy, uid, uid)
    drop_privileges(uid)
    os.execv(sys.executable, [sys.executable, "-m", "ipykernel_launcher", "-f", copy])


if __name__ == "__main__":
    main(sys.argv[1:])
