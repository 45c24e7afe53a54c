"""Catalogue, supplier, stock and purchase-order payloads; references use the merchant's SKUs and codes."""

from __future__ import annotations

from rest_framework import serializers

from ecomforecast.api.fields import MerchantPrimaryKeyRelatedField, MerchantSlugRelatedField
from ecomforecast.api.schema import named_choice_field
from ecomforecast.api.serializers import MerchantOwnedSerializer
from inventory.models import (
    Category,
    Product,
    PurchaseOrder,
    PurchaseOrderLine,
    ReorderLine,
    ReorderPlan,
    ReplenishmentSettings,
    StockLevel,
    Supplier,
    SupplierProduct,
)


class CategorySerializer(MerchantOwnedSerializer):
    parent = MerchantPrimaryKeyRelatedField(queryset=Category.objects.all(), allow_null=True, required=False)
    merchant_unique_fields = ("name",)

    class Meta:
        model = Category
        fields = ["id", "name", "parent"]

    def validate_parent(self, parent: Category | None) -> Category | None:
        if self.instance is None:
            return parent
        ancestor, visited = parent, set()
        while ancestor is not None and ancestor.pk not in visited:
            if ancestor.pk == self.instance.pk:
                raise serializers.ValidationError("A category cannot be its own ancestor.")
            visited.add(ancestor.pk)
            ancestor = ancestor.parent
        return parent


class ProductSerializer(MerchantOwnedSerializer):
    category = MerchantPrimaryKeyRelatedField(queryset=Category.objects.all(), allow_null=True, required=False)
    category_name = serializers.CharField(source="category.name", read_only=True, allow_null=True)
    merchant_unique_fields = ("sku",)

    class Meta:
        model = Product
        fields = [
            "id",
            "sku",
            "name",
            "category",
            "category_name",
            "price",
            "unit_cost",
            "active",
            "created_at",
            "updated_at",
        ]


class SupplierSerializer(MerchantOwnedSerializer):
    merchant_unique_fields = ("code",)

    class Meta:
        model = Supplier
        fields = ["id", "code", "name", "lead_time_mean_days", "lead_time_std_days", "order_cost", "currency"]


class SupplierProductSerializer(MerchantOwnedSerializer):
    supplier_code = MerchantSlugRelatedField(source="supplier", slug_field="code", queryset=Supplier.objects.all())
    sku = MerchantSlugRelatedField(source="product", slug_field="sku", queryset=Product.objects.all())

    class Meta:
        model = SupplierProduct
        fields = [
            "id",
            "supplier",
            "supplier_code",
            "product",
            "sku",
            "supplier_sku",
            "lead_time_days",
            "lead_time_std_days",
            "min_order_qty",
            "pack_size",
            "unit_cost",
            "is_primary",
        ]
        read_only_fields = ["supplier", "product"]

    def validate(self, attrs):
        attrs = super().validate(attrs)
        supplier = attrs.get("supplier", getattr(self.instance, "supplier", None))
        product = attrs.get("product", getattr(self.instance, "product", None))
        clashes = SupplierProduct.objects.filter(merchant=self.merchant, supplier=supplier, product=product)
        if self.instance is not None:
            clashes = clashes.exclude(pk=self.instance.pk)
        if clashes.exists():
            raise serializers.ValidationError({"sku": ["This supplier already has terms for this SKU."]})
        return attrs


class StockLevelSerializer(serializers.ModelSerializer):
    sku = serializers.CharField(source="product.sku", read_only=True)

    class Meta:
        model = StockLevel
        fields = ["id", "product", "sku", "date", "on_hand"]
        read_only_fields = fields


class PurchaseOrderLineSerializer(serializers.ModelSerializer):
    sku = serializers.CharField(source="product.sku", read_only=True)

    class Meta:
        model = PurchaseOrderLine
        fields = ["id", "product", "sku", "quantity", "received_quantity", "unit_cost"]
        read_only_fields = fields


class PurchaseOrderSerializer(serializers.ModelSerializer):
    supplier_code = serializers.CharField(source="supplier.code", read_only=True)
    status = named_choice_field(PurchaseOrder.Status, "PurchaseOrderStatus", read_only=True)
    lead_time_days = serializers.IntegerField(read_only=True, allow_null=True, help_text="received minus ordered")
    lines = PurchaseOrderLineSerializer(many=True, read_only=True)

    class Meta:
        model = PurchaseOrder
        fields = [
            "id",
            "external_id",
            "supplier",
            "supplier_code",
            "status",
            "ordered_at",
            "expected_at",
            "received_at",
            "lead_time_days",
            "lines",
        ]
        read_only_fields = fields


