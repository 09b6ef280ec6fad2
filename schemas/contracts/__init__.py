"""One contract per staged dataset; ``CONTRACTS`` lists them in dependency order."""

from schemas.contract import DatasetContract
from schemas.contracts.customers import CUSTOMERS
from schemas.contracts.ideas import IDEAS
from schemas.contracts.orders import ORDERS
from schemas.contracts.social_posts import SOCIAL_POSTS
from schemas.contracts.ticket_comments import TICKET_COMMENTS
from schemas.contracts.tickets import TICKETS

CONTRACTS: dict[str, DatasetContract] = {
    c.name: c for c in (CUSTOMERS, ORDERS, SOCIAL_POSTS, TICKETS, TICKET_COMMENTS, IDEAS)
}

__all__ = ["CONTRACTS"]
