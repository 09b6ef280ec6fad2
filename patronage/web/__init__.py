"""The web page for retention agents, product managers and admins (``patronage web``)."""
