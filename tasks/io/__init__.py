"""Tasks that touch files, databases or the Prefect API; only these retry."""
