"""The policy-change notice: one email per account listing every significant change it has
not been told about yet, in the account's language.

A notice about one document keeps that document's own subject; a notice about several has a
general one. Each change is a paragraph (`CHANGE`) filled in before the body is.
"""

from __future__ import annotations

from beatbun.i18n import N_
from beatbun.mail.compose import AccountMail
from beatbun.policies.versions import Document

CHANGE = N_(
    "%(document)s, version %(version)s, effective %(date)s\nWhat changes: %(summary)s"
    "\nRead the whole document: %(link)s"
)
WHY = N_(
    "We send this notice to every account when one of our policies changes significantly,"
    " whatever your email preferences."
)
_ONE = N_(
    "Hello,\n\nwe have published a new version of a document that applies to your %(site)s"
    " account.\n\n%(changes)s\n\n%(why)s"
)
_SEVERAL = N_(
    "Hello,\n\nwe have published new versions of several documents that apply to your"
    " %(site)s account.\n\n%(changes)s\n\n%(why)s"
)
POLICY_CHANGED: dict[Document, AccountMail] = {
    "privacy": AccountMail(subject=N_("%(site)s: privacy policy update"), body=_ONE),
    "cookies": AccountMail(subject=N_("%(site)s: cookie policy update"), body=_ONE),
    "terms": AccountMail(subject=N_("%(site)s: terms of service update"), body=_ONE),
}
POLICIES_CHANGED = AccountMail(subject=N_("%(site)s: updates to our policies"), body=_SEVERAL)
