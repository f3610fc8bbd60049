"""``GET /api/v1/orders/{id}``: every stored field comes back typed as it went in, on each
backend (the lookup runs at the driver level with SQLAlchemy's result conversions), down to
the microsecond (MySQL keeps them since migration 0005)."""

from __future__ import annotations

from .conftest import Api
from .factories import order


def test_an_order_reads_back_with_every_field(api: Api):
    body = order(
        "R-1",
        customer_id="C-9",
        # 01:30 in UTC+05:00 is the previous UTC day: dates are the store's (UTC here).
        created_at="2024-03-05T01:30:15.250000+05:00",
        lines=[("SKU-B", 3, "19.99", "5.97"), ("SKU-A", 1, "100.00", None)],
        shipping="4.99",
        tax="12.01",
    )
    assert api.post("/api/v1/orders", {"orders": [body]}).status_code == 201
    refund = {"amount": "19.99", "lines": [{"sku": "SKU-B", "quantity": 1, "amount": "19.99"}]}
    assert api.post("/api/v1/orders/R-1/refunds", refund).status_code == 201

    response = api.get("/api/v1/orders/R-1")
    assert response.status_code == 200
    assert response.json == {
        "order_id": "R-1",
        "customer_id": "C-9",
        "created_at": "2024-03-04T20:30:15.250000Z",
        "order_date": "2024-03-04",
        "currency": "USD",
        "units": 4,
        "gross_sales": "159.97",
        "discounts": "5.97",
        "shipping": "4.99",
        "tax": "12.01",
        "refunded": "19.99",
        "lines": [
            {
                "sku": "SKU-B",
                "quantity": 3,
                "unit_price": "19.99",
                "discount": "5.97",
                "returned_quantity": 1,
            },
            {
                "sku": "SKU-A",
                "quantity": 1,
                "unit_price": "100.00",
                "discount": "0.00",
                "returned_quantity": 0,
            },
        ],
    }


def test_an_unknown_order_is_a_404_problem(api: Api):
    response = api.get("/api/v1/orders/nope")
    assert response.status_code == 404
    assert response.json["type"].endswith("order-not-found")
