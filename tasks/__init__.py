"""The work: I/O tasks in ``patronage.tasks.io``, pure DataFrame transforms in ``patronage.tasks.transforms``."""
