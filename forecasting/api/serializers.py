from __future__ import annotations

from rest_framework import serializers

from forecasting.models import ForecastRun, ForecastValue
from forecasting.services import neural_candidates


class ForecastRunSerializer(serializers.ModelSerializer):
    class Meta:
        model = ForecastRun
        fields = [
            "id",
            "kind",
            "status",
            "data_cutoff",
            "horizon",
            "config",
            "progress",
            "chunks_total",
            "chunks_done",
            "series_total",
            "series_done",
            "fallback_count",
            "attempts",
            "error",
            "timings",
            "neural",
            "created_at",
            "started_at",
            "finished_at",
        ]
        read_only_fields = fields


class ForecastRunRequestSerializer(serializers.Serializer):
    horizon = serializers.IntegerField(min_value=1, max_value=366, default=28)
    models = serializers.CharField(
        required=False,
        max_length=100,
        help_text="auto, or auto with neural candidates: auto+gru, auto+lstm+gpt, ... "
        "(default: auto with the server's NEURAL_MODELS)",
    )

    data_cutoff = serializers.DateField(required=False, help_text="last day of history; default the last sale day")

    def validate_models(self, value: str) -> str:
        try:
            neural_candidates(value)
        except ValueError as exc:
            raise serializers.ValidationError(str(exc)) from None
        return value


class ForecastValueSerializer(serializers.ModelSerializer):
    sku = serializers.CharField(source="result.product.sku")
    run = serializers.IntegerField(source="result.run_id")
    model = serializers.CharField(source="result.model")
    demand_class = serializers.CharField(source="result.demand_class")
    quantiles = serializers.DictField(child=serializers.FloatField())
    cumulative = serializers.DictField(child=serializers.FloatField())

    class Meta:
        model = ForecastValue
        fields = ["sku", "run", "date", "mean", "p10", "p50", "p90", "quantiles", "cumulative", "model", "demand_class"]


class ClassSummarySerializer(serializers.Serializer):
    demand_class = serializers.CharField()
    series = serializers.IntegerField()
    median_mase = serializers.FloatField(allow_null=True)
    median_wape = serializers.FloatField(allow_null=True)
    fallbacks = serializers.IntegerField()
    model_mix = serializers.DictField(child=serializers.IntegerField(), help_text="SKUs per chosen model or ensemble")
    member_mix = serializers.DictField(
        child=serializers.FloatField(), help_text="SKUs per underlying model; an ensemble of k counts 1/k per member"
    )


class WorstSkuSerializer(serializers.Serializer):
    sku = serializers.CharField()
    name = serializers.CharField()
    model = serializers.CharField()
    demand_class = serializers.CharField()
    mase = serializers.FloatField()
    wape = serializers.FloatField(allow_null=True)


class ForecastSummarySerializer(serializers.Serializer):
    run = serializers.IntegerField()
    data_cutoff = serializers.DateField()
    series = serializers.IntegerField()
    classes = ClassSummarySerializer(many=True)
    worst = WorstSkuSerializer(many=True)
