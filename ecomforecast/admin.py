"""Staff admin for tenancy and imports; the base classes every app's merchant-owned admin uses."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.template.response import TemplateResponse
from django.utils.html import format_html, format_html_join

from ecomforecast.models import ApiKey, ImportJob, Membership, Merchant, MerchantOwned
from ecomforecast.services import api_key_create, api_keys_revoke


class MerchantConsistentForm(forms.ModelForm):
    """Rejects references to another merchant's rows (a product of shop B on an order of shop A)."""

    def clean(self):
        cleaned = super().clean()
        merchant = cleaned.get("merchant")
        if merchant is None and self.instance.merchant_id is not None:
            merchant = self.instance.merchant
        if merchant is None:
            return cleaned
        for name, value in list(cleaned.items()):
            related = list(value) if isinstance(value, QuerySet | list) else [value]
            if any(isinstance(row, MerchantOwned) and row.merchant_id != merchant.pk for row in related):
                self.add_error(name, f"Choose rows of {merchant}; this one belongs to another merchant.")
        return cleaned


class MerchantOwnedAdmin(admin.ModelAdmin):
    """Staff see every merchant; the merchant is always a column, a filter and a joined table."""

    form = MerchantConsistentForm
    list_filter: tuple = ("merchant",)
    list_select_related: tuple = ("merchant",)
    autocomplete_fields: tuple = ("merchant",)
    list_per_page = 100


class MerchantOwnedInline(admin.TabularInline):
    """Inline rows take the merchant of the row they belong to."""

    exclude = ("merchant",)
    extra = 0


class MerchantInlineParentAdmin(MerchantOwnedAdmin):
    def save_formset(self, request: HttpRequest, form, formset, change: bool) -> None:
        for inline_form in formset.forms:
            if hasattr(inline_form.instance, "merchant_id"):
                inline_form.instance.merchant_id = form.instance.merchant_id
        super().save_formset(request, form, formset, change)


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ("user",)


@admin.register(Merchant)
class MerchantAdmin(admin.ModelAdmin):
    list_display = ("name", "slug", "currency", "timezone", "created_at", "pretraining_consent_at")
    search_fields = ("name", "slug")
    list_filter = ("currency", ("pretraining_consent_at", admin.EmptyFieldListFilter))
    prepopulated_fields = {"slug": ("name",)}
    inlines = (MembershipInline,)


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ("user", "merchant", "role", "created_at")
    list_filter = ("merchant", "role")
    search_fields = ("user__username", "user__email", "merchant__name", "merchant__slug")
    list_select_related = ("user", "merchant")
    autocomplete_fields = ("user", "merchant")


@admin.action(description="Revoke the selected keys")
def revoke_api_keys(modeladmin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet[ApiKey]) -> None:
    revoked = api_keys_revoke(api_keys=queryset)
    modeladmin.message_user(request, f"Revoked {revoked} key(s).", messages.SUCCESS)


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    """Adding a key creates it through api_key_create and shows the raw key on the next page only."""

    list_display = ("name", "merchant", "prefix", "role", "created_by", "created_at", "last_used_at", "revoked_at")
    list_filter = ("merchant", "role", ("revoked_at", admin.EmptyFieldListFilter))
    search_fields = ("name", "prefix", "merchant__name", "merchant__slug")
    list_select_related = ("merchant", "created_by")
    autocomplete_fields = ("merchant",)
    actions = (revoke_api_keys,)

    def get_fields(self, request: HttpRequest, obj: ApiKey | None = None):
        if obj is None:
            return ("merchant", "name", "role")
        return ("merchant", "name", "role", "prefix", "created_by", "created_at", "last_used_at", "revoked_at")

    def get_readonly_fields(self, request: HttpRequest, obj: ApiKey | None = None):
        if obj is None:
            return ()
        return ("merchant", "prefix", "created_by", "created_at", "last_used_at")

    def save_model(self, request: HttpRequest, obj: ApiKey, form, change: bool) -> None:
        if change:
            super().save_model(request, obj, form, change)
            return
        created, raw_key = api_key_create(merchant=obj.merchant, name=obj.name, role=obj.role, created_by=request.user)
        # The admin goes on with `obj` (change log, redirect), so it becomes the row the service saved.
        obj.pk = created.pk
        obj.prefix = created.prefix
        obj.key_hash = created.key_hash
        obj.created_by = created.created_by
        obj.created_at = created.created_at
        obj._state = created._state
        request.new_api_key_raw = raw_key

    def response_add(self, request: HttpRequest, obj: ApiKey, post_url_continue=None):
        raw_key = getattr(request, "new_api_key_raw", None)
        if raw_key is None:
            return super().response_add(request, obj, post_url_continue)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "api_key": obj,
            "raw_key": raw_key,
            "title": "API key created",
        }
        response = TemplateResponse(request, "admin/ecomforecast/apikey/key_created.html", context)
        response["Cache-Control"] = "no-store"
        return response


@admin.register(ImportJob)
class ImportJobAdmin(admin.ModelAdmin):
    """Read-only: an import's row is its history; it is changed only by the import that wrote it."""

    list_display = (
        "created_at",
        "merchant",
        "kind",
        "format",
        "filename",
        "status",
        "rows_read",
        "rows_created",
        "rows_updated",
        "rows_skipped",
        "error_count",
        "created_by",
    )
    list_filter = ("merchant", "kind", "status")
    search_fields = ("filename", "merchant__name", "merchant__slug")
    list_select_related = ("merchant", "created_by")
    date_hierarchy = "created_at"
    fields = (
        "merchant",
        "kind",
        "format",
        "filename",
        "upload",
        "status",
        "progress",
        "created_by",
        "created_at",
        "started_at",
        "finished_at",
        "rows_read",
        "rows_created",
        "rows_updated",
        "rows_unchanged",
        "rows_skipped",
        "skipped_by_reason_table",
        "report",
        "error_count",
        "errors_table",
    )
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: ImportJob | None = None) -> bool:
        return False

    @admin.display(description="Skipped by reason")
    def skipped_by_reason_table(self, job: ImportJob) -> str:
        if not job.skipped_by_reason:
            return "—"
        rows = format_html_join(
            "", "<tr><td>{}</td><td>{}</td></tr>", sorted(job.skipped_by_reason.items(), key=lambda kv: -kv[1])
        )
        return format_html("<table><tr><th>Reason</th><th>Rows</th></tr>{}</table>", rows)

    @admin.display(description="Row errors")
    def errors_table(self, job: ImportJob) -> str:
        if not job.errors:
            return "—"
        rows = format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
            ((error.get("row"), error.get("column") or "—", error.get("message")) for error in job.errors),
        )
        return format_html("<table><tr><th>Row</th><th>Column</th><th>Message</th></tr>{}</table>", rows)
