"""Deterministic identity keys and the unified conversations table.

Grain of ``conversations``: one row per post, ticket, ticket comment or idea, keyed by
``conversation_id`` (``post:<id>``, ``ticket:<id>``, ``comment:<id>``, ``idea:<id>``).
"""

from __future__ import annotations

import hashlib
import unicodedata
from collections.abc import Callable, Collection, Mapping

import numpy as np
import pandas as pd
import phonenumbers

from patronage.tasks.transforms.membership import is_in

# Providers that ignore dots in the local part of an address.
DOTLESS_DOMAINS = frozenset({"gmail.com", "googlemail.com"})


def map_distinct(values: pd.Series, fn: Callable[[object], object]) -> pd.Series:
    """``values.map(fn)``, calling ``fn`` once per distinct value: names, places and handles
    repeat, so a million rows hold far fewer values to normalise.

    >>> map_distinct(pd.Series(["Ann", "Bo", "Ann", None]), lambda v: v and v.upper()).tolist()
    ['ANN', 'BO', 'ANN', None]
    """
    codes, distinct = pd.factorize(values, use_na_sentinel=True)
    mapped = np.empty(len(distinct) + 1, dtype=object)
    for i, value in enumerate(distinct):
        mapped[i] = fn(value)
    mapped[-1] = fn(None)  # where the missing values' code, -1, points
    return pd.Series(mapped[codes], index=values.index, dtype=object)


def normalize_email(email: object) -> str | None:
    """Canonical form of an address: lower case, no plus tag, no dots where the provider ignores them.

    >>> normalize_email(" Jane.Doe+shop@GoogleMail.com ")
    'janedoe@gmail.com'
    """
    if not isinstance(email, str) or "@" not in email:
        return None
    local, _, domain = email.strip().lower().rpartition("@")
    local = local.split("+", 1)[0]
    if domain == "googlemail.com":
        domain = "gmail.com"
    if domain in DOTLESS_DOMAINS:
        local = local.replace(".", "")
    return f"{local}@{domain}" if local and domain else None


