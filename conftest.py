"""Test configuration (project root, so it applies however pytest is called): quick mode.

Setting the variable here, before any test runs, means the Jupyter kernels that nbval
starts inherit it (they are child processes of pytest).
"""

import os

os.environ["COURSE_QUICK"] = "1"
os.environ.setdefault("TQDM_DISABLE", "1")
