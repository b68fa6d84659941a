"""Plausible bugs of the multi-process example day."""

from . import mutant

_BCAST = """    if rank == src:
        for other in range(world_size):
            if other != src:
                dist.send(tensor, dst=other)
    else:
        dist.recv(tensor, src=src)"""

MUTANTS = [
    mutant("broadcast", "receivers never receive", "        dist.recv(tensor, src=src)", "        pass",
           {"test_broadcast", "test_broadcast__src"}),
    mutant("broadcast", "ignores src: always broadcasts from rank 0", _BCAST,
           _BCAST.replace("rank == src", "rank == 0").replace("other != src", "other != 0")
           .replace("src=src", "src=0"), "test_broadcast__src"),
    mutant("all_reduce_sum", "only rank 0 ends with the total",
           "        dist.send(tensor, dst=0)\n        dist.recv(tensor, src=0)", "        dist.send(tensor, dst=0)",
           {"test_all_reduce_sum", "test_all_reduce_sum__twice"}),
    mutant("all_reduce_sum", "overwrites instead of adding", "tensor += buffer", "tensor.copy_(buffer)",
           {"test_all_reduce_sum", "test_all_reduce_sum__twice"}),
    mutant("all_reduce_sum", "float buffer whatever the dtype", "buffer = torch.empty_like(tensor)",
           "buffer = torch.empty(tensor.shape)", "test_all_reduce_sum__twice"),
]