def normalize_phone(phone: object, default_region: str = "US") -> str | None:
    """E.164 form of a phone number, or ``None`` when it is not a valid number.

    Numbers without a country code are read in ``default_region`` (ISO 3166 alpha-2).

    >>> normalize_phone("(415) 555-2671")
    '+14155552671'
    >>> normalize_phone("0044 20 7946 0958", "DE")
    '+442079460958'
    """
    if not isinstance(phone, str) or not phone.strip():
        return None
    try:
        parsed = phonenumbers.parse(phone, default_region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(parsed):
        return None
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def normalize_person_name(name: object) -> str | None:
    """Lower case, accents folded, punctuation dropped, single spaces: ``"José  O'Neil"`` →
    ``"jose oneil"``."""
    if not isinstance(name, str):
        return None
    folded = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    kept = "".join(ch for ch in folded.lower() if ch.isalnum() or ch.isspace())
    return " ".join(kept.split()) or None


def normalize_handle(handle: object, platform: str = "twitter") -> str | None:
    """``platform:handle`` in lower case without the leading ``@``."""
    if not isinstance(handle, str) or not handle.strip():
        return None
    return f"{platform.strip().lower()}:{handle.strip().lstrip('@').lower()}"


def is_brand_handle(handles: pd.Series, brand_handles: Collection[str] = ()) -> pd.Series:
    """True where a handle is one of the company's own accounts (``Policy.brand_handles``):
    its replies are the company answering, not a customer or stakeholder speaking."""
    own = {h.lstrip("@").lower() for h in brand_handles}
    return handles.fillna("").str.lstrip("@").str.lower().isin(own)


def stakeholder_id(author_key: str) -> str:
    """A stable, PII-free id for a speaker who is not (known to be) a customer."""
    return "S" + hashlib.sha256(author_key.encode()).hexdigest()[:12]


# Keys already worked out in this process, by (region, number as typed): phonenumbers takes
# about 100 µs a number, over a minute a night at a million customers. A night adds the keys its
# database stores with the customers' contact points (``remember_phone_keys``), so it parses
# only numbers it has not seen. A key depends on nothing else, so an entry is never stale.
_PHONE_KEYS: dict[tuple[str, str], str | None] = {}


def phone_key(phone: object, default_region: str = "US") -> str | None:
    """``phone:+E164`` or ``None``."""
    if not isinstance(phone, str) or not phone.strip():
        return None
    memo = (default_region, phone)
    if memo not in _PHONE_KEYS:
        normalized = normalize_phone(phone, default_region)
        _PHONE_KEYS[memo] = f"phone:{normalized}" if normalized else None
    return _PHONE_KEYS[memo]


def remember_phone_keys(default_region: str, keys: Mapping[str, str | None] | pd.Series) -> None:
    """Keys worked out before (stored): ``phone_key`` returns them without parsing again."""
    _PHONE_KEYS.update(((default_region, phone), key) for phone, key in keys.items())


def email_key(email: object) -> str | None:
    """``email:<normalised address>`` or ``None``."""
    normalized = normalize_email(email)
    return f"email:{normalized}" if normalized else None


def customer_identity_keys(
    customers: pd.DataFrame, tickets: pd.DataFrame, phone_region: str = "US"
) -> pd.DataFrame:
    """Every key that deterministically identifies a customer.

    Args:
        customers: CRM customers (``customer_id``, ``email``, optional ``phone``, ``social_handles``).
        tickets: Tickets (``requester_email``, ``via_handle``).
        phone_region: Region in which numbers without a country code are read.

    Returns:
        One row per (``identity_key``, ``customer_id``) with ``method``: ``email`` and ``phone``
        from the CRM, ``crm_handle`` from handles the CRM knows, ``ticket_handle`` from a ticket
        that came in through a social handle and whose requester email is a customer's. Keys
        that point at more than one customer are dropped: ambiguity is not a link.
    """
    email_keys = pd.DataFrame(
        {
            "identity_key": customers["email"].map(email_key),
            "customer_id": customers["customer_id"],
            "method": "email",
        }
    ).dropna(subset=["identity_key"])
    phones = customers["phone"] if "phone" in customers else pd.Series(None, index=customers.index)
    phone_keys = pd.DataFrame(
        {
            "identity_key": phones.map(lambda p: phone_key(p, phone_region)),
            "customer_id": customers["customer_id"],
            "method": "phone",
        }
    ).dropna(subset=["identity_key"])
    handles = customers[["customer_id", "social_handles"]].dropna()
    handles = handles.assign(entry=handles["social_handles"].str.split(r"[;,]\s*")).explode("entry")
    handles = handles[handles["entry"].fillna("").str.contains(":", regex=False)]
    platform_handle = handles["entry"].str.split(":", n=1, expand=True) if len(handles) else None
    crm_handle_keys = pd.DataFrame(
        {
            "identity_key": [
                normalize_handle(h, p) for p, h in platform_handle.itertuples(index=False)
            ]
            if platform_handle is not None
            else [],
            "customer_id": handles["customer_id"].to_numpy(),
            "method": "crm_handle",
        }
    )
    email_to_customer = email_keys.drop_duplicates("identity_key", keep=False).set_index(
        "identity_key"
    )["customer_id"]
    via = tickets[tickets["via_handle"].fillna("") != ""]
    ticket_handle_keys = pd.DataFrame(
        {
            "identity_key": via["via_handle"].map(normalize_handle),
            "customer_id": via["requester_email"].map(email_key).map(email_to_customer),
            "method": "ticket_handle",
        }
    ).dropna()
    keys = pd.concat(
        [email_keys, phone_keys, crm_handle_keys, ticket_handle_keys], ignore_index=True
    )
    # The same key for the same customer counts once; a key for several customers is dropped.
    # On integer codes: dropping duplicates on two text columns of two million keys took 2 s.
    key_codes = pd.factorize(keys["identity_key"], use_na_sentinel=False)[0].astype(np.int64)
    customer_codes = pd.factorize(keys["customer_id"], use_na_sentinel=False)[0]
    pairs = key_codes * (int(customer_codes.max(initial=0)) + 1) + customer_codes
    first = ~pd.Series(pairs).duplicated().to_numpy()
    keys, key_codes = keys[first], key_codes[first]
    return keys[np.bincount(key_codes)[key_codes] == 1].reset_index(drop=True)


def apply_identity_overrides(keys: pd.DataFrame, overrides: pd.DataFrame) -> pd.DataFrame:
    """A person's word over the pipeline's: ``must_link`` pins a key to a customer, ``cannot_link``
    removes that pairing.

    Args:
        keys: Output of ``customer_identity_keys`` (with or without ``match_probability``).
        overrides: ``identity_key``, ``customer_id``, ``decision`` (``must_link``/``cannot_link``).

    Returns:
        Keys with cannot-links removed and must-links added (``method = "manual"``, certain:
        ``match_probability`` 1 where keys carry one), one customer per key.
    """
    if overrides.empty:
        return keys
    cannot = overrides[overrides["decision"] == "cannot_link"]
    blocked = set(zip(cannot["identity_key"], cannot["customer_id"], strict=True))
    kept = keys[
        [
            (k, c) not in blocked
            for k, c in zip(keys["identity_key"], keys["customer_id"], strict=True)
        ]
    ]
    must = overrides[overrides["decision"] == "must_link"]
    pinned = pd.DataFrame(
        {
            "identity_key": must["identity_key"],
            "customer_id": must["customer_id"],
            "method": "manual",
        }
    )
    if "match_probability" in keys:
        pinned["match_probability"] = 1.0
    kept = kept[~is_in(kept["identity_key"], pinned["identity_key"])]
    return pd.concat([kept, pinned], ignore_index=True).reset_index(drop=True)


def build_conversations(
    social_posts: pd.DataFrame,
    tickets: pd.DataFrame,
    ticket_comments: pd.DataFrame,
    ideas: pd.DataFrame,
    phone_region: str = "US",
    brand_handles: Collection[str] = (),
) -> pd.DataFrame:
    """Stack every source into one conversations table with a deterministic author key.

    A ticket's author is its requester's email, else (a call) the requester's phone number.
    """
    posts = pd.DataFrame(
        {
            "conversation_id": "post:" + social_posts["post_id"],
            "source": "social_posts",
            "source_id": social_posts["post_id"],
            "reply_to_id": social_posts["reply_to_id"]
            .where(social_posts["reply_to_id"].fillna("") != "")
            .map(lambda v: f"post:{v}" if isinstance(v, str) else None),
            # Lists, not the columns: stepping through Arrow-backed text one cell at a time
            # costs about ten times converting it whole (2.0 s a million posts).
            "author_key": [
                normalize_handle(h, p)
                for h, p in zip(
                    social_posts["author_handle"].tolist(),
                    social_posts["platform"].tolist(),
                    strict=True,
                )
            ],
            "text": social_posts["text"],
            "occurred_at": social_posts["posted_at"],
            "followers": social_posts["author_followers"].fillna(0).astype("float64"),
            "likes": social_posts["likes"].fillna(0).astype("float64"),
            "shares": social_posts["shares"].fillna(0).astype("float64"),
            "is_brand": is_brand_handle(social_posts["author_handle"], brand_handles),
        }
    )
    ticket_rows = pd.DataFrame(
        {
            "conversation_id": "ticket:" + tickets["ticket_id"],
            "source": "tickets",
            "source_id": tickets["ticket_id"],
            "reply_to_id": None,
            "author_key": tickets["requester_email"]
            .map(email_key)
            .fillna(
                (
                    tickets["requester_phone"]
                    if "requester_phone" in tickets
                    else pd.Series(None, index=tickets.index)
                ).map(lambda p: phone_key(p, phone_region))
            ),
            "text": tickets["subject"].fillna("") + ". " + tickets["body"].fillna(""),
            "occurred_at": tickets["created_at"],
            "followers": 0.0,
            "likes": 0.0,
            "shares": 0.0,
            "is_brand": False,
        }
    )
    requester_of = ticket_rows.set_index("source_id")["author_key"]
    from_requester = ticket_comments[ticket_comments["author_type"] == "requester"]
    comment_rows = pd.DataFrame(
        {
            "conversation_id": "comment:" + from_requester["comment_id"],
            "source": "ticket_comments",
            "source_id": from_requester["comment_id"],
            "reply_to_id": "ticket:" + from_requester["ticket_id"],
            "author_key": from_requester["ticket_id"].map(requester_of),
            "text": from_requester["body"],
            "occurred_at": from_requester["created_at"],
            "followers": 0.0,
            "likes": 0.0,
            "shares": 0.0,
            "is_brand": False,
        }
    )
    idea_email_key = ideas["author_email"].map(email_key)
    handle_key = ideas["author_handle"].map(lambda h: normalize_handle(h, "ideas"))
    idea_rows = pd.DataFrame(
        {
            "conversation_id": "idea:" + ideas["idea_id"],
            "source": "ideas",
            "source_id": ideas["idea_id"],
            "reply_to_id": None,
            "author_key": idea_email_key.fillna(handle_key),
            "text": ideas["title"],
            "occurred_at": ideas["created_at"],
            "followers": 0.0,
            "likes": ideas["votes"].fillna(0).astype("float64"),
            "shares": 0.0,
            "is_brand": False,
        }
    )
    frames = [f for f in (posts, ticket_rows, comment_rows, idea_rows) if len(f)]
    conversations = pd.concat(frames, ignore_index=True)
    conversations["author_key"] = (
        conversations["author_key"]
        .astype("object")
        .where(conversations["author_key"].notna(), None)
    )
    return conversations.sort_values("conversation_id", kind="stable").reset_index(drop=True)


def link_conversations_to_customers(
    conversations: pd.DataFrame, identity_keys: pd.DataFrame
) -> pd.DataFrame:
    """Attach ``customer_id``, ``link_method`` and ``link_probability`` by identity key (keys
    with ``match_probability``, as ``resolve_identity_keys`` gives them); other speakers get a
    stakeholder id."""
    keyed = identity_keys.set_index("identity_key")
    linked = conversations.copy(deep=False)  # copy-on-write: columns set below are its own
    # One lookup of each author's key, then three takes (not three maps of a million keys).
    found = keyed.index.get_indexer(linked["author_key"].to_numpy(dtype=object))
    for column, source in (
        ("customer_id", "customer_id"),
        ("link_method", "method"),
        ("link_probability", "match_probability"),
    ):
        # A missing row (position -1 → the appended None) for authors no key knows.
        values = np.append(keyed[source].to_numpy(dtype=object), None)[found]
        linked[column] = pd.Series(values, index=linked.index, dtype=object)
    linked["link_probability"] = linked["link_probability"].astype(float)
    unlinked = linked["customer_id"].isna() & linked["author_key"].notna() & ~linked["is_brand"]
    linked["stakeholder_id"] = None
    linked.loc[unlinked, "stakeholder_id"] = map_distinct(
        linked.loc[unlinked, "author_key"],
        lambda key: stakeholder_id(key) if isinstance(key, str) else None,
    )
    return linked
