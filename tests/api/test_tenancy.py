"""Merchant A can neither read, list, count, filter on nor write merchant B's rows, on every registered route."""

from __future__ import annotations

import re
import uuid

import pytest
from django_filters.rest_framework import DjangoFilterBackend
from rest_framework.relations import ManyRelatedField, SlugRelatedField

from ecomforecast.api.fields import MerchantScopedRelatedMixin
from tests.api.conftest import ROUTES, WRITABLE_ROUTES
from tests.api.rows import make_row, rows_of
from tests.factories import CategoryFactory, ProductFactory, SupplierFactory

pytestmark = pytest.mark.django_db

EXACT_LOOKUPS = {"exact", "iexact", "in"}
# Write endpoints whose payloads name no other row (the others must have merchant-scoped reference fields).
ROUTES_WRITING_NO_REFERENCES = {"suppliers", "forecast-runs"}


def _list_url(prefix: str) -> str:
    return f"/api/v1/{prefix}/"


def _detail_url(prefix: str, pk: int) -> str:
    return f"/api/v1/{prefix}/{pk}/"


def _all_results(client, url: str, params: dict | None = None) -> tuple[int, set[int] | None]:
    """The count and the ids of a list (None for lists of rows without an id, such as forecast days)."""
    response = client.get(url, {**(params or {}), "page_size": 1000})
    assert response.status_code == 200, response.content
    body = response.json()
    rows = body["results"]
    return body["count"], ({row["id"] for row in rows} if all("id" in row for row in rows) else None)


def _value_at(row, path: str):
    """The value a filter on `path` (a__b__c) matches for `row`; to-many hops take the first related row."""
    value = row
    for attribute in path.split("__"):
        value = getattr(value, attribute, None)
        if hasattr(value, "all"):
            value = value.all().first()
        if value is None:
            return None
    return value


@pytest.mark.parametrize(("prefix", "viewset"), ROUTES)
def test_it_lists_and_counts_only_the_merchants_own_rows(client_of_merchant, merchant, other_merchant, prefix, viewset):
    model = viewset.queryset_model
    make_row(model, merchant)
    for _ in range(3):
        make_row(model, other_merchant)

    count, ids = _all_results(client_of_merchant, _list_url(prefix))

    own_ids = set(rows_of(model, merchant).values_list("pk", flat=True))
    assert own_ids
    assert count == len(own_ids)
    assert ids is None or ids == own_ids


@pytest.mark.parametrize(("prefix", "viewset"), ROUTES)
def test_it_answers_404_for_another_merchants_row_on_every_method(
    client_of_merchant, merchant, other_merchant, prefix, viewset
):
    model = viewset.queryset_model
    foreign = make_row(model, other_merchant)
    missing_pk = model.objects.order_by("-pk").values_list("pk", flat=True).first() + 1000

    for pk in (foreign.pk, missing_pk):
        assert client_of_merchant.get(_detail_url(prefix, pk)).status_code == 404
        if hasattr(viewset, "update"):
            assert client_of_merchant.patch(_detail_url(prefix, pk), {}, format="json").status_code == 404
            assert client_of_merchant.put(_detail_url(prefix, pk), {}, format="json").status_code == 404
        if hasattr(viewset, "destroy"):
            assert client_of_merchant.delete(_detail_url(prefix, pk)).status_code == 404

    assert model.objects.filter(pk=foreign.pk).exists()


@pytest.mark.parametrize(("prefix", "viewset"), ROUTES)
def test_it_finds_nothing_when_filtering_or_searching_by_another_merchants_values(
    client_of_merchant, merchant, other_merchant, prefix, viewset
):
    model = viewset.queryset_model
    own = make_row(model, merchant)
    foreign = make_row(model, other_merchant)
    filterset_class = DjangoFilterBackend().get_filterset_class(viewset(), model.objects.none())
    probes = []
    for name, query_filter in filterset_class.base_filters.items() if filterset_class else []:
        if query_filter.method is not None or query_filter.lookup_expr not in EXACT_LOOKUPS:
            continue
        probes.append((name, query_filter.field_name))
    probes += [("search", field) for field in getattr(viewset, "search_fields", [])]

    for parameter, path in probes:
        own_value, foreign_value = _value_at(own, path), _value_at(foreign, path)
        if foreign_value is None or isinstance(foreign_value, bool) or foreign_value == own_value:
            continue  # not identifying: shared choices (kind, status) rightly match the merchant's own rows
        if hasattr(foreign_value, "_meta"):
            foreign_value, own_value = foreign_value.pk, own_value.pk
        count, _ids = _all_results(client_of_merchant, _list_url(prefix), {parameter: str(foreign_value)})
        assert count == 0, f"{parameter}={foreign_value}"
        own_count, own_ids = _all_results(client_of_merchant, _list_url(prefix), {parameter: str(own_value)})
        assert own_count >= 1, f"{parameter}={own_value} should find the merchant's own row"
        assert own_ids is None or own.pk in own_ids


