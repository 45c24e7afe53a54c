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