class ReplenishmentSettingsSerializer(MerchantOwnedSerializer):
    category = MerchantPrimaryKeyRelatedField(queryset=Category.objects.all(), allow_null=True, required=False)
    product = MerchantPrimaryKeyRelatedField(queryset=Product.objects.all(), allow_null=True, required=False)

    class Meta:
        model = ReplenishmentSettings
        fields = ["id", "category", "product", "service_level", "review_days", "holding_cost_rate", "budget"]
        validators: list = []  # the scope rules below replace DRF's, which cannot see the implicit merchant

    def validate(self, attrs):
        attrs = super().validate(attrs)
        category = attrs.get("category", getattr(self.instance, "category", None))
        product = attrs.get("product", getattr(self.instance, "product", None))
        if category is not None and product is not None:
            raise serializers.ValidationError("A settings row is for a category or a product, not both.")
        budget = attrs.get("budget", getattr(self.instance, "budget", None))
        if budget is not None and (category is not None or product is not None):
            raise serializers.ValidationError({"budget": ["The budget is set on the merchant default row only."]})
        clashes = ReplenishmentSettings.objects.filter(merchant=self.merchant, category=category, product=product)
        if self.instance is not None:
            clashes = clashes.exclude(pk=self.instance.pk)
        if clashes.exists():
            scope = "product" if product else "category" if category else "merchant default"
            raise serializers.ValidationError(f"Settings for this {scope} already exist; update that row.")
        return attrs


class ReorderPlanSerializer(serializers.ModelSerializer):
    status = named_choice_field(ReorderPlan.Status, "ReorderPlanStatus", read_only=True)

    class Meta:
        model = ReorderPlan
        fields = [
            "id",
            "forecast_run_id",
            "plan_date",
            "status",
            "budget",
            "settings",
            "lines_total",
            "lines_to_order",
            "units_to_order",
            "cash_needed",
            "cash_within_budget",
            "revenue_at_risk",
            "notes",
            "created_at",
            "approved_at",
        ]
        read_only_fields = fields


class CampaignNeedSerializer(serializers.Serializer):
    """A planned campaign's stock check on a reorder line."""

    campaign_id = serializers.IntegerField()
    name = serializers.CharField()
    starts_on = serializers.DateField()
    ends_on = serializers.DateField()
    demand_p90 = serializers.FloatField(help_text="P90 demand from the plan date to the campaign's last day")
    demand_mean = serializers.FloatField()
    available = serializers.FloatField(help_text="on hand - committed + open orders due by needed_by")
    required_units = serializers.IntegerField(help_text="units to order for the campaign, before MOQ and packs")
    needed_by = serializers.DateField()
    order_by = serializers.DateField()
    late = serializers.BooleanField(help_text="even ordered on the plan date, a P90 lead time lands after needed_by")


class ReorderLineSerializer(serializers.ModelSerializer):
    sku = serializers.CharField(source="product.sku", read_only=True)
    product_name = serializers.CharField(source="product.name", read_only=True)
    category = serializers.IntegerField(source="product.category_id", read_only=True, allow_null=True)
    supplier_code = serializers.CharField(source="supplier.code", read_only=True, allow_null=True)
    status = named_choice_field(ReorderLine.Status, "ReorderLineStatus", read_only=True)
    urgency = named_choice_field(ReorderLine.Urgency, "ReorderUrgency", read_only=True)
    campaign_needs = CampaignNeedSerializer(many=True, read_only=True)

    class Meta:
        model = ReorderLine
        fields = [
            "id",
            "plan",
            "product",
            "sku",
            "product_name",
            "category",
            "supplier",
            "supplier_code",
            "status",
            "urgency",
            "priority",
            "within_budget",
            "on_hand",
            "on_order",
            "committed",
            "inventory_position",
            "stock_known",
            "mean_daily_demand",
            "lead_time_days_mean",
            "lead_time_days_p90",
            "lead_time_source",
            "review_days",
            "service_level",
            "lead_time_demand_p50",
            "lead_time_demand_p90",
            "safety_stock",
            "reorder_point",
            "order_up_to",
            "economic_order_quantity",
            "suggested_quantity",
            "rounded_quantity",
            "final_quantity",
            "rounding_reason",
            "order_by",
            "needed_by",
            "stockout_p50",
            "stockout_p90",
            "days_of_cover_before",
            "days_of_cover_after",
            "unit_cost",
            "price",
            "cash_needed",
            "revenue_at_risk",
            "explanation",
            "campaign_needs",
            "purchase_order",
        ]
        read_only_fields = fields


class ReorderApproveSerializer(serializers.Serializer):
    lines = serializers.ListField(
        child=serializers.IntegerField(min_value=1),
        required=False,
        help_text="line ids to approve; default every ordering line within the budget",
    )
    quantities = serializers.DictField(
        child=serializers.IntegerField(min_value=0, max_value=10_000_000),
        required=False,
        help_text="{line id: final quantity} set before approving (0 drops the line)",
    )
    create_purchase_orders = serializers.BooleanField(
        default=False, help_text="also turn the approved lines into draft purchase orders, one per supplier"
    )

    def validate_quantities(self, value: dict) -> dict[int, int]:
        out = {}
        for key, quantity in value.items():
            if not str(key).isdigit():
                raise serializers.ValidationError(f"{key!r} is not a line id.")
            out[int(key)] = quantity
        return out