def _payload(prefix: str, merchant) -> dict:
    """A valid create payload for merchant's write endpoints, referencing merchant's own related rows."""
    payloads = {
        "categories": lambda: {
            "name": f"Garden {uuid.uuid4().hex[:6]}",
            "parent": CategoryFactory(merchant=merchant).pk,
        },
        "products": lambda: {
            "sku": f"NEW-{uuid.uuid4().hex[:6]}",
            "name": "Hose",
            "category": CategoryFactory(merchant=merchant).pk,
            "price": "12.50",
            "unit_cost": "5.00",
        },
        "suppliers": lambda: {"code": f"S-{uuid.uuid4().hex[:6]}", "name": "Garden Wholesale"},
        "supplier-products": lambda: {
            "supplier_code": SupplierFactory(merchant=merchant).code,
            "sku": ProductFactory(merchant=merchant).sku,
            "min_order_qty": 10,
            "pack_size": 5,
        },
        "forecast-runs": lambda: {"horizon": 14, "data_cutoff": "2024-03-31"},
        "replenishment-settings": lambda: {
            "product": ProductFactory(merchant=merchant).pk,
            "service_level": 0.97,
            "review_days": 14,
        },
        "campaigns": lambda: {
            "external_id": f"CMP-{uuid.uuid4().hex[:6]}",
            "name": "Spring",
            "starts_on": "2024-04-01",
            "ends_on": "2024-04-10",
            "discount_pct": "15.00",
            "skus": [ProductFactory(merchant=merchant).sku],
            "categories": [CategoryFactory(merchant=merchant).pk],
        },
    }
    if prefix not in payloads:
        raise AssertionError(f"add a valid create payload for /{prefix}/ to tests/api/test_tenancy.py")
    return payloads[prefix]()


def _scoped_reference_fields(viewset, request_context: dict):
    serializer = viewset.serializer_class(context=request_context)
    for name, field in serializer.fields.items():
        many = isinstance(field, ManyRelatedField)
        relation = field.child_relation if many else field
        if isinstance(relation, MerchantScopedRelatedMixin) and not field.read_only:
            yield name, relation, many


def _reference(relation, row):
    return getattr(row, relation.slug_field) if isinstance(relation, SlugRelatedField) else row.pk


def _missing_reference(relation):
    if isinstance(relation, SlugRelatedField):
        return f"NO-SUCH-{uuid.uuid4().hex[:8]}"
    return relation.queryset.model.objects.order_by("-pk").values_list("pk", flat=True).first() + 1000


def _normalised_errors(response, field_name: str, value) -> list[str]:
    assert response.status_code == 400, response.content
    return [re.sub(re.escape(str(value)), "<value>", message) for message in response.json()[field_name]]


@pytest.mark.parametrize(("prefix", "viewset"), WRITABLE_ROUTES)
def test_it_rejects_writes_referencing_another_merchants_rows_like_missing_ones(
    client_of_merchant, merchant, other_merchant, prefix, viewset
):
    model = viewset.queryset_model
    own_row = make_row(model, merchant)
    fields = list(_scoped_reference_fields(viewset, {"merchant": merchant}))
    for name, relation, many in fields:
        foreign_value = _reference(relation, make_row(relation.queryset.model, other_merchant))
        missing_value = _missing_reference(relation)
        valid_payload = _payload(prefix, merchant)
        own_count = rows_of(model, merchant).count()

        errors = {}
        for label, value in (("foreign", foreign_value), ("missing", missing_value)):
            payload = {**valid_payload, name: [value] if many else value}
            created = client_of_merchant.post(f"/api/v1/{prefix}/", payload, format="json")
            updated = client_of_merchant.patch(
                f"/api/v1/{prefix}/{own_row.pk}/", {name: [value] if many else value}, format="json"
            )
            errors[label] = (_normalised_errors(created, name, value), _normalised_errors(updated, name, value))

        assert errors["foreign"] == errors["missing"], name
        assert rows_of(model, merchant).count() == own_count
    if prefix not in ROUTES_WRITING_NO_REFERENCES:
        assert fields, f"/{prefix}/ references no other rows: add it to ROUTES_WRITING_NO_REFERENCES"


@pytest.mark.parametrize(("prefix", "viewset"), WRITABLE_ROUTES)
def test_it_creates_rows_for_the_acting_merchant_only(client_of_merchant, merchant, other_merchant, prefix, viewset):
    response = client_of_merchant.post(f"/api/v1/{prefix}/", _payload(prefix, merchant), format="json")

    assert response.status_code in {201, 202}, response.content
    created = viewset.queryset_model.objects.get(pk=response.json()["id"])
    assert created.merchant == merchant
    assert not rows_of(viewset.queryset_model, other_merchant).exists()
