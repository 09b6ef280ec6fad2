"""What the simulated company's customers and outsiders write: many phrasings per situation.

The simulator used to pick from a handful of fixed sentences, and a text reader fitted to them
looked perfect on the simulator and failed on real text. Here each message is composed from
independent parts (an opening, the core of what happened or what is wanted, a reason, a
closing), then roughened the way people write: typos, dropped punctuation, shouting, slang,
emoji. Situations also include the traps real text is full of: cue words used off-topic
("leaving for the airport"), negation ("not cancelling, just asking"), mixed topics, and
messages in a second language. The ground truth records each message's situation and intent,
so tests judge the reader by meaning, never by a template's wording.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from patronage.simulator.draft import BufferedDraws

# Share of social posts and tickets written in a second language (German, Spanish or French).
FOREIGN_SHARE = 0.06

_PRODUCTS = (
    "jacket", "boots", "order", "parcel", "sweater", "backpack", "raincoat", "sneakers",
    "package", "delivery", "scarf", "jeans",
)  # fmt: skip
_PROBLEMS = (
    "arrived broken",
    "showed up three weeks late",
    "never arrived",
    "came in the wrong size",
    "was missing half the items",
    "fell apart after two washes",
    "got lost by the courier",
    "was charged twice",
)
_EMOJI = ("😡", "🙄", "😤", "👎", "💔", "😞", "❤️", "🔥", "🙌", "👍", "😍", "🤔", "😂")
_SLANG = ("tbh", "ngl", "smh", "fr", "imo", "lol", "ugh", "omg")


def _pick(rng: BufferedDraws, options: Sequence[str]) -> str:
    return options[int(rng.integers(len(options)))]


def _typo(word: str, rng: BufferedDraws) -> str:
    if len(word) < 4 or not word.isalpha():
        return word
    i = int(rng.integers(1, len(word) - 1))
    kind = rng.random()
    if kind < 0.4:  # swapped letters
        return word[: i - 1] + word[i] + word[i - 1] + word[i + 1 :]
    if kind < 0.7:  # dropped letter
        return word[:i] + word[i + 1 :]
    return word[:i] + word[i] + word[i:]  # doubled letter


def roughen(text: str, rng: BufferedDraws, emoji: Sequence[str] = _EMOJI) -> str:
    """``text`` as people type it: sometimes lower-cased, misspelt, shouted, with slang or emoji."""
    words = text.split(" ")
    if rng.random() < 0.35:
        words = [_typo(w, rng) if rng.random() < 0.15 else w for w in words]
    out = " ".join(words)
    roll = rng.random()
    if roll < 0.3:
        out = out.lower()
    elif roll < 0.36:
        out = out.upper()
    if rng.random() < 0.25:
        out = out.rstrip(".!?")
    if rng.random() < 0.15:
        out = f"{out} {_pick(rng, _SLANG)}" if rng.random() < 0.5 else f"{_pick(rng, _SLANG)} {out}"
    if emoji and rng.random() < 0.3:
        out = f"{out} {_pick(rng, emoji) * int(rng.integers(1, 4))}"
    return out


class Phrasebook:
    """Composes one message per call; every choice comes from ``rng`` (same seed, same text)."""

    def __init__(self, rng: np.random.Generator, brand: str):
        self.rng = BufferedDraws(rng)
        self.brand = brand
        self.language = "en"  # of the last message composed

    def _p(self, options: Sequence[str]) -> str:
        return _pick(self.rng, options)

    def _at(self) -> str:
        return f"@{self.brand}"

    def _foreign(self, intent: str) -> str | None:
        """A message in a second language for ``intent``, or ``None`` (most of the time)."""
        self.language = "en"
        if self.rng.random() >= FOREIGN_SHARE:
            return None
        lines = {
            "churn_threat": (
                "{at} ich kündige mein Konto, die Lieferung kam schon wieder zu spät",
                "{at} estoy harta, voy a cancelar mi cuenta y comprar en otra tienda",
                "{at} j'en ai marre, je vais fermer mon compte chez vous",
            ),
            "complaint": (
                "{at} meine Bestellung ist kaputt angekommen und niemand antwortet",
                "{at} mi pedido llegó roto otra vez, qué desastre",
                "{at} ma commande est arrivée abîmée, service client introuvable",
            ),
            "praise": (
                "{at} super schnelle Lieferung, danke!",
                "{at} me encanta mi chaqueta nueva, gracias",
                "{at} très contente de ma commande, merci",
            ),
            "question": (
                "{at} liefert ihr auch nach Österreich?",
                "{at} ¿hacéis envíos a Canarias?",
                "{at} est-ce que vous livrez en Belgique ?",
            ),
            "suggestion": (
                "{at} bitte bietet Abholstationen an",
                "{at} ojalá tuvierais un modo oscuro en la app",
                "{at} ce serait bien d'avoir des emballages recyclables",
            ),
        }
        choice = int(self.rng.integers(3))
        self.language = ("de", "es", "fr")[choice]
        return lines[intent][choice].format(at=self._at())

    def churn_post(self) -> tuple[str, str]:
        """A drifting customer in public: ``(text, intent)``, a churn threat or a complaint."""
        foreign = self._foreign("churn_threat")
        if foreign:
            return foreign, "churn_threat"
        product, problem = self._p(_PRODUCTS), self._p(_PROBLEMS)
        grievance = self._p(
            (
                f"my {product} {problem}",
                f"{self._p(('second', 'third', 'fourth'))} time my {product} {problem}",
                "nobody answers my emails",
                f"the {product} quality has gone downhill",
                "customer service just keeps sending copy paste replies",
                f"my refund for the {product} is still not here",
            )
        )
        threat = self._p(
            (
                "I'm done, closing my account",
                "seriously thinking about taking my business elsewhere",
                "last order from you, ever",
                "this was my final purchase",
                "cancelling my membership today",
                "time to find another shop",
                "you just lost a customer after 4 years",
                "don't think I'll be ordering again",
                "unsubscribing and deleting the app",
            )
        )
        if self.rng.random() < 0.3:  # a complaint without saying they will leave
            return roughen(f"{self._at()} {grievance}. {self._p(('Not ok.', 'Really?', 'Fix it.', ''))}".strip(), self.rng), "complaint"  # fmt: skip
        frame = self._p(
            (
                "{at} {g}. {t}",
                "{g} and {at} doesn't care. {t}",
                "{t}. {g}, {at}",
                "Dear {at}, {g}. {t}.",
                "{at} {t} — {g}",
            )
        )
        return roughen(frame.format(at=self._at(), g=grievance, t=threat), self.rng), "churn_threat"

    def nudge(self) -> str:
        """A follow-up from someone still waiting for an answer."""
        return roughen(
            self._p(
                (
                    "{at} still no reply??",
                    "{at} hello? anyone there",
                    "day 5 and {at} hasn't answered",
                    "{at} waiting for an answer since Monday",
                    "{at} any update on this",
                )
            ).format(at=self._at()),
            self.rng,
        )

    def happy_post(self) -> tuple[str, str]:
        foreign = self._foreign("praise")
        if foreign:
            return foreign, "praise"
        product = self._p(_PRODUCTS)
        return roughen(
            self._p(
                (
                    "Love my new {p} from {at}",
                    "{at} you never disappoint",
                    "shoutout to {at}, the {p} came a day early",
                    "{at} best customer service I've had in years",
                    "Third {p} from {at} and still impressed",
                    "{at} the {p} fits perfectly, thank you",
                    "not gonna lie, {at} nailed it with the new {p}",
                    "{at} fast shipping and the {p} is gorgeous",
                )
            ).format(at=self._at(), p=product),
            self.rng,
        ), "praise"

    def question_post(self) -> tuple[str, str]:
        """A question — often with a cue word used off-topic, or a negated threat."""
        foreign = self._foreign("question")
        if foreign:
            return foreign, "question"
        product = self._p(_PRODUCTS)
        return roughen(
            self._p(
                (
                    "{at} do you ship to Norway?",
                    "does {at} have a sale this weekend",
                    "{at} is the {p} waterproof?",
                    "I'm leaving for a trip Friday, will my {at} {p} arrive before that?",
                    "{at} not cancelling, just asking: can I pause my order for a week?",
                    "{at} how do I cancel one item from my order, not the whole thing",
                    "{at} what's your return window for a {p}?",
                    "anyone know if {at} restocks the {p} in size M?",
                    "{at} my account email changed, how do I update it?",
                    "{at} quitting my job tomorrow lol, need a nice {p} for the last day, any tips?",
                )
            ).format(at=self._at(), p=product),
            self.rng,
        ), "question"

    def critic_post(self) -> tuple[str, str]:
        foreign = self._foreign("complaint")
        if foreign:
            return foreign, "complaint"
        topic = self._p(
            (
                "prices went up again",
                "the website is so slow today",
                "checkout keeps crashing on my phone",
                "returns cost money now",
                f"the {self._p(_PRODUCTS)} looked way better in the photos",
                '"fast shipping" means two weeks apparently',
                "the app logs me out every single time",
                "my coupon got rejected for no reason",
                f"the {self._p(_PRODUCTS)} {self._p(_PROBLEMS)}",
                "support closed my ticket without answering",
            )
        )
        reaction = self._p(
            ("not impressed", "come on", "so annoying", "really?", "do better", "", "sigh")
        )
        frame = self._p(("{at} {t}, {r}", "{t} {at}. {r}", "why {at}... {t}. {r}"))
        text = frame.format(at=self._at(), t=topic, r=reaction).strip().rstrip(",.")
        return roughen(text, self.rng), "complaint"

    def idea_post(self, phrase: str) -> str:
        """Someone on social media suggesting ``phrase`` (one wording of an idea)."""
        foreign = self._foreign("suggestion")
        if foreign:
            return foreign
        frame = self._p(
            (
                "{at} suggestion: {x}",
                "{at} please, {x}",
                "would love it if {at} did this: {x}",
                "{x}. {at} make it happen",
                "hey {at}, idea for you: {x}",
                "{at} {x}?? would order way more",
            )
        )
        return roughen(frame.format(at=self._at(), x=phrase.lower()), self.rng)

    def idea_body(self, title: str) -> str:
        return (
            title
            + ". "
            + self._p(
                (
                    "It would make shopping here much easier.",
                    "Other shops have it already.",
                    "I'd order more often.",
                    "Please consider it!",
                    "My whole family would use it.",
                    "",
                )
            )
        ).strip()

    def churn_ticket(self) -> tuple[str, str, str]:
        """``(subject, body, intent)`` of a ticket from a customer about to leave."""
        self.language = "en"
        product, problem = self._p(_PRODUCTS), self._p(_PROBLEMS)
        subject = self._p(
            (
                "Cancel my account",
                f"{product.capitalize()} {problem}",
                "Refund still missing",
                "Very disappointed",
                "Complaint",
                "Close account please",
                "Third problem in a row",
            )
        )
        if self.rng.random() < 0.4:
            body = self._p(
                (
                    f"My {product} {problem} and my last two emails got no answer.",
                    f"Still waiting for the refund for my {product}. This is really disappointing.",
                    f"The {product} {problem}. Please sort this out.",
                )
            )
            return subject, roughen(body, self.rng, emoji=()), "complaint"
        body = self._p(
            (
                f"Please close my account. My {product} {problem} and I won't order again.",
                f"After the {product} {problem} I'm moving to another shop. Delete my account.",
                f"I have been a customer for years but the {product} {problem}. I'm considering other shops.",
                f"Cancel my membership. The {product} {problem}, again.",
                f"This is my last order. My {product} {problem} and nobody helped.",
            )
        )
        return subject, roughen(body, self.rng, emoji=()), "churn_threat"

    def routine_ticket(self) -> tuple[str, str, str]:
        """``(subject, body, intent)`` of an everyday question to support."""
        self.language = "en"
        product = self._p(_PRODUCTS)
        subject, body = self._p(
            (
                ("Change delivery address", "Can I change the delivery address for my open order?"),
                ("Invoice copy", "Could you send me a copy of the invoice for my last order?"),
                ("Product question", f"Is the {product} waterproof? Thanks!"),
                ("Discount code", "My discount code does not apply at checkout, can you help?"),
                ("Cancel one item", f"Please cancel the {product} from my order, I keep the rest."),
                ("Leaving for holidays", "I'm leaving on Friday, can the parcel go to my neighbour?"),
                ("Size exchange", f"The {product} is a bit small, can I swap it for a larger size?"),
                ("Gift wrap", "Do you offer gift wrapping for orders?"),
            )
        )  # fmt: skip
        return subject, roughen(body, self.rng, emoji=()), "question"

    def agreement(self) -> str:
        """A reply agreeing with someone else's post."""
        return roughen(
            self._p(("Totally agree with this!", "same here", "+1", "this. exactly this")), self.rng
        )

    def brand_reply(self, kind: str) -> str:
        return self._p(
            {
                "sorry": (
                    "Sorry to hear that, please send us a DM with your order number.",
                    "We're sorry! Our team will look into it, please DM us.",
                    "That's not the experience we want for you. DM us your order number?",
                ),
                "thanks": ("Thanks for the kind words!", "So glad you like it!"),
            }[kind]
        )
