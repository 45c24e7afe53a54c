"""Merchant UI: the page mixin every later page uses, dashboard, merchant switcher, imports and API keys."""

from __future__ import annotations

from importlib import metadata, resources

from django import forms
from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views import View
from django.views.decorators.http import require_GET, require_POST
from django.views.generic import TemplateView

from ecomforecast.charts import Frequency, sales_figure, sales_over_time
from ecomforecast.dashboard import data_health, recent_import_jobs
from ecomforecast.import_jobs import import_job_create
from ecomforecast.importing import KINDS
from ecomforecast.models import ImportJob, Membership, Merchant
from ecomforecast.selectors import api_key_list, import_job_list
from ecomforecast.services import api_key_create, api_keys_revoke, merchant_pretraining_consent_set
from ecomforecast.tenancy import switch_merchant

IMPORT_FILE_SUFFIXES = (".csv", ".csv.gz", ".parquet")
PLOTLY_VERSION = metadata.version("plotly")


class MerchantPageMixin(LoginRequiredMixin):
    """A page of the merchant UI: signed in, acting for a merchant the user is a member of.

    `section` marks the navigation entry the page belongs to.
    """

    section = ""

    def dispatch(self, request: HttpRequest, *args, **kwargs):
        if request.user.is_authenticated and request.merchant is None:
            return render(request, "ecomforecast/no_membership.html", status=403)
        return super().dispatch(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["section"] = self.section
        context["plotly_url"] = reverse("plotly-bundle", args=[PLOTLY_VERSION])
        return context


class OwnerPageMixin(MerchantPageMixin):
    def dispatch(self, request: HttpRequest, *args, **kwargs):
        membership = getattr(request, "membership", None)
        if membership is not None and membership.role != Membership.Role.OWNER:
            return render(request, "ecomforecast/forbidden.html", {"section": self.section}, status=403)
        return super().dispatch(request, *args, **kwargs)


class DashboardView(MerchantPageMixin, TemplateView):
    template_name = "ecomforecast/dashboard.html"
    section = "dashboard"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        merchant = self.request.merchant
        freq = Frequency.parse(self.request.GET.get("freq"), Frequency.WEEK)
        points = sales_over_time(merchant=merchant, freq=freq)
        context.update(
            health=data_health(merchant=merchant),
            import_jobs=recent_import_jobs(merchant=merchant),
            freq=freq.value,
            sales_points=len(points),
            sales_chart=sales_figure(points, freq=freq, currency=merchant.currency),
        )
        return context


@require_POST
def merchant_switch(request: HttpRequest) -> HttpResponse:
    """Acts for another merchant of the user's; any other slug is a 404 so it says nothing about that merchant."""
    if not request.user.is_authenticated:
        return redirect("login")
    merchant = get_object_or_404(Merchant, slug=request.POST.get("merchant", ""))
    if not switch_merchant(request, merchant):
        raise Http404("No such merchant")
    messages.success(request, f"Now working on {merchant.name}.")
    return redirect("dashboard")


@require_GET
def plotly_bundle(request: HttpRequest, version: str) -> FileResponse:
    """The Plotly bundle shipped inside the plotly package, served from our origin; the version in the URL lets
    browsers keep it for a year."""
    if version != PLOTLY_VERSION:
        raise Http404("Unknown Plotly version")
    bundle = resources.files("plotly") / "package_data" / "plotly.min.js"
    response = FileResponse(bundle.open("rb"), content_type="text/javascript; charset=utf-8")
    response["Cache-Control"] = "public, max-age=31536000, immutable"
    return response


def _format_choices() -> list[tuple[str, object]]:
    labels = dict(ImportJob.Kind.choices)
    grouped = [(labels.get(kind, kind), [(fmt, fmt) for fmt in formats]) for kind, formats in KINDS.items()]
    return [("", "Default for the kind (orders: detected from the header)"), *grouped]


class ImportUploadForm(forms.Form):
    kind = forms.ChoiceField(choices=ImportJob.Kind.choices, initial=ImportJob.Kind.ORDERS)
    format = forms.ChoiceField(required=False)
    file = forms.FileField(help_text="CSV, gzip-compressed CSV (.csv.gz) or Parquet.")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["format"].choices = _format_choices()

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if not upload.name.lower().endswith(IMPORT_FILE_SUFFIXES):
            raise forms.ValidationError("Upload a .csv, .csv.gz or .parquet file.")
        return upload

    def clean(self):
        cleaned = super().clean()
        kind, fmt = cleaned.get("kind"), cleaned.get("format")
        if kind and fmt and fmt not in KINDS.get(kind, []):
            self.add_error("format", f"{fmt} is not a format for {kind} imports.")
        return cleaned


class ImportListView(MerchantPageMixin, View):
    """Upload form and the merchant's import history."""

    section = "imports"
    page_size = 25

    def get(self, request: HttpRequest) -> HttpResponse:
        return self._render(request, ImportUploadForm())

    def post(self, request: HttpRequest) -> HttpResponse:
        if not request.membership.can_write:
            return render(request, "ecomforecast/forbidden.html", {"section": self.section}, status=403)
        form = ImportUploadForm(request.POST, request.FILES)
        if not form.is_valid():
            return self._render(request, form, status=400)
        job = import_job_create(
            merchant=request.merchant,
            kind=form.cleaned_data["kind"],
            fmt=form.cleaned_data["format"] or None,
            upload=form.cleaned_data["file"],
            user=request.user,
        )
        return redirect("import-detail", pk=job.pk)

    def _render(self, request: HttpRequest, form: ImportUploadForm, status: int = 200) -> HttpResponse:
        page = Paginator(import_job_list(merchant=request.merchant), self.page_size).get_page(request.GET.get("page"))
        context = {"form": form, "page": page, "section": self.section}
        return render(request, "ecomforecast/imports.html", context, status=status)


class ImportDetailView(MerchantPageMixin, TemplateView):
    template_name = "ecomforecast/import_detail.html"
    section = "imports"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        job = get_object_or_404(import_job_list(merchant=self.request.merchant), pk=kwargs["pk"])
        in_progress = job.status in {ImportJob.Status.PENDING, ImportJob.Status.RUNNING}
        context.update(
            job=job,
            in_progress=in_progress,
            progress_percent=round(min(max(job.progress, 0.0), 1.0) * 100),
            skipped=sorted(job.skipped_by_reason.items(), key=lambda item: -item[1]),
            extra=sorted(job.report.items()) if isinstance(job.report, dict) else [],
            errors=sorted(job.errors, key=lambda error: (error.get("row") or 0, error.get("column") or "")),
        )
        return context


class ApiKeyForm(forms.Form):
    name = forms.CharField(max_length=100, help_text="Where the key is used, e.g. “warehouse sync”.")
    role = forms.ChoiceField(choices=Membership.Role.choices, initial=Membership.Role.ANALYST)


class ApiKeyListView(OwnerPageMixin, View):
    """The merchant's API keys: create (the raw key is shown once, in this response only), list, revoke."""

    section = "api-keys"

    def get(self, request: HttpRequest) -> HttpResponse:
        return self._render(request, ApiKeyForm())

    def post(self, request: HttpRequest) -> HttpResponse:
        form = ApiKeyForm(request.POST)
        if not form.is_valid():
            return self._render(request, form, status=400)
        api_key, raw_key = api_key_create(
            merchant=request.merchant,
            name=form.cleaned_data["name"],
            role=form.cleaned_data["role"],
            created_by=request.user,
        )
        return self._render(request, ApiKeyForm(), new_key=api_key, raw_key=raw_key)

    def _render(self, request: HttpRequest, form: ApiKeyForm, status: int = 200, **extra) -> HttpResponse:
        context = {
            "form": form,
            "api_keys": api_key_list(merchant=request.merchant),
            "section": self.section,
            **extra,
        }
        response = render(request, "ecomforecast/api_keys.html", context, status=status)
        # The raw key is in this page once; no cache may keep it.
        response["Cache-Control"] = "no-store"
        return response


class DataSharingView(OwnerPageMixin, View):
    """Owners decide whether the merchant's daily demand may join the shared GPT base model's pretraining corpus."""

    section = "data-sharing"

    def get(self, request: HttpRequest) -> HttpResponse:
        return render(request, "ecomforecast/data_sharing.html", {"section": self.section})

    def post(self, request: HttpRequest) -> HttpResponse:
        choice = request.POST.get("consent")
        if choice not in ("yes", "no"):
            messages.error(request, "Choose to share or not to share.")
            return render(request, "ecomforecast/data_sharing.html", {"section": self.section}, status=400)
        merchant = merchant_pretraining_consent_set(merchant=request.merchant, consent=choice == "yes")
        if merchant.pretraining_consent_at:
            messages.success(request, f"{merchant.name}'s daily demand may join the next pretraining corpus.")
        else:
            messages.success(request, f"{merchant.name}'s demand stays out of every later pretraining corpus.")
        return redirect("data-sharing")


class ApiKeyRevokeView(OwnerPageMixin, View):
    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        api_key = get_object_or_404(api_key_list(merchant=request.merchant), pk=pk)
        if api_keys_revoke(api_keys=api_key_list(merchant=request.merchant).filter(pk=api_key.pk)):
            messages.success(request, f"Revoked the key “{api_key.name}” ({api_key.prefix}…).")
        return redirect("api-keys")
