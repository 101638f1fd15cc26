"""The one list of every cookie and browser storage key the product sets, and why.

The cookie policy and the preference center render their tables from `ITEMS`, and the guard
tests fail when a response or page sets a name that is not declared here. Purposes are English
source text marked with `N_` and translated where they are shown.

Items with a `domain` live on another site that people visit through us (Stripe's Checkout and
customer portal): they are listed so the policy is complete, but our pages never set or read
them, so `find_item`, which judges what reaches our site, does not know them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from beatbun.consent.models import CATEGORIES, Category
from beatbun.i18n import N_

Kind = Literal["cookie", "localStorage", "sessionStorage", "script"]
Party = Literal["first", "third"]
KIND_LABELS: dict[Kind, str] = {
    "cookie": N_("Cookie"),
    "localStorage": N_("Local storage"),
    "sessionStorage": N_("Session storage"),
    "script": N_("Script"),
}

CONSENT_COOKIE = "__Host-consent"
PREFS_COOKIE = "__Host-prefs"
PREFS_SESSION_COOKIE = "__Host-prefs-session"
PERFORMANCE_COOKIE = "__Host-perf"
AGE_REFUSED_COOKIE = "__Host-age_refused"
DRAFT_STORAGE_PREFIX = "beatbun.draft."
PLAYER_STORAGE_KEY = "beatbun.player"
# Consent is asked again after six months (CNIL's recommended maximum).
CONSENT_MAX_AGE = 183 * 86400
PREFS_MAX_AGE = 365 * 86400
PERFORMANCE_MAX_AGE = 30 * 86400
AGE_REFUSED_MAX_AGE = 86400
# Where Stripe's hosted payment pages live; Stripe sets its own cookies there.
STRIPE_PAGES = "checkout.stripe.com, billing.stripe.com"


@dataclass(frozen=True)
class Item:
    """One cookie, storage key or script; `prefix` items match every name that starts with it.

    `domain` names the other site that sets the item, when it is not set on ours.
    """

    name: str
    kind: Kind
    category: Category
    purpose: str
    lifetime: str
    party: Party = "first"
    prefix: bool = False
    domain: str = ""

    @property
    def kind_label(self) -> str:
        return KIND_LABELS[self.kind]

    def matches(self, name: str) -> bool:
        return name.startswith(self.name) if self.prefix else name == self.name


CATEGORY_TITLES: dict[Category, str] = {
    "necessary": N_("Strictly necessary"),
    "performance": N_("Performance"),
    "functionality": N_("Functionality"),
    "marketing": N_("Marketing"),
}
CATEGORY_DESCRIPTIONS: dict[Category, str] = {
    "necessary": N_(
        "Needed for the site to work and for your security: logging in, protecting forms,"
        " and remembering the choices you make here. They cannot be switched off."
    ),
    "performance": N_(
        "First-party measurement of how the product is used: page views, clicks on genre tags,"
        " time spent in the prompt box before submitting, how long the player takes to start"
        " and how long it stalls, and how long downloads take and how large they are. We"
        " store counts per day, never your IP address, and the daily pseudonym cannot be"
        " linked from one day to the next."
    ),
    "functionality": N_(
        "Remembers your theme and language beyond this browser session, and keeps an"
        " unfinished prompt in the studio so you can pick it up again."
    ),
    "marketing": N_(
        "Lets a third-party advertising tag measure campaigns. It is never loaded unless you"
        " allow it, and a Global Privacy Control signal turns it off."
    ),
}

ITEMS: tuple[Item, ...] = (
    Item(
        "__Host-session",
        "cookie",
        "necessary",
        N_("Keeps you logged in; holds a random token, never your password."),
        N_("Until you log out, or 14 days"),
    ),
    Item(
        "__Host-csrf",
        "cookie",
        "necessary",
        N_("Protects forms against requests forged by other sites while you are logged out."),
        N_("Browser session"),
    ),
    Item(
        CONSENT_COOKIE,
        "cookie",
        "necessary",
        N_(
            "A random pseudonym under which your cookie choices are recorded, so we can honor them."
        ),
        N_("6 months"),
    ),
    Item(
        AGE_REFUSED_COOKIE,
        "cookie",
        "necessary",
        N_(
            "Set when a date of birth was refused at sign-up, so this browser cannot sign up"
            " with another one for a day. It holds only its own expiry time, signed, and"
            " nothing about the person."
        ),
        N_("24 hours"),
    ),
    Item(
        PREFS_SESSION_COOKIE,
        "cookie",
        "necessary",
        N_("The theme and language you picked, kept only until you close the browser."),
        N_("Browser session"),
    ),
    Item(
        PREFS_COOKIE,
        "cookie",
        "functionality",
        N_("Remembers the theme and language you picked across visits."),
        N_("1 year"),
    ),
    Item(
        PLAYER_STORAGE_KEY,
        "sessionStorage",
        "necessary",
        N_(
            "The track in the player, where it was and whether it was playing, so it carries on"
            " when you open another page."
        ),
        N_("Until you close the tab"),
    ),
    Item(
        DRAFT_STORAGE_PREFIX,
        "localStorage",
        "functionality",
        N_("An unfinished prompt in the studio, offered back on your next visit."),
        N_("Until you submit it, clear it or withdraw consent"),
        prefix=True,
    ),
    Item(
        PERFORMANCE_COOKIE,
        "cookie",
        "performance",
        N_("A random identifier, hashed with a salt that changes daily, to count visitors."),
        N_("30 days"),
    ),
    Item(
        "marketing-tag",
        "script",
        "marketing",
        N_("The advertising partner's tag, when one is configured; it may set its own cookies."),
        N_("Set by the partner"),
        party="third",
    ),
    # Stripe's own cookies on its Checkout and portal pages, for fraud prevention
    # (docs.stripe.com/js/appendix/cookies, stripe.com/cookies-policy/legal). We cannot switch
    # them off: paying without them is not possible.
    Item(
        "__stripe_mid",
        "cookie",
        "necessary",
        N_(
            "Set by Stripe on its payment pages: a random device identifier that helps Stripe"
            " detect and prevent fraud."
        ),
        N_("1 year"),
        party="third",
        domain=STRIPE_PAGES,
    ),
    Item(
        "__stripe_sid",
        "cookie",
        "necessary",
        N_(
            "Set by Stripe on its payment pages: a random session identifier that helps Stripe"
            " detect and prevent fraud while you pay."
        ),
        N_("30 minutes"),
        party="third",
        domain=STRIPE_PAGES,
    ),
    Item(
        "m",
        "cookie",
        "necessary",
        N_(
            "Set by Stripe's fraud prevention service while you use its payment pages: a random"
            " device identifier that helps Stripe detect and prevent fraud."
        ),
        N_("2 years"),
        party="third",
        domain="m.stripe.com",
    ),
)


def find_item(name: str, *, kind: Kind) -> Item | None:
    """The declared item our site may meet under `name`; items of other sites are not among them."""
    return next(
        (item for item in ITEMS if item.kind == kind and not item.domain and item.matches(name)),
        None,
    )


def items_in(category: Category) -> tuple[Item, ...]:
    return tuple(item for item in ITEMS if item.category == category)


@dataclass(frozen=True)
class CategoryTable:
    """One category as the cookie policy and the preference center list it."""

    key: Category
    title: str
    description: str
    items: tuple[Item, ...]


def category_tables() -> list[CategoryTable]:
    return [
        CategoryTable(key, CATEGORY_TITLES[key], CATEGORY_DESCRIPTIONS[key], items_in(key))
        for key in CATEGORIES
    ]


def storage_items() -> tuple[Item, ...]:
    """Keys the page itself must clear when their category is withdrawn."""
    return tuple(item for item in ITEMS if item.kind in ("localStorage", "sessionStorage"))
