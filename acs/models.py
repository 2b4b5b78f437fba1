"""The base every table of the project builds on."""

import uuid

from django.db import models


class BaseModel(models.Model):
    """Internal integer key; a UUID `public_id` is the only id that leaves the system."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True
        ordering = ("id",)


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
