"""The base every table of the project builds on."""

import uuid
from collections.abc import Sequence
from typing import ClassVar

from django.db import models


class BaseModel(models.Model):
    """Internal integer key; a UUID `public_id` is the only id that leaves the system."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True
        ordering: ClassVar[Sequence[str]] = ("id",)


class ApiToken(BaseModel):
    """A bearer token of a machine client (CAD, a partner agency's system).

    The token itself is shown once, at issue; only its SHA-256 is stored (the token is 32
    random bytes, so a slow hash adds nothing). It acts as its `user`, whose role decides what
    it may do, and it can be revoked or left to expire.
    """

    user = models.ForeignKey("responders.User", on_delete=models.PROTECT, related_name="api_tokens")
    name = models.CharField(max_length=120)
    prefix = models.CharField(max_length=16, unique=True)
    digest = models.CharField(max_length=64, unique=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"


class AuditAction(models.TextChoices):
    VIEW = "view", "View"
    SEARCH = "search", "Search"
    CREATE = "create", "Create"
    CHANGE = "change", "Change"
    MERGE = "merge", "Merge"
    UNMERGE = "unmerge", "Undo merge"
    EXPORT = "export", "Export"
    DISCLOSE = "disclose", "Disclose"
    # Sign-in events (acs/signin.py, acs/sessions.py): the target is the account.
    SIGN_IN_FAILED = "signin_fail", "Sign-in failed"
    LOCKED_OUT = "locked_out", "Sign-in refused (locked out)"
    IDLE_SIGN_OUT = "idle_logout", "Signed out after inactivity"


class AuditEvent(BaseModel):
    """Who did what to which record, when, from where, and why when it is out of the ordinary.

    Append-only: a database trigger refuses UPDATE and DELETE, except the one-time sealing
    that sets `seq`, `prev_hash` and `hash` on an unsealed row and changes nothing else. The
    sealed events form a hash chain (acs/audit_chain.py): editing, removing or inserting an
    event anywhere breaks it, and `manage.py audit_verify` says where. It names records by their
    public id and type, and carries no personal data itself.
    """

    Action = AuditAction

    actor = models.ForeignKey(
        "responders.User", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    action = models.CharField(max_length=12, choices=AuditAction.choices)
    target_type = models.CharField(max_length=40)
    target_id = models.UUIDField()
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    reason = models.CharField(max_length=255, blank=True)
    detail = models.JSONField(default=dict, blank=True)
    # The hash chain, set once by the sealer: position, the previous event's hash, this one's.
    seq = models.BigIntegerField(null=True, blank=True, unique=True, editable=False)
    prev_hash = models.CharField(max_length=64, blank=True, editable=False)
    hash = models.CharField(max_length=64, blank=True, editable=False)

    class Meta(BaseModel.Meta):
        constraints = [
            models.CheckConstraint(
                condition=models.Q(action__in=[a.value for a in AuditAction]),
                name="acs_auditevent_action_valid",
            ),
        ]
        indexes = [
            models.Index(
                fields=["target_type", "target_id", "-created_at"], name="acs_audit_target_idx"
            ),
            models.Index(fields=["actor", "action", "-created_at"], name="acs_audit_actor_idx"),
            models.Index(
                fields=["id"], name="acs_audit_unsealed_idx", condition=models.Q(seq__isnull=True)
            ),
        ]

    def __str__(self) -> str:
        return f"{self.action} {self.target_type} {self.target_id}"
