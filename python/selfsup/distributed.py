"""Data-parallel training on torch.distributed (DDP): one process per device, launched by torchrun.

The training loop (`train.py`) asks `world()` once per fit. In a plain Python or R session that is
a one-process world and nothing here runs. Under ``torchrun`` (or after `init()`) every rank:

- holds the data: resident on its device, or streamed through it in chunks (`feed.py`);
- draws from the fit's one random stream exactly what one process draws: the epoch's permutation,
  and for every global batch all of its pseudo-labels, augmentations and dropout masks;
- runs the network on its share of each global batch only: samples r, r + W, r + 2W, ... (`Plan`),
  so the global batch size, the sample order and every sample's random draws do not depend on
  the number of ranks W;
- scales its loss by n_r * W / m (n_r of the global batch's m samples are its own), so that DDP's
  average of the ranks' gradients is the gradient of the mean loss over the global batch;
- normalises batch-norm layers with the whole global batch's statistics (`batch_norm`) and lets
  SimCLR compare each view with every rank's (`gather_rows`).
The model then equals one process's up to the order of float additions.

Rank 0 alone shows progress; every rank ends with the same weights and history (metric sums are
all-reduced). Collectives that fail because another rank stopped or hung raise `RankLost` with
what happened, after at most the timeout (`SELFSUP_DIST_TIMEOUT` seconds, default 300).
Backends: gloo for CPU tensors, NCCL for CUDA tensors (``"cpu:gloo,cuda:nccl"`` when there are GPUs).
"""
from __future__ import annotations

import contextlib
import contextvars
import datetime
import os
import warnings
from dataclasses import dataclass

import torch
import torch.distributed as dist
from torch import nn

TIMEOUT_ENV = "SELFSUP_DIST_TIMEOUT"
DEFAULT_TIMEOUT = 300.0              # seconds a rank waits for the others (rendezvous, any collective)
LAUNCH_VARS = ("RANK", "WORLD_SIZE", "MASTER_ADDR", "MASTER_PORT")   # what torchrun sets


class RankLost(RuntimeError):
    """Another rank stopped or hung: this rank cannot go on."""


@dataclass(frozen=True)
class World:
    """Where this process stands: rank `rank` of `size`; `parallel` when it trains data-parallel."""
    rank: int = 0
    size: int = 1
    parallel: bool = False

    @property
    def main(self) -> bool:
        return self.rank == 0


SINGLE = World()


def world() -> World:
    """This process's world: an initialised process group, else torchrun's environment (joined
    now), else one process. ``SELFSUP_DISTRIBUTED=0`` keeps every process on its own."""
    if not dist.is_available() or os.environ.get("SELFSUP_DISTRIBUTED") == "0":
        return SINGLE
    if dist.is_initialized():
        return World(dist.get_rank(), dist.get_world_size(), True)
    if "WORLD_SIZE" not in os.environ:
        return SINGLE
    return init()


def init(timeout: float | None = None) -> World:
    """Join the process group torchrun describes in the environment (RANK, WORLD_SIZE, MASTER_ADDR,
    MASTER_PORT, LOCAL_RANK). `timeout` (seconds; default $SELFSUP_DIST_TIMEOUT or 300) bounds the
    rendezvous and every later collective. Returns the world."""
    if dist.is_initialized():
        return World(dist.get_rank(), dist.get_world_size(), True)
    rank, size, local_rank, address = _launch_env()
    seconds = _timeout(timeout)
    if torch.cuda.is_available() and local_rank < torch.cuda.device_count():
        torch.cuda.set_device(local_rank)      # device="cuda"/"auto" then means this rank's GPU
    backend = "cpu:gloo,cuda:nccl" if torch.cuda.is_available() else "gloo"
    try:
        dist.init_process_group(backend, rank=rank, world_size=size,
                                timeout=datetime.timedelta(seconds=seconds))
    except (RuntimeError, ValueError) as err:
        raise RankLost(f"rank {rank} of {size} could not join the others at {address} within {seconds:g} s "
                       f"({_first_line(err)}). Start all {size} ranks with the same MASTER_ADDR and MASTER_PORT "
                       "(torchrun does this), check that the address is reachable from every node, or raise "
                       f"the wait with {TIMEOUT_ENV}.") from None
    return World(rank, size, True)


