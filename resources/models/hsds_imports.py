"""What hsds_import remembers of the imports it wrote: enough to answer an unchanged
re-import from a digest instead of reading and comparing every field again
(resources/hsds_import/unchanged.py)."""

from django.db import models

from acs.models import BaseModel


class HsdsImportRun(BaseModel):
    """One import that wrote without rejections: the digest of what it read, the directory's
    mark once it had written, and its report (records per kind, notes, what was not kept,
    warnings) to give again when the same input meets the same directory."""

    source = models.CharField(max_length=1024)  # the path as given, for people reading
    digest = models.CharField(max_length=64)  # sha256 of the input's bytes and the options
    mark = models.CharField(max_length=64)  # sha256 of the directory's tables' state
    report = models.JSONField()

    class Meta(BaseModel.Meta):
        indexes = [models.Index(fields=["digest", "mark"], name="resources_hsdsimport_dig_idx")]

    def __str__(self) -> str:
        return f"{self.source} ({self.created_at:%Y-%m-%d %H:%M})"
