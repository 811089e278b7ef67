"""Import this before torch. Debian's torch calls OpenBLAS, whose pthread build starts its own
pool of threads inside every matrix product, on top of torch's `torch.set_num_threads` pool:
on the 2-core machine the two pools fought (sys time 40% of the run, the threads spinning) and
a patch-16 training step took 2.4-3.8x as long as with OpenBLAS kept to one thread per caller
(`bash bench/train-step.sh` measures both). Torch's own pool still parallelises the work.
A value already in the environment wins."""
import os

os.environ.setdefault('OPENBLAS_NUM_THREADS', '1')
