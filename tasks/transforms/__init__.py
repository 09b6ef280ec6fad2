"""Pure DataFrame transforms: no I/O, no Prefect; each takes frames and returns frames."""
