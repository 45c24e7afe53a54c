"""Serializer bases shared by every app's API, and the serializers of the core (tenancy, imports) endpoints."""

from __future__ import annotations

from rest_framework import serializers

from ecomforecast.api.schema import named_choice_field
from ecomforecast.models import ApiKey, ImportJob, Merchant


class MerchantOwnedSerializer(serializers.ModelSerializer):
    """A serializer of merchant-owned rows that checks the model's per-merchant unique fields.

    The merchant is implicit (it comes from the request), so DRF cannot derive these checks from the model's
    constraints; without them a duplicate would only surface as a database error.
    """

    merchant_unique_fields: tuple[str, ...] = ()

    @property
    def merchant(self):
        return self.context["merchant"]

    def validate(self, attrs):
        attrs = super().validate(attrs)
        for field_name in self.merchant_unique_fields:
            if field_name not in attrs:
                continue
            clashes = self.Meta.model.objects.filter(merchant=self.merchant, **{field_name: attrs[field_name]})
            if self.instance is not None:
                clashes = clashes.exclude(pk=self.instance.pk)
            if clashes.exists():
                label = (self.fields[field_name].label or field_name).lower()
                message = f"Another {self.Meta.model._meta.verbose_name} already has this {label}."
                raise serializers.ValidationError({field_name: [message]})
        return attrs


class RowErrorSerializer(serializers.Serializer):
    row = serializers.IntegerField(help_text="1-based record number in the request body (see the endpoint)")
    column = serializers.CharField(allow_null=True)
    message = serializers.CharField()


class RowErrorsSerializer(serializers.Serializer):
    errors = RowErrorSerializer(many=True)
    error_count = serializers.IntegerField(help_text="all errors; at most 1000 are listed")


class ImportReportSerializer(serializers.Serializer):
    kind = serializers.CharField()
    format = serializers.CharField()
    rows_read = serializers.IntegerField()
    rows_created = serializers.IntegerField()
    rows_updated = serializers.IntegerField()
    rows_unchanged = serializers.IntegerField()
    rows_skipped = serializers.IntegerField()
    skipped_by_reason = serializers.DictField(child=serializers.IntegerField())
    errors = RowErrorSerializer(many=True)
    error_count = serializers.IntegerField()
    extra = serializers.DictField(help_text="format-specific figures (orders created, customers created, ...)")


class MerchantSerializer(serializers.ModelSerializer):
    class Meta:
        model = Merchant
        fields = ["id", "slug", "name", "currency", "timezone", "created_at", "pretraining_consent_at"]
        read_only_fields = fields


class ApiKeySerializer(serializers.ModelSerializer):
    class Meta:
        model = ApiKey
        fields = ["id", "name", "prefix", "role", "created_at", "last_used_at", "revoked_at"]
        read_only_fields = fields


class ImportJobSerializer(serializers.ModelSerializer):
    kind = named_choice_field(ImportJob.Kind, "ImportKind", read_only=True)
    status = named_choice_field(ImportJob.Status, "ImportStatus", read_only=True)
    errors = RowErrorSerializer(many=True, read_only=True)
    skipped_by_reason = serializers.DictField(child=serializers.IntegerField(), read_only=True)
    report = serializers.DictField(read_only=True)

    class Meta:
        model = ImportJob
        fields = [
            "id",
            "kind",
            "format",
            "filename",
            "status",
            "progress",
            "created_at",
            "started_at",
            "finished_at",
            "rows_read",
            "rows_created",
            "rows_updated",
            "rows_unchanged",
            "rows_skipped",
            "skipped_by_reason",
            "error_count",
            "errors",
            "report",
        ]
        read_only_fields = fields
