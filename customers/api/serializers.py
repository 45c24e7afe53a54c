"""Customer, order, activity and campaign payloads; references use the merchant's SKUs and external ids."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from customers.models import ActivityEvent, Campaign, Customer, Order, OrderLine
from ecomforecast.api.fields import MerchantPrimaryKeyRelatedField, MerchantSlugRelatedField
from ecomforecast.api.schema import named_choice_field
from ecomforecast.api.serializers import MerchantOwnedSerializer
from inventory.models import MONEY, Category, Product


class CustomerSerializer(serializers.ModelSerializer):
    class Meta:
        model = Customer
        fields = ["id", "external_id", "email", "name", "country", "first_seen_at", "created_at"]
        read_only_fields = fields


class OrderLineSerializer(serializers.ModelSerializer):
    sku = serializers.CharField(source="product.sku", read_only=True)
    kind = named_choice_field(OrderLine.Kind, "OrderLineKind", read_only=True)

    class Meta:
        model = OrderLine
        fields = ["line_number", "product", "sku", "kind", "quantity", "unit_price", "discount"]
        read_only_fields = fields


class OrderSerializer(serializers.ModelSerializer):
    customer_external_id = serializers.CharField(source="customer.external_id", read_only=True, allow_null=True)
    kind = named_choice_field(Order.Kind, "OrderKind", read_only=True)
    status = named_choice_field(Order.Status, "OrderStatus", read_only=True)
    lines = OrderLineSerializer(many=True, read_only=True)

    class Meta:
        model = Order
        fields = [
            "id",
            "external_id",
            "customer",
            "customer_external_id",
            "placed_at",
            "kind",
            "status",
            "channel",
            "country",
            "currency",
            "lines",
        ]
        read_only_fields = fields


class ActivityEventSerializer(serializers.ModelSerializer):
    customer_external_id = serializers.CharField(source="customer.external_id", read_only=True, allow_null=True)
    sku = serializers.CharField(source="product.sku", read_only=True, allow_null=True)
    kind = named_choice_field(ActivityEvent.Kind, "ActivityKind", read_only=True)

    class Meta:
        model = ActivityEvent
        fields = [
            "id",
            "event_key",
            "customer",
            "customer_external_id",
            "product",
            "sku",
            "kind",
            "occurred_at",
            "session_id",
            "query",
        ]
        read_only_fields = fields


class CampaignSerializer(MerchantOwnedSerializer):
    skus = MerchantSlugRelatedField(
        source="products", slug_field="sku", queryset=Product.objects.all(), many=True, required=False
    )
    categories = MerchantPrimaryKeyRelatedField(queryset=Category.objects.all(), many=True, required=False)
    merchant_unique_fields = ("external_id",)

    class Meta:
        model = Campaign
        fields = [
            "id",
            "external_id",
            "name",
            "starts_on",
            "ends_on",
            "discount_pct",
            "channel",
            "skus",
            "categories",
            "target_segment",
            "cost",
            "created_at",
        ]

    def validate(self, attrs):
        attrs = super().validate(attrs)
        starts_on = attrs.get("starts_on", getattr(self.instance, "starts_on", None))
        ends_on = attrs.get("ends_on", getattr(self.instance, "ends_on", None))
        if starts_on and ends_on and ends_on < starts_on:
            raise serializers.ValidationError({"ends_on": ["A campaign cannot end before it starts."]})
        return attrs


class LocalDateTimeField(serializers.DateTimeField):
    """Checked like any date-time but passed on as sent: the importer reads a time without an offset in the
    merchant's time zone, which DRF would otherwise pin to the server's."""

    def to_internal_value(self, value):
        super().to_internal_value(value)
        return value


class BulkOrderLineSerializer(serializers.Serializer):
    sku = serializers.CharField(max_length=64)
    quantity = serializers.IntegerField(help_text="units; a negative quantity is a returned line")
    unit_price = serializers.DecimalField(**MONEY, min_value=0)
    discount = serializers.DecimalField(**MONEY, min_value=0, required=False, help_text="per line, default 0")


class BulkOrderSerializer(serializers.Serializer):
    order_id = serializers.CharField(max_length=64)
    placed_at = LocalDateTimeField(help_text="ISO 8601; without an offset, in the merchant's time zone")
    customer_id = serializers.CharField(max_length=64, required=False, allow_blank=True)
    customer_email = serializers.EmailField(required=False, allow_blank=True)
    channel = serializers.CharField(max_length=32, required=False, allow_blank=True)
    status = named_choice_field(Order.Status, "OrderStatus", required=False)
    country = serializers.CharField(max_length=64, required=False, allow_blank=True)
    currency = serializers.CharField(max_length=3, required=False, allow_blank=True)
    lines = BulkOrderLineSerializer(many=True, allow_empty=False)


class BulkOrdersSerializer(serializers.Serializer):
    orders = BulkOrderSerializer(many=True, allow_empty=False, max_length=5000)


class BulkActivityEventSerializer(serializers.Serializer):
    event_id = serializers.CharField(max_length=64, required=False, allow_blank=True, help_text="else a hash")
    customer_id = serializers.CharField(max_length=64, required=False, allow_blank=True)
    sku = serializers.CharField(max_length=64, required=False, allow_blank=True)
    kind = named_choice_field(ActivityEvent.Kind, "ActivityKind")
    occurred_at = LocalDateTimeField(help_text="ISO 8601; without an offset, in the merchant's time zone")
    session_id = serializers.CharField(max_length=64, required=False, allow_blank=True)
    query = serializers.CharField(max_length=200, required=False, allow_blank=True)


class BulkActivitySerializer(serializers.Serializer):
    events = BulkActivityEventSerializer(many=True, allow_empty=False, max_length=20000)


class BulkOrderErrorSerializer(serializers.Serializer):
    row = serializers.IntegerField(help_text="1-based record number of the flattened order lines; 0 = whole body")
    column = serializers.CharField(allow_null=True)
    message = serializers.CharField()
    order = serializers.IntegerField(allow_null=True, help_text="0-based position of the order in the body")
    line = serializers.IntegerField(allow_null=True, help_text="0-based position of the line in its order")


class BulkOrderErrorsSerializer(serializers.Serializer):
    errors = BulkOrderErrorSerializer(many=True)
    error_count = serializers.IntegerField(help_text="all errors; at most 1000 are listed")


class LatestScoresSerializer(serializers.Serializer):
    """The customer's row in the merchant's latest customer-score run (history: /customers/{id}/scores/)."""

    run = serializers.IntegerField(source="run_id")
    data_cutoff = serializers.DateField(source="run.data_cutoff")
    segment = serializers.CharField()
    churn_risk = serializers.FloatField()
    p_alive = serializers.FloatField()
    p_purchase_30d = serializers.FloatField()
    expected_orders_90d = serializers.FloatField()
    clv_12m = serializers.FloatField()
    model = serializers.CharField()


class CustomerDetailSerializer(CustomerSerializer):
    latest_scores = serializers.SerializerMethodField()

    class Meta(CustomerSerializer.Meta):
        fields = [*CustomerSerializer.Meta.fields, "latest_scores"]
        read_only_fields = fields

    @extend_schema_field(LatestScoresSerializer(allow_null=True))
    def get_latest_scores(self, customer: Customer) -> dict | None:
        # Scores are forecasts, so they live in the forecasting app and are read through its selector.
        from forecasting.customer_selectors import customer_score_latest

        score = customer_score_latest(merchant=self.context["merchant"], customer=customer)
        return LatestScoresSerializer(score).data if score is not None else None
