"""The work: I/O tasks in ``tasks.io``, pure DataFrame transforms in ``tasks.transforms``."""
