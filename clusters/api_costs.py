"""REST API of what clusters cost (docs/costs.md, docs/api.md): the `usage` a cluster's detail
shows, the budget fields a launch takes, and `clusters/{id}/budget/` that changes them. Money is a
string, as DRF writes decimals; hours are numbers."""

from __future__ import annotations

from decimal import Decimal

from django.utils import timezone
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.generics import GenericAPIView
from rest_framework.response import Response

from audit import record
from clusters import costs
from clusters.access import get_cluster_for_user
from clusters.models import Cluster
from portal.api import error_messages, invalid

CENT, RATE = Decimal("0.01"), Decimal("0.0001")  # a rate is shown to the offering's price's places


def budget_field() -> serializers.DecimalField:
    return serializers.DecimalField(
        max_digits=12,
        decimal_places=2,
        min_value=Decimal(0),
        required=False,
        allow_null=True,
        help_text="What elastic growth may spend (docs/costs.md); null: no budget.",
    )


class BudgetSerializer(serializers.Serializer):
    budget_per_day = budget_field()
    budget_total = budget_field()


def usage_json(cluster: Cluster, instances=None) -> dict:
    """The cluster's usage (`instances`: its instances when the caller has read them already)."""
    shown = costs.cluster_costs(cluster, timezone.now(), instances)
    return {
        "instance_hours": round(float(shown.usage.instance_hours), 2),
        "core_hours": round(float(shown.usage.core_hours), 2),
        "cost": _money(shown.usage.cost, CENT),
        "hourly_rate": _money(shown.hourly_rate, RATE),
        "budget_per_day": _money(shown.budget_per_day, CENT),
        "budget_total": _money(shown.budget_total, CENT),
    }


def _money(amount: Decimal | None, places: Decimal) -> str | None:
    return None if amount is None else str(amount.quantize(places))


USAGE = inline_serializer(
    "ClusterUsage",
    {
        "instance_hours": serializers.FloatField(),
        "core_hours": serializers.FloatField(),
        "cost": serializers.CharField(),
        "hourly_rate": serializers.CharField(),
        "budget_per_day": serializers.CharField(allow_null=True),
        "budget_total": serializers.CharField(allow_null=True),
    },
)


class ClusterBudget(GenericAPIView):
    """Set or clear a cluster's budgets: a field left out keeps its value, null clears it. The
    answer is the cluster's usage with its budgets. A budget limits elastic growth only; it never
    stops running instances."""

    serializer_class = BudgetSerializer
    queryset = Cluster.objects.none()  # reached through get_cluster_for_user only

    @extend_schema(
        request=BudgetSerializer,
        responses={
            200: inline_serializer("ClusterBudgetAnswer", {"id": serializers.IntegerField(), "usage": USAGE})
        },
    )
    def post(self, request, cluster_id: int):
        cluster = get_cluster_for_user(request, cluster_id)
        serializer = BudgetSerializer(data=request.data)
        if not serializer.is_valid():
            return invalid("the budget is not valid", error_messages(serializer.errors))
        data = serializer.validated_data
        costs.set_budget(
            cluster,
            data.get("budget_per_day", cluster.budget_per_day),
            data.get("budget_total", cluster.budget_total),
        )
        record.budget(request, cluster)
        return Response({"id": cluster.pk, "usage": usage_json(cluster)})
