"""Three views: a traced order lookup, a low-stock warning, and a failure."""

from __future__ import annotations

import logging

from django.http import HttpRequest, JsonResponse
from django.urls import path

log = logging.getLogger("orders")


def get_order(request: HttpRequest, order_id: str) -> JsonResponse:
    log.info("order looked up", extra={"order_id": order_id})
    return JsonResponse({"order_id": order_id})


def get_stock(request: HttpRequest, sku: str) -> JsonResponse:
    log.warning("stock is low", extra={"sku": sku})
    return JsonResponse({"left": 3})


def boom(request: HttpRequest, order_id: str) -> JsonResponse:
    raise RuntimeError(f"payment service down for {order_id}")


urlpatterns = [
    path("orders/<str:order_id>", get_order),
    path("stock/<str:sku>", get_stock),
    path("boom/<str:order_id>", boom),
]
