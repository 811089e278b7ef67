"""Import this first, before torch: it restarts the process once under jemalloc, which keeps the
pages it frees (MALLOC_CONF dirty_decay_ms:-1, muzzy_decay_ms:-1) instead of handing them back
to the kernel.

Why (docs/training.md, "The allocator", bench/train-alloc.sh): a training step of the full grid
allocates and frees gigabytes of activations (patch 8 at 288 px is 1,296 tokens). Under glibc's
malloc every block over its mmap threshold (at most 32 MiB) is a fresh mapping whose pages the
kernel must fault in and zero on every step: 40,000-70,000 page faults a second, a third of the
CPU time in the kernel. Measured on the same 20 steps of the 300-minute run's checkpoint: glibc
10.5 s/step, glibc with fixed thresholds 7.8, jemalloc with its default decay 13.5, jemalloc
keeping its pages **2.6**, the weights bit for bit the same under all four. It also ends the 1.4-2.3x
slowdown that followed every validation under glibc until the process restarted.

Opt out with SNC_TRAIN_ALLOCATOR=system; without libjemalloc (Debian: libjemalloc2) the system
allocator is kept and a line says so. Memory is not returned to the kernel until the process
ends: the peak resident size stays (about 3-4 GB for the 300-minute run's largest subnet).
"""
import ctypes.util
import os
import sys

_CONF = 'dirty_decay_ms:-1,muzzy_decay_ms:-1'


def allocator():
    """'jemalloc' when this process runs under it (as this module arranges), else 'system'."""
    return 'jemalloc' if 'jemalloc' in os.environ.get('LD_PRELOAD', '') else 'system'


def _restart_under_jemalloc():
    if os.environ.get('SNC_TRAIN_ALLOCATOR', 'jemalloc') == 'system' or allocator() == 'jemalloc':
        return
    lib = ctypes.util.find_library('jemalloc')
    if not lib:
        print('allocator: no libjemalloc (Debian: apt-get install libjemalloc2); the system malloc is up to 4x slower for the full grid', file=sys.stderr)
        return
    env = dict(os.environ)
    env['LD_PRELOAD'] = ' '.join(x for x in (env.get('LD_PRELOAD'), lib) if x)
    env.setdefault('MALLOC_CONF', _CONF)
    sys.stdout.flush()
    sys.stderr.flush()
    os.execve(sys.executable, getattr(sys, "orig_argv", [sys.executable] + sys.argv), env)


_restart_under_jemalloc()
