__version__ = "0.1.0"

import os as _os
# PyTorch's OpenMP threads spin-wait for each other by default; on a busy 2-core machine that makes training 7-14x
# slower (chapter 03, "Threads on a shared machine"). It must be set before torch loads; a user's own setting wins.
_os.environ.setdefault('OMP_WAIT_POLICY', 'PASSIVE')
