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

# Correct solutions written differently from the reference: the tests must accept them.
ALTERNATIVES = {
    # Binomial tree: in round k the ranks that already hold the data (relative to src) pass it on,
    # instead of src sending to every rank itself.
    "broadcast": '''def broadcast(tensor: Tensor, rank: int, world_size: int, src: int = 0) -> None:
    """Make every rank's tensor equal to rank src's, using only dist.send / dist.recv."""
    me = (rank - src) % world_size  # position counted from src
    reach = 1
    while reach < world_size:
        if me < reach:
            partner = me + reach
            if partner < world_size:
                dist.send(tensor, dst=(partner + src) % world_size)
        elif me < 2 * reach:
            dist.recv(tensor, src=(me - reach + src) % world_size)
        reach *= 2
''',
    # A chain: partial sums flow from the last rank down to rank 0, then the total flows back up,
    # instead of rank 0 collecting from and sending to everyone.
    "all_reduce_sum": '''def all_reduce_sum(tensor: Tensor, rank: int, world_size: int) -> None:
    """Make every rank's tensor the sum of all ranks' tensors, using only send / recv."""
    last = world_size - 1
    if rank < last:
        partial = torch.zeros_like(tensor)
        dist.recv(partial, src=rank + 1)
        tensor.add_(partial)
    if rank > 0:
        dist.send(tensor, dst=rank - 1)
        dist.recv(tensor, src=rank - 1)
    if rank < last:
        dist.send(tensor, dst=rank + 1)
''',
}
