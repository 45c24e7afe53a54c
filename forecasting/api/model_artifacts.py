"""Trained neural models of the merchant (read-only): which versions exist, what data they saw, how they trained.

The checkpoint's location on the server is left out: clients identify a version by name, version and sha256.
"""

from __future__ import annotations

import django_filters
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import serializers

from ecomforecast.api.viewsets import MerchantReadOnlyViewSet
from forecasting import artifact_selectors
from forecasting.models import ModelArtifact


class ModelArtifactSerializer(serializers.ModelSerializer):
    class Meta:
        model = ModelArtifact
        fields = [
            "id",
            "name",
            "version",
            "status",
            "trained_at",
            "data_cutoff",
            "train_data_end",
            "series_count",
            "n_parameters",
            "device",
            "training_seconds",
            "size_bytes",
            "sha256",
            "config",
            "metrics",
        ]
        read_only_fields = fields


class ModelArtifactFilter(django_filters.FilterSet):
    class Meta:
        model = ModelArtifact
        fields = ["name", "status"]


@extend_schema_view(
    list=extend_schema(description="Every version of every trained model, newest version first per model name."),
    retrieve=extend_schema(description="One trained model version by id (404 for another merchant's)."),
)
class ModelArtifactViewSet(MerchantReadOnlyViewSet):
    """Trained global models (neural tier): version, status, training data window, size and training log."""

    selector = staticmethod(artifact_selectors.model_artifact_list)
    queryset_model = ModelArtifact
    serializer_class = ModelArtifactSerializer
    filterset_class = ModelArtifactFilter
    ordering_fields = ["trained_at", "version", "name", "train_data_end"]
