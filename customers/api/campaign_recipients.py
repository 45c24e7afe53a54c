"""Campaign recipients: who was sent a campaign and who was held out, listed and upserted in bulk."""

from __future__ import annotations

import django_filters as filters
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.parsers import JSONParser
from rest_framework.response import Response

from customers.api import bulk_bodies
from customers.models import CampaignRecipient
from customers.recipient_selectors import campaign_recipient_list
from customers.recipient_services import MAX_LISTED_ERRORS, RecipientUpsertFailed, campaign_recipient_upsert
from ecomforecast.api.filters import IdFilter
from ecomforecast.api.schema import named_choice_field
from ecomforecast.api.serializers import RowErrorsSerializer
from ecomforecast.api.viewsets import MerchantReadOnlyViewSet

RECIPIENTS_DESCRIPTION = """Upserts a campaign's audience on (`campaign_id`, `customer_id`), the merchant's external
ids of an existing campaign and customer: `group` is `treatment` (sent) or `holdout` (randomly kept out, the
control group targeting learns from), `sent_on` the day the campaign went out. All or nothing: on error nothing is
written and the answer lists every problem, `row` being the recipient's index in `recipients` + 1 (row 0 is the
body as a whole). Sending the same body again changes nothing."""


class CampaignRecipientSerializer(serializers.ModelSerializer):
    campaign_external_id = serializers.CharField(source="campaign.external_id", read_only=True)
    customer_external_id = serializers.CharField(source="customer.external_id", read_only=True)
    group = named_choice_field(CampaignRecipient.Group, "RecipientGroup", read_only=True)

    class Meta:
        model = CampaignRecipient
        fields = ["id", "campaign", "campaign_external_id", "customer", "customer_external_id", "group", "sent_on"]
        read_only_fields = fields


class BulkRecipientSerializer(serializers.Serializer):
    campaign_id = serializers.CharField(max_length=64, help_text="the campaign's external id")
    customer_id = serializers.CharField(max_length=64, help_text="the customer's external id")
    group = named_choice_field(CampaignRecipient.Group, "RecipientGroup")
    sent_on = serializers.DateField()


class BulkRecipientsSerializer(serializers.Serializer):
    recipients = BulkRecipientSerializer(many=True, allow_empty=False, max_length=20000)


class RecipientUpsertReportSerializer(serializers.Serializer):
    rows_read = serializers.IntegerField()
    rows_created = serializers.IntegerField()
    rows_updated = serializers.IntegerField()
    rows_unchanged = serializers.IntegerField()


class CampaignRecipientFilter(filters.FilterSet):
    campaign = IdFilter(field_name="campaign_id")
    campaign_external_id = filters.CharFilter(field_name="campaign__external_id")
    customer_external_id = filters.CharFilter(field_name="customer__external_id")
    group = filters.ChoiceFilter(choices=CampaignRecipient.Group.choices)

    class Meta:
        model = CampaignRecipient
        fields = ["campaign", "campaign_external_id", "customer_external_id", "group"]


def _rejected(errors: list[dict]) -> Response:
    return Response(
        {"errors": errors[:MAX_LISTED_ERRORS], "error_count": len(errors)}, status=status.HTTP_400_BAD_REQUEST
    )


class CampaignRecipientViewSet(MerchantReadOnlyViewSet):
    selector = staticmethod(campaign_recipient_list)
    queryset_model = CampaignRecipient
    serializer_class = CampaignRecipientSerializer
    filterset_class = CampaignRecipientFilter
    ordering_fields = ["sent_on", "id"]

    @extend_schema(
        summary="Create or update campaign recipients",
        description=RECIPIENTS_DESCRIPTION,
        request=BulkRecipientsSerializer,
        responses={201: RecipientUpsertReportSerializer, 400: RowErrorsSerializer},
    )
    @action(detail=False, methods=["post"], parser_classes=[JSONParser], serializer_class=BulkRecipientsSerializer)
    def bulk(self, request):
        data, parse_error = bulk_bodies.parsed_body(request)
        if parse_error:
            return _rejected([{"row": 0, "column": None, "message": parse_error}])
        body = self.get_serializer(data=data)
        if not body.is_valid():
            # Same body shape as activity events: {"recipients": [...]} numbered by index + 1.
            return _rejected(bulk_bodies.activity_validation_errors(body.errors))
        try:
            report = campaign_recipient_upsert(merchant=self.get_merchant(), rows=body.validated_data["recipients"])
        except RecipientUpsertFailed as failure:
            return _rejected(failure.errors)
        return Response(report.as_dict(), status=status.HTTP_201_CREATED)