def _launch_env() -> tuple[int, int, int, str]:
    missing = [name for name in LAUNCH_VARS if not os.environ.get(name)]
    if missing:
        raise RuntimeError(f"selfsup trains data-parallel because WORLD_SIZE is set, but {', '.join(missing)} "
                           f"{'is' if len(missing) == 1 else 'are'} not: launch with torchrun (e.g. torchrun "
                           "--nproc_per_node 2 -m selfsup pretrain ...), set all of "
                           f"{', '.join(LAUNCH_VARS)}, or set SELFSUP_DISTRIBUTED=0 to train in each process alone.")
    values = {}
    for name in ("RANK", "WORLD_SIZE", "LOCAL_RANK", "MASTER_PORT"):
        raw = os.environ.get(name, "0")
        try:
            values[name] = int(raw)
        except ValueError:
            raise RuntimeError(f"environment variable {name} must be a whole number; got {raw!r}.") from None
    rank, size = values["RANK"], values["WORLD_SIZE"]
    if size < 1 or not 0 <= rank < size:
        raise RuntimeError(f"RANK must be in 0..WORLD_SIZE-1; got RANK={rank}, WORLD_SIZE={size}.")
    return rank, size, values["LOCAL_RANK"], f"{os.environ['MASTER_ADDR']}:{values['MASTER_PORT']}"


def _timeout(timeout: float | None) -> float:
    raw = os.environ.get(TIMEOUT_ENV) if timeout is None else timeout
    try:
        seconds = DEFAULT_TIMEOUT if raw is None else float(raw)
    except ValueError:
        raise ValueError(f"{TIMEOUT_ENV} must be a number of seconds; got {raw!r}.") from None
    if not seconds > 0:
        raise ValueError(f"the timeout must be a positive number of seconds; got {raw!r}.")
    return seconds


def _first_line(err: BaseException) -> str:
    text = str(err).strip().splitlines()
    return text[0][:300] if text else type(err).__name__


# ------------------------------------------------------------------------------ the epoch plan
@dataclass
class Plan:
    """The steps of an epoch: global batch b is positions offsets[b]:offsets[b+1] of the epoch's
    permutation, on every rank; this rank trains on samples `shares[b]` of it (positions in the
    batch: r, r + W, ...; None in one process: all) and scales its loss by `weights[b]`."""
    offsets: list[int]
    shares: list[torch.Tensor | None]
    weights: list[float]

    @property
    def steps(self) -> int:
        return len(self.offsets) - 1


