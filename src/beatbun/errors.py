"""Every error the application raises on purpose.

Services raise these; `api` answers them as JSON `{"error": code, "message": ...}` and `web`
renders an error page. Each class carries an HTTP status and a stable code for API callers.
A message a person may read is an English source string marked with `N_` (placeholders
`%(name)s`, filled from `params`), so `web` can show it in the reader's language; a
`RuntimeFailure`'s message is for logs and API callers, and pages show a general one instead.

AppError
 ├── NotFound
 ├── Unauthenticated
 ├── PermissionDenied
 │    ├── ConsentRequired
 │    ├── ReauthenticationRequired
 │    ├── AccountInactive
 │    ├── TooYoung
 │    ├── ProcessingRestricted
 │    └── AccountLocked
 ├── Conflict
 │    └── ExportUnavailable
 ├── InvalidInput
 │    ├── InvalidFields
 │    └── UnknownPolicyVersion
 ├── PaymentRequired
 │    └── InsufficientCredits
 ├── TooManyRequests
 ├── WebhookRejected
 └── RuntimeFailure
      ├── PaymentProviderError
      ├── WebhookTooEarly
      ├── StorageError
      │    ├── DatabaseError
      │    │    └── ConstraintViolation
      │    └── BlobStoreError
      ├── CoordinatorError
      └── SealedDataError
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import ClassVar


class AppError(Exception):
    """Base of every deliberate error; `code` is stable for API callers, `message` is for people.

    `template` is the message before `params` filled it in, the key to its translations.
    """

    status: ClassVar[int] = 500
    default_code: ClassVar[str] = "internal_error"

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        params: Mapping[str, object] | None = None,
    ) -> None:
        self.template = message
        self.params = dict(params or {})
        self.message = message % self.params if self.params else message
        super().__init__(self.message)
        self.code = code or self.default_code


class NotFound(AppError):
    """The thing does not exist, or belongs to someone else (we never say which)."""

    status = 404
    default_code = "not_found"


class Unauthenticated(AppError):
    """No valid credentials came with the request (no session, a bad or revoked API key)."""

    status = 401
    default_code = "unauthenticated"


class PermissionDenied(AppError):
    """The caller is known but may not do this."""

    status = 403
    default_code = "permission_denied"


class ConsentRequired(PermissionDenied):
    """The action needs a consent category the user has not granted."""

    default_code = "consent_required"


class ReauthenticationRequired(PermissionDenied):
    """A sensitive change needs the password confirmed within the last few minutes."""

    default_code = "reauthentication_required"


class AccountInactive(PermissionDenied):
    """A 13 to 17 year old's account waits for their parent's consent: no session, no API key.

    `account_id` is for the login page, which offers to send the parent's link again; it is
    never part of the message.
    """

    default_code = "parent_consent_pending"

    def __init__(self, message: str, *, account_id: str = "", link_sent: bool = False) -> None:
        super().__init__(message)
        self.account_id = account_id
        self.link_sent = link_sent


class TooYoung(PermissionDenied):
    """The person signing up is under 13; nothing about them is kept."""

    default_code = "too_young"


class ProcessingRestricted(PermissionDenied):
    """The account restricted the processing of its data: nothing new is made from it."""

    default_code = "account_restricted"


class AccountLocked(PermissionDenied):
    """The account's erasure is scheduled: until it runs or is cancelled, only the privacy page
    (and logging out) is open to it, and its API keys are refused."""

    default_code = "account_locked"


class Conflict(AppError):
    """The request clashes with the current state (a duplicate, a stale version)."""

    status = 409
    default_code = "conflict"


class ExportUnavailable(Conflict):
    """A track cannot have the export asked for (stems and MIDI of a track the current
    composer did not make, FLAC of audio that is not WAV)."""

    default_code = "export_unavailable"


class InvalidInput(AppError):
    """The request is malformed or out of range; `field` names the culprit when there is one."""

    status = 422
    default_code = "invalid_input"

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        field: str | None = None,
        params: Mapping[str, object] | None = None,
    ) -> None:
        super().__init__(message, code=code, params=params)
        self.field = field


class InvalidFields(InvalidInput):
    """A form checked whole had several wrong fields; `problems` holds one error per field.

    It reads as its first problem (message, code, field), so API callers see one error.
    """

    def __init__(self, problems: Sequence[InvalidInput]) -> None:
        if not problems:
            raise ValueError("InvalidFields() needs at least one problem; raise nothing instead.")
        first = problems[0]
        super().__init__(first.template, code=first.code, field=first.field, params=first.params)
        self.problems = list(problems)


class UnknownPolicyVersion(InvalidInput):
    """An acknowledgement names a policy version that does not exist or was not significant."""

    default_code = "unknown_policy_version"


class PaymentRequired(AppError):
    """The action needs a payment first: more credits, or a paid plan."""

    status = 402
    default_code = "insufficient_credits"


class InsufficientCredits(PaymentRequired):
    """A charge was refused because the balance does not cover it; pages link to /pricing."""

    default_code = "insufficient_credits"


class TooManyRequests(AppError):
    """An account asked for the same kind of change too often; the limit is counted in SQL."""

    status = 429
    default_code = "too_many_requests"


class WebhookRejected(AppError):
    """A webhook's signature is missing, wrong or too old: it did not come from the sender."""

    status = 400
    default_code = "invalid_signature"


class RuntimeFailure(AppError):
    """A platform service (database, blob store, coordinator) failed underneath us."""

    status = 503
    default_code = "service_unavailable"


class PaymentProviderError(RuntimeFailure):
    """The payment provider (Stripe) could not be reached or refused a request of ours."""

    default_code = "payment_provider_error"


class WebhookTooEarly(RuntimeFailure):
    """A webhook names a payment we have not recorded yet; answering 5xx makes Stripe retry."""

    default_code = "webhook_too_early"


class StorageError(RuntimeFailure):
    """Reading or writing persistent state failed."""

    default_code = "storage_error"


class DatabaseError(StorageError):
    """D1 (or its local stand-in) refused or failed a statement."""

    default_code = "database_error"


class ConstraintViolation(DatabaseError):
    """A UNIQUE, CHECK, NOT NULL or FOREIGN KEY constraint refused a write.

    `kind` is the constraint's kind ("UNIQUE", "CHECK", ...) and `target` what SQLite names:
    the columns of a UNIQUE or NOT NULL constraint, the name (or expression) of a CHECK.
    """

    status = 409
    default_code = "constraint_violation"

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        params: Mapping[str, object] | None = None,
        kind: str = "",
        target: str = "",
    ) -> None:
        super().__init__(message, code=code, params=params)
        self.kind = kind
        self.target = target


class BlobStoreError(StorageError):
    """R2 (or its local stand-in) refused or failed an operation."""

    default_code = "blob_store_error"


class CoordinatorError(RuntimeFailure):
    """A Durable Object call failed or was refused."""

    default_code = "coordinator_error"


class SealedDataError(RuntimeFailure):
    """Encrypted data at rest could not be opened: unknown key id, wrong key or tampering."""

    default_code = "sealed_data_error"
