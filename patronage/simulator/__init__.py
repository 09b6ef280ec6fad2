"""A seeded sample company (``patronage sample``): the raw exports a real company would hand
over, plus ground truth. One module per dataset (customers, orders, conversations, ideas), drawn
in order by ``company.generate_sample``; a tool for tests and demos that nothing in the pipeline
imports."""

from patronage.simulator.company import generate_sample, write_sample
from patronage.simulator.draft import BRAND_HANDLE, IDEA_CONCEPTS, SampleSpec, simulate_purchases

__all__ = [
    "BRAND_HANDLE",
    "IDEA_CONCEPTS",
    "SampleSpec",
    "generate_sample",
    "simulate_purchases",
    "write_sample",
]