def plan(n_train: int, batch_size: int, world: World) -> Plan:
    """The epoch plan of `world`'s rank; errors when W ranks cannot share batches of `batch_size`.

    A rank with no sample in a short last batch trains sample 0 as a stand-in with weight 0, so it
    still joins DDP's all-reduce.
    """
    n_steps = -(-n_train // batch_size)
    offsets = [min(b * batch_size, n_train) for b in range(n_steps + 1)]
    if not world.parallel:
        return Plan(offsets, [None] * n_steps, [1.0] * n_steps)
    check_shares(n_train, batch_size, world.size)
    shares = [share(offsets[b + 1] - offsets[b], world) for b in range(n_steps)]
    return Plan(offsets, [s for s, _ in shares], [w for _, w in shares])


def share(m: int, world: World) -> tuple[torch.Tensor | None, float]:
    """This rank's samples of a global batch of `m` (r, r + W, ...; None in one process: all) and its
    loss weight n_r * W / m. No sample: sample 0 as a stand-in, weight 0."""
    if not world.parallel:
        return None, 1.0
    mine = torch.arange(world.rank, max(m, world.rank), world.size)     # empty when rank >= m
    if not len(mine):
        return torch.zeros(1, dtype=torch.int64), 0.0
    return mine, len(mine) * world.size / m


def check_shares(n_train: int, batch_size: int, size: int) -> None:
    """W ranks share every batch: each needs a sample of it (a last, short batch may leave some out)."""
    if batch_size < size:
        idle = f"rank {batch_size}" if batch_size == size - 1 else f"ranks {batch_size}..{size - 1}"
        raise ValueError(f"`batch_size` is {batch_size} but {size} ranks share each batch: {idle} would never "
                         f"train. Use batch_size >= {size} (a multiple of {size} keeps the ranks equally busy), or "
                         "fewer ranks.")
    if n_train < size:
        raise ValueError(f"there are {n_train} training samples for {size} ranks: every rank needs at least one. "
                         "Use fewer ranks (torchrun --nproc_per_node) or more data.")


# ------------------------------------------------------------------------------- collectives
def agree(values: list, world: World) -> list:
    """Rank 0's `values` on every rank (e.g. seeds drawn at random: every rank must use the same)."""
    if not world.parallel:
        return values
    box = [values]
    with lost_contact(world, "agreeing on the seeds"):
        dist.broadcast_object_list(box, src=0)
    return box[0]


def wrap(net: nn.Module, device: torch.device, world: World) -> nn.Module:
    """`net` as DDP wraps it on `world` (rank 0's weights are copied to all ranks); `net` itself in one process."""
    if not world.parallel:
        return net
    ids = None
    if device.type == "cuda":
        local_rank = int(os.environ.get("LOCAL_RANK", "0"))
        if local_rank >= torch.cuda.device_count():
            raise RuntimeError(f"LOCAL_RANK is {local_rank} but this machine has {torch.cuda.device_count()} GPU(s): "
                               "start at most one process per GPU (torchrun --nproc_per_node), or train on the CPU "
                               "(device=\"cpu\").")
        ids = [device.index if device.index is not None else torch.cuda.current_device()]
    # On the CPU the seminar CNN convolves channels-last, so its 1-channel kernel's gradient comes back
    # with other (equivalent) strides than DDP's bucket: DDP copies it and says so once; nothing to fix.
    warnings.filterwarnings("ignore", message="Grad strides do not match bucket view strides")
    with lost_contact(world, "setting up DistributedDataParallel"):
        return nn.parallel.DistributedDataParallel(net, device_ids=ids, gradient_as_bucket_view=True)


def sum_over_ranks(values: dict[str, torch.Tensor | float], world: World) -> dict[str, torch.Tensor | float]:
    """{name: value} summed over ranks (every rank gets the sums); unchanged in one process."""
    if not world.parallel or not values:
        return values
    names = list(values)
    flat = torch.tensor([float(values[k]) for k in names], dtype=torch.float64)   # CPU: gloo
    with lost_contact(world, "summing the epoch's metrics"):
        dist.all_reduce(flat)
    return dict(zip(names, flat.tolist()))


def sum_tensor_over_ranks(t: torch.Tensor, world: World, doing: str) -> torch.Tensor:
    """A CPU tensor (gloo) summed elementwise over ranks, in place; `doing` names the step if a rank
    is lost. Unchanged in one process."""
    if world.parallel:
        with lost_contact(world, doing):
            dist.all_reduce(t)
    return t


@contextlib.contextmanager
def lost_contact(world: World, doing: str):
    """Turn a collective's failure (another rank crashed, hung or vanished) into `RankLost`."""
    try:
        yield
    except RuntimeError as err:
        if not world.parallel or isinstance(err, RankLost) or not _is_comm_error(err):
            raise
        raise RankLost(f"rank {world.rank} of {world.size} lost contact with the other ranks while {doing}: "
                       f"{_first_line(err)}. Another rank most likely failed (its own error is in its output) or "
                       f"hung for longer than the timeout ({_timeout(None):g} s; {TIMEOUT_ENV}). This rank stops "
                       "too.") from None


def _is_comm_error(err: RuntimeError) -> bool:
    if isinstance(err, getattr(dist, "DistError", ())):
        return True
    text = str(err)
    return any(key in text for key in ("gloo", "NCCL", "Connection closed", "Connection reset", "Timed out",
                                       "timed out", "Broken pipe"))


# ------------------------------------------------------------------ inside one training step
# Every rank makes the whole global batch's inputs and pseudo-labels (`task.batch`, from the fit's
# one random stream, as one process does) and draws the whole batch's dropout masks; it then runs
# the network on its own samples' rows only. So every random draw of a sample is the same on 1, 2
# or 8 ranks, and the streams of all ranks stay in step. Making a batch is cheap next to the
# network's forward and backward pass, which is what the ranks share.
# The running data-parallel step's state (world, samples, m, weight; `select` adds rows, n_rows), set
# by `step`. A context variable, not a module dict: a nested step restores the outer one's state when
# it ends, and another thread (or asyncio task) never sees this one's step.
_STEP: contextvars.ContextVar[dict | None] = contextvars.ContextVar("selfsup_distributed_step", default=None)


def _step_state() -> dict:
    """The running step's state; empty outside a data-parallel step."""
    return _STEP.get() or {}


@contextlib.contextmanager
def step(world: World, samples: torch.Tensor | None, m: int, weight: float):
    """One step of the data-parallel loop (or of its validation): this rank's `samples` of the
    global batch of `m`, its loss scaled by `weight` (0: a stand-in, see `share`). A no-op in one
    process."""
    if not world.parallel:
        yield
        return
    token = _STEP.set({"world": world, "samples": samples, "m": m, "weight": weight})
    try:
        yield
    finally:
        _STEP.reset(token)


def select(task, inputs: torch.Tensor, targets):
    """This rank's rows of the global batch's (inputs, targets); unchanged outside a data-parallel step.

    Inputs stack a sample's pieces together (sample-major, k rows each: see pretext/base.py);
    targets have a row per input row or per sample. A task with another layout says which rows are
    its samples' with ``task.local_rows(n_rows, samples, m)``.
    """
    state = _step_state()
    if not state:
        return inputs, targets
    samples, m = state["samples"].to(inputs.device), state["m"]
    if hasattr(task, "local_rows"):
        rows = task.local_rows(len(inputs), samples, m)
    else:
        if len(inputs) % m:
            raise RuntimeError(f"{type(task).__name__}.batch() made {len(inputs)} input rows for {m} samples; "
                               "data-parallel training needs k rows per sample, sample-major, or local_rows().")
        k = len(inputs) // m
        rows = (samples[:, None] * k + torch.arange(k, device=inputs.device)).flatten()
    state.update(rows=rows, n_rows=len(inputs))
    return inputs[rows], _rows_of(targets, rows, len(inputs), samples, m)


def _rows_of(targets, rows, n_rows: int, samples, m: int):
    if targets is None:
        return None
    if len(targets) == n_rows:
        return targets[rows]
    if len(targets) == m:
        return targets[samples]
    raise RuntimeError(f"targets have {len(targets)} rows for {m} samples and {n_rows} input rows; "
                       "data-parallel training needs one per sample or per input row.")


def dropout_mask(x: torch.Tensor, keep: float, gen: torch.Generator | None) -> torch.Tensor | None:
    """Inside a data-parallel step: this rank's rows of the mask the whole global batch would get
    (drawn in full from `gen`, as one process draws it); None elsewhere.

    `x` has a row per input row of this rank (encoder layers) or per sample (layers after the pieces
    of a sample are joined).
    """
    state = _step_state()
    if "rows" not in state:
        return None
    if len(x) == len(state["rows"]):
        n, idx = state["n_rows"], state["rows"]
    elif len(x) == len(state["samples"]):
        n, idx = state["m"], state["samples"].to(x.device)
    else:
        raise RuntimeError(f"a dropout layer got {len(x)} rows, neither this rank's {len(state['rows'])} input rows "
                           f"nor its {len(state['samples'])} samples.")
    from .nets.layers import bernoulli_mask   # the single-process recipe, so the masks are the same
    full = bernoulli_mask((n, *x.shape[1:]), keep, gen, x.device, x.dtype)
    return full[idx]


def average_gradients(params) -> None:
    """For a helper network trained inside a task's loss (inpainting's discriminator): its gradients
    averaged over the ranks as DDP averages the model's, with this rank's weight. No-op elsewhere."""
    state = _step_state()
    world = state.get("world")
    if world is None:
        return
    with lost_contact(world, "averaging a helper network's gradients"):
        for p in params:
            if p.grad is not None:
                p.grad.mul_(state["weight"] / world.size)
                dist.all_reduce(p.grad)


def gather_rows(z: torch.Tensor) -> tuple[torch.Tensor, int]:
    """(every rank's rows of `z` in rank order, where this rank's rows start), with gradients flowing
    back to each rank's own rows; ``(z, 0)`` outside a data-parallel training step.

    A rank training a stand-in sends no rows (others must not see them) and gets its own appended.
    """
    state = _step_state()
    world = state.get("world")
    if world is None:
        return z, 0
    stand_in = state["weight"] == 0
    send = z[:0] if stand_in else z
    with lost_contact(world, "gathering the batch's embeddings"):
        counts = [torch.zeros(1, dtype=torch.int64, device=z.device) for _ in range(world.size)]
        dist.all_gather(counts, torch.tensor([len(send)], dtype=torch.int64, device=z.device))
        counts = [int(c) for c in counts]
        gathered = _Gather.apply(send, counts)
    if stand_in:
        return torch.cat([gathered, z]), len(gathered)
    return gathered, sum(counts[:world.rank])


class _Gather(torch.autograd.Function):
    """all_gather of (n_r, ...) rows, n_r = counts[r]; backward sums every rank's gradient of the
    gathered rows and hands each rank its own slice."""

    @staticmethod
    def forward(ctx, z, counts):
        padded = torch.zeros(max(counts), *z.shape[1:], dtype=z.dtype, device=z.device)
        padded[:len(z)] = z
        parts = [torch.empty_like(padded) for _ in counts]
        dist.all_gather(parts, padded)
        rank = dist.get_rank()
        ctx.start, ctx.stop = sum(counts[:rank]), sum(counts[:rank + 1])
        return torch.cat([part[:c] for part, c in zip(parts, counts)])

    @staticmethod
    def backward(ctx, grad):
        grad = grad.contiguous()
        dist.all_reduce(grad)                      # sum of every rank's gradient of the gathered rows
        return grad[ctx.start:ctx.stop], None


# ------------------------------------------------------------------------- independent jobs
def owners(n: int, world: World) -> list[int]:
    """The rank that trains each of `n` independent models: contiguous blocks, sizes within one."""
    return [i * world.size // n for i in range(n)]


def share_models(nets: list[nn.Module], histories: list[list[dict]], owner: list[int], world: World) -> None:
    """Every rank gets model i's weights and history from the rank that trained it (`owner[i]`).

    Tensors travel as CPU copies (gloo), whatever device they trained on, and arrive bit for bit.
    """
    if not world.parallel:
        return
    with lost_contact(world, "sharing the trained models"), torch.no_grad():
        for net, history, src in zip(nets, histories, owner, strict=True):
            for tensor in net.state_dict().values():
                buffer = tensor.detach().cpu().clone()
                dist.broadcast(buffer, src=src)
                if world.rank != src:
                    tensor.copy_(buffer)
            box = [history]
            dist.broadcast_object_list(box, src=src)
            history[:] = box[0]


# ----------------------------------------------------------------------------- batch norm
def batch_norm(bn: nn.modules.batchnorm._BatchNorm, x: torch.Tensor) -> torch.Tensor | None:
    """Inside a data-parallel training step: `bn` applied to this rank's rows `x` with the mean and
    variance of the whole global batch (every rank's rows, all-reduced with gradients, as
    SyncBatchNorm does on GPUs; this works with gloo too), its running statistics updated with
    them. So a batch-norm network trains as in one process. None elsewhere (eval mode, one process,
    or before `select`: a pass over the whole global batch, e.g. a FixMatch teacher's).
    """
    state = _step_state()
    if "rows" not in state or not bn.training:
        return None
    world, c = state["world"], x.shape[1]
    xf = x.float()
    dims = [0, *range(2, x.ndim)]
    count = xf.numel() // c
    part = torch.cat([xf.sum(dims), (xf * xf).sum(dims), torch.tensor([float(count)], device=x.device)])
    if state["weight"] == 0:   # a stand-in: its rows must not count (times 0, not zeros: every rank's
        part = part * 0        # graph must hold the all-reduce, whose backward is a collective too)
    with lost_contact(world, "summing batch-norm statistics"):
        total = _SumOverRanks.apply(part)
    n = total[-1]
    mean = total[:c] / n
    var = (total[c:2 * c] / n - mean * mean).clamp_min(0)   # biased, as batch norm normalises
    shape = (1, c) + (1,) * (x.ndim - 2)
    y = (xf - mean.view(shape)) * torch.rsqrt(var.view(shape) + bn.eps)
    if bn.affine:
        y = y * bn.weight.view(shape) + bn.bias.view(shape)
    if bn.track_running_stats:
        _update_running(bn, mean.detach(), var.detach() * n / (n - 1).clamp_min(1))
    return y.to(x.dtype)


class _SumOverRanks(torch.autograd.Function):
    """all_reduce (sum) with gradients: the gradient of every rank's copy of the sum, summed."""

    @staticmethod
    def forward(ctx, t):
        t = t.clone()
        dist.all_reduce(t)
        return t

    @staticmethod
    def backward(ctx, grad):
        grad = grad.clone()
        dist.all_reduce(grad)
        return grad


@torch.no_grad()
def _update_running(bn, mean: torch.Tensor, unbiased_var: torch.Tensor) -> None:
    bn.num_batches_tracked += 1
    momentum = bn.momentum if bn.momentum is not None else 1.0 / float(bn.num_batches_tracked)
    bn.running_mean.lerp_(mean.to(bn.running_mean.dtype), momentum)
    bn.running_var.lerp_(unbiased_var.to(bn.running_var.dtype), momentum)
