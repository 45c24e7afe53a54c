"""Inventory endpoints: each viewset names its selector, serializer and filters; the bases scope to the merchant."""

from __future__ import annotations

from ecomforecast.api.viewsets import MerchantModelViewSet, MerchantReadOnlyViewSet
from inventory.api import filters, serializers
from inventory.models import Category, Product, PurchaseOrder, StockLevel, Supplier, SupplierProduct
from inventory.selectors import (
    category_list,
    product_list,
    purchase_order_list,
    stock_level_list,
    supplier_list,
    supplier_product_list,
)


class CategoryViewSet(MerchantModelViewSet):
    selector = staticmethod(category_list)
    queryset_model = Category
    serializer_class = serializers.CategorySerializer
    filterset_class = filters.CategoryFilter
    search_fields = ["name"]
    ordering_fields = ["name", "id"]


class ProductViewSet(MerchantModelViewSet):
    selector = staticmethod(product_list)
    queryset_model = Product
    serializer_class = serializers.ProductSerializer
    filterset_class = filters.ProductFilter
    search_fields = ["sku", "name"]
    ordering_fields = ["sku", "name", "price", "created_at", "updated_at", "id"]


class SupplierViewSet(MerchantModelViewSet):
    selector = staticmethod(supplier_list)
    queryset_model = Supplier
    serializer_class = serializers.SupplierSerializer
    filterset_class = filters.SupplierFilter
    search_fields = ["code", "name"]
    ordering_fields = ["code", "name", "lead_time_mean_days", "id"]


class SupplierProductViewSet(MerchantModelViewSet):
    selector = staticmethod(supplier_product_list)
    queryset_model = SupplierProduct
    serializer_class = serializers.SupplierProductSerializer
    filterset_class = filters.SupplierProductFilter
    search_fields = ["product__sku", "supplier_sku"]
    ordering_fields = ["product__sku", "supplier__code", "id"]


class StockLevelViewSet(MerchantReadOnlyViewSet):
    selector = staticmethod(stock_level_list)
    queryset_model = StockLevel
    serializer_class = serializers.StockLevelSerializer
    filterset_class = filters.StockLevelFilter
    ordering_fields = ["date", "product__sku", "on_hand", "id"]


class PurchaseOrderViewSet(MerchantReadOnlyViewSet):
    selector = staticmethod(purchase_order_list)
    queryset_model = PurchaseOrder
    serializer_class = serializers.PurchaseOrderSerializer
    filterset_class = filters.PurchaseOrderFilter
    search_fields = ["external_id"]
    ordering_fields = ["ordered_at", "expected_at", "received_at", "external_id", "id"]
