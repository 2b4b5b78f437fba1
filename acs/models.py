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
