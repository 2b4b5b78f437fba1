"""Taxonomies and their terms, and a service's attributes (the terms it is filed under)."""

from __future__ import annotations

from django.db import models

from acs.models import BaseModel
from resources.models.directory import Service, trigram_index


class Taxonomy(BaseModel):
    name = models.CharField(max_length=255, unique=True)
    description = models.TextField(blank=True)
    uri = models.URLField(blank=True)
    version = models.CharField(max_length=32, blank=True)

    class Meta(BaseModel.Meta):
        verbose_name_plural = "taxonomies"
        ordering = ("name", "id")

    def __str__(self) -> str:
        return self.name


class TaxonomyTerm(BaseModel):
    taxonomy = models.ForeignKey(Taxonomy, on_delete=models.PROTECT, related_name="terms")
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    code = models.CharField(max_length=64)
    name = models.CharField(max_length=255)
    description = models.TextField(blank=True)
    language = models.CharField(max_length=16, blank=True)
    term_uri = models.URLField(blank=True)

    class Meta(BaseModel.Meta):
        ordering = ("taxonomy_id", "code", "id")
        constraints = [
            models.UniqueConstraint(
                fields=["taxonomy", "code"], name="resources_taxonomyterm_code_unique"
            ),
        ]
        indexes = [trigram_index("name", "resources_term_name_trgm")]

    def __str__(self) -> str:
        return self.name


class Attribute(BaseModel):
    """Applies a taxonomy term to a service (HSDS `attribute` with link_entity "service")."""

    service = models.ForeignKey(Service, on_delete=models.CASCADE, related_name="attributes")
    taxonomy_term = models.ForeignKey(
        TaxonomyTerm, on_delete=models.PROTECT, related_name="attributes"
    )
    value = models.CharField(max_length=255, blank=True)

    class Meta(BaseModel.Meta):
        constraints = [
            models.UniqueConstraint(
                fields=["service", "taxonomy_term"], name="resources_attribute_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.service_id}: {self.taxonomy_term_id}"
