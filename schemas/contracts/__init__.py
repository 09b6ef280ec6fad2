"""One contract per staged dataset; ``CONTRACTS`` lists them in dependency order."""

from patronage.schemas.contract import DatasetContract
from patronage.schemas.contracts.customers import CUSTOMERS
from patronage.schemas.contracts.ideas import IDEAS
from patronage.schemas.contracts.orders import ORDERS
from patronage.schemas.contracts.social_posts import SOCIAL_POSTS
from patronage.schemas.contracts.ticket_comments import TICKET_COMMENTS
from patronage.schemas.contracts.tickets import TICKETS

CONTRACTS: dict[str, DatasetContract] = {
    c.name: c for c in (CUSTOMERS, ORDERS, SOCIAL_POSTS, TICKETS, TICKET_COMMENTS, IDEAS)
}

__all__ = ["CONTRACTS"]
