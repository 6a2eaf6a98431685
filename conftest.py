"""Test configuration (project root, so it applies however pytest is called): quick mode, one thread.

Setting the variables here, before any test runs, means the Jupyter kernels that nbval
starts inherit them (they are child processes of pytest). pytest-xdist runs a file per core
(pyproject.toml), so every process keeps to one thread: two processes that each spin two
OpenMP or BLAS threads on two cores slow each other down many times over.
"""

import os

os.environ["COURSE_QUICK"] = "1"
os.environ.setdefault("TQDM_DISABLE", "1")
for threads in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(threads, "1")
