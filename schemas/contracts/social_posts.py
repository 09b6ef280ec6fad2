"""Social posts: one row per post or reply, keyed by ``post_id``."""

import great_expectations as gx

from patronage.schemas.contract import DatasetContract

SOCIAL_POSTS = DatasetContract(
    name="social_posts",
    grain="one row per social post or reply",
    keys=("post_id",),
    columns={
        "post_id": "str",
        "platform": "str",
        "author_handle": "str",
        "author_display_name": "str",
        "author_location": "str",
        "text": "str",
        "posted_at": "timestamp",
        "reply_to_id": "str",
        "likes": "int",
        "shares": "int",
        "author_followers": "int",
    },
    required=("post_id", "platform", "author_handle", "text", "posted_at"),
    build_expectations=lambda: [
        gx.expectations.ExpectColumnValuesToBeBetween(column="likes", min_value=0),
        gx.expectations.ExpectColumnValuesToBeBetween(column="shares", min_value=0),
        gx.expectations.ExpectColumnValuesToBeBetween(column="author_followers", min_value=0),
    ],
    optional=("author_location",),
    timestamp_column="posted_at",
)
