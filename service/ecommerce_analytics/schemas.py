"""Pydantic models: they validate requests, shape responses and generate the OpenAPI document.

Money is a decimal *string* both ways (JSON numbers are binary floats). Request models forbid
unknown fields so a typo is an error, not silently ignored data.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import (
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    WithJsonSchema,
    model_validator,
)

MAX_BATCH_ORDERS = 1000
MAX_ORDER_LINES = 100
MAX_PAGE_OFFSET = 1_000_000

# fullmatch and [0-9]: `$` would let a trailing newline through, `\d` non-ASCII digits.
_DATE_RE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_MONTH_RE = re.compile(r"([0-9]{4})-([0-9]{2})")


def _require_iso_datetime(value: Any) -> Any:
    # pydantic would also accept Unix timestamps; the contract is ISO-8601 text.
    if not isinstance(value, str):
        raise ValueError("must be an ISO-8601 string with a UTC offset")
    return value


def _require_iso_date(value: Any) -> Any:
    if isinstance(value, date):
        return value
    if not isinstance(value, str) or not _DATE_RE.fullmatch(value):
        raise ValueError("must be a date formatted YYYY-MM-DD")
    return value


def _parse_month(value: Any) -> Any:
    if isinstance(value, date):
        return value.replace(day=1)
    match = _MONTH_RE.fullmatch(value) if isinstance(value, str) else None
    if not match or not 1 <= int(match.group(2)) <= 12:
        raise ValueError("must be a month formatted YYYY-MM")
    return date(int(match.group(1)), int(match.group(2)), 1)


# No `/`: ids are path segments of `/orders/{order_id}`, and an id the router would split could
# be stored but never read or refunded.
Identifier = Annotated[
    str,
    StringConstraints(min_length=1, max_length=64, pattern=r"^[\x21-\x2e\x30-\x7e]+$"),
    Field(
        description="1-64 printable ASCII characters, no spaces and no `/`; compared exactly "
        "(case-sensitive)."
    ),
]
DecimalString = Annotated[
    str,
    StringConstraints(pattern=r"^\d{1,13}(\.\d{1,4})?$"),
    Field(
        description="Non-negative decimal as a string: at most 13 integer digits and at most "
        "the store currency's decimal places (2 for USD; the pattern allows 4 for other "
        "currencies).",
        examples=["19.99"],
    ),
]
MoneyOut = Annotated[str, Field(description="Decimal string in the store currency.")]
RatioOut = Annotated[str, Field(description="Decimal string, 4 places.")]
IsoDatetime = Annotated[AwareDatetime, BeforeValidator(_require_iso_datetime)]
IsoDate = Annotated[date, BeforeValidator(_require_iso_date)]
Month = Annotated[
    date,
    BeforeValidator(_parse_month),
    # Years 0001-9999, months 01-12: the values `_parse_month` accepts.
    WithJsonSchema(
        {
            "type": "string",
            "pattern": r"^(?:[1-9]\d{3}|0[1-9]\d{2}|00[1-9]\d|000[1-9])-(?:0[1-9]|1[0-2])$",
        }
    ),
]


def _integral_float(value: Any) -> Any:
    # JSON has one number type: `2.0` is the integer 2 (as JSON Schema's `integer` says).
    return int(value) if isinstance(value, float) and value.is_integer() else value


# Strict: `"2"`, `true` and `2.5` are not counts. (The validator comes last so that it runs
# first and the bounds stay in the JSON Schema.)
Count = Annotated[int, Field(strict=True, gt=0, le=1_000_000), BeforeValidator(_integral_float)]


class StrictModel(BaseModel):
    model_config = ConfigDict(extra="forbid")


# ---- requests -------------------------------------------------------------------------------


class LineIn(StrictModel):
    sku: Identifier
    quantity: Count
    unit_price: DecimalString
    discount: DecimalString | None = Field(
        None,
        description="Discount on the whole line, at most `quantity` × `unit_price`. "
        "Defaults to `0`.",
    )


class OrderIn(StrictModel):
    order_id: Identifier = Field(description="Idempotency key: a retried order is stored once.")
    customer_id: Identifier
    created_at: IsoDatetime = Field(
        description="ISO-8601 timestamp with a UTC offset, from 2000-01-01T00:00:00Z to one "
        "day after the time of the request."
    )
    currency: Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")] = Field(
        description="Must equal the store currency (`STORE_CURRENCY`, default USD)."
    )
    lines: list[LineIn] = Field(
        min_length=1,
        max_length=MAX_ORDER_LINES,
        description="Each SKU at most once per order. The order's gross (`quantity` × "
        "`unit_price` summed over its lines) is at most 1,000,000,000,000.",
    )
    shipping: DecimalString | None = Field(None, description="Defaults to `0`.")
    tax: DecimalString | None = Field(None, description="Defaults to `0`.")


class OrderBatchIn(StrictModel):
    orders: list[OrderIn] = Field(min_length=1, max_length=MAX_BATCH_ORDERS)


class RefundLineIn(StrictModel):
    sku: Identifier
    quantity: Count
    amount: DecimalString


class RefundIn(StrictModel):
    refund_id: Identifier | None = Field(
        None,
        description="Idempotency key. Defaults to a generated id (then retries are not "
        "deduplicated).",
    )
    amount: DecimalString = Field(
        description="Merchandise amount refunded; greater than 0. With the order's earlier "
        "refunds, at most its gross - discounts (else 409)."
    )
    created_at: IsoDatetime | None = Field(
        None,
        description="Defaults to now. Not before the order's `created_at` nor more than one "
        "day after the time of the request.",
    )
    # No NUL: PostgreSQL text cannot hold it.
    reason: Annotated[str, StringConstraints(max_length=255, pattern=r"^[^\x00]*$")] | None = Field(
        None, description="Up to 255 characters, no NUL."
    )
    lines: list[RefundLineIn] | None = Field(
        None,
        max_length=MAX_ORDER_LINES,
        description="Returned items: SKUs of the order, each at most once, their amounts "
        "adding up to `amount`; with earlier refunds, at most the units ordered (else 409).",
    )


# ---- path parameters ------------------------------------------------------------------------


class OrderPath(StrictModel):
    order_id: Identifier


# ---- query parameters -----------------------------------------------------------------------


class Page(StrictModel):
    limit: int = Field(50, ge=1, le=500, description="Page size. Defaults to 50, at most 500.")
    offset: int = Field(0, ge=0, le=MAX_PAGE_OFFSET, description="Rows to skip. Defaults to 0.")


class DateRange(StrictModel):
    start: IsoDate = Field(
        description="First day, inclusive, in the store time zone; not after `end`."
    )
    end: IsoDate = Field(description="Last day, inclusive; not before `start`.")

    @model_validator(mode="after")
    def _ordered(self) -> DateRange:
        if self.end < self.start:
            raise ValueError("end must not be before start")
        return self


class SalesQuery(DateRange):
    granularity: Literal["day", "week", "month"] = Field(
        "day", description="Period length; weeks start on Monday. Defaults to `day`."
    )


class ProductQuery(DateRange):
    metric: Literal["net_sales", "units", "orders"] = Field(
        "net_sales", description="Ranking metric. Defaults to `net_sales`."
    )
    order: Literal["top", "bottom"] = Field("top", description="Defaults to `top`.")
    limit: int = Field(10, ge=1, le=100, description="Defaults to 10, at most 100.")
    offset: int = Field(0, ge=0, le=MAX_PAGE_OFFSET, description="Defaults to 0.")


class CustomerListQuery(Page):
    sort: Literal["net_sales", "orders", "last_order_at"] = Field(
        "net_sales", description="Descending sort key. Defaults to `net_sales`."
    )


class DistributionQuery(StrictModel):
    buckets: int = Field(10, ge=1, le=50, description="Histogram buckets. Defaults to 10.")


class OptionalRange(StrictModel):
    start: IsoDate | None = Field(
        None, description="With `end`, not after it; omit both for all time."
    )
    end: IsoDate | None = Field(None, description="With `start`, not before it.")

    @model_validator(mode="after")
    def _both_or_neither(self) -> OptionalRange:
        if (self.start is None) != (self.end is None):
            raise ValueError("give both start and end, or neither")
        if self.start and self.end and self.end < self.start:
            raise ValueError("end must not be before start")
        return self


class CohortQuery(StrictModel):
    start: Month = Field(description="First cohort month, `YYYY-MM`; not after `end`.")
    end: Month = Field(description="Last cohort month, `YYYY-MM`; at most 36 cohorts from `start`.")
    months: int = Field(
        12, ge=0, le=36, description="Months since first order to report. Defaults to 12."
    )

    @model_validator(mode="after")
    def _ordered(self) -> CohortQuery:
        if self.end < self.start:
            raise ValueError("end must not be before start")
        return self


Segment = Literal[
    "champions",
    "loyal",
    "potential_loyalist",
    "new",
    "promising",
    "need_attention",
    "cant_lose",
    "at_risk",
    "hibernating",
    "lost",
]


class RfmQuery(Page):
    as_of: IsoDate | None = Field(
        None,
        description="Reference day for recency, not before the latest order day (else 400). "
        "Defaults to the latest order day.",
    )
    segment: Segment | None = Field(None, description="Only list this segment.")


class BoughtTogetherQuery(Page):
    sku: Identifier | None = Field(None, description="Only pairs containing this SKU.")
    min_orders: int = Field(
        2, ge=1, le=1_000_000, description="Minimum orders containing the pair. Defaults to 2."
    )
    sort: Literal["lift", "support"] = Field("lift", description="Defaults to `lift`.")


class ChurnQuery(Page):
    as_of: IsoDate | None = Field(
        None,
        description="Reference day, not before the latest order day (else 400). Defaults to "
        "the latest order day.",
    )
    min_days: int = Field(
        90, ge=1, le=3650, description="Minimum days since last order. Defaults to 90."
    )
    value_percentile: int = Field(
        80,
        ge=1,
        le=99,
        description="High value = net spend at or above this percentile. Defaults to 80.",
    )


# ---- responses ------------------------------------------------------------------------------


class Pagination(BaseModel):
    limit: int
    offset: int
    next_offset: int | None = Field(description="Offset of the next page; null on the last.")


class OrderBatchOut(BaseModel):
    created: list[str] = Field(description="Order ids stored by this request.")
    existing: list[str] = Field(description="Order ids already stored; not counted again.")


class RefundLineOut(BaseModel):
    sku: str
    quantity: int
    amount: MoneyOut


class RefundOut(BaseModel):
    refund_id: str
    order_id: str
    amount: MoneyOut
    created_at: datetime
    reason: str | None
    lines: list[RefundLineOut]
    status: Literal["created", "existing"]


class LineOut(BaseModel):
    sku: str
    quantity: int
    unit_price: MoneyOut
    discount: MoneyOut
    returned_quantity: int


class OrderOut(BaseModel):
    order_id: str
    customer_id: str
    created_at: datetime
    order_date: date = Field(description="Day in the store time zone.")
    currency: str
    units: int
    gross_sales: MoneyOut
    discounts: MoneyOut
    shipping: MoneyOut
    tax: MoneyOut
    refunded: MoneyOut
    lines: list[LineOut]


class SalesFigures(BaseModel):
    orders: int
    units: int
    gross_sales: MoneyOut
    discounts: MoneyOut
    returns: MoneyOut
    net_sales: MoneyOut
    average_order_value: MoneyOut | None = Field(description="Null when there are no orders.")
    customers: int
    new_customers: int


class _Period(BaseModel):
    period: date = Field(description="First day of the calendar period.")


class SalesRow(SalesFigures, _Period):
    pass


class SalesReport(BaseModel):
    start: date
    end: date
    granularity: str
    currency: str
    timezone: str
    rows: list[SalesRow]
    totals: SalesFigures


class ProductFigures(BaseModel):
    net_sales: MoneyOut
    units: int
    orders: int


class _Sku(BaseModel):
    sku: str


class ProductRow(ProductFigures, _Sku):
    gross_sales: MoneyOut
    discounts: MoneyOut
    returns: MoneyOut
    units_returned: int
    previous: ProductFigures
    change_pct: dict[str, str | None] = Field(
        description="Percent change vs the previous period per metric; null when it was 0."
    )


class ProductPerformance(BaseModel):
    start: date
    end: date
    previous_start: date
    previous_end: date
    metric: str
    order: str
    currency: str
    data: list[ProductRow]
    pagination: Pagination


class CustomerValue(BaseModel):
    customer_id: str
    net_sales: MoneyOut
    gross_sales: MoneyOut
    discounts: MoneyOut
    returns: MoneyOut
    orders: int
    units: int
    average_order_value: MoneyOut
    first_order_at: datetime
    last_order_at: datetime


class CustomerList(BaseModel):
    currency: str
    data: list[CustomerValue]
    pagination: Pagination


class HistogramBucket(BaseModel):
    lower: MoneyOut
    upper: MoneyOut
    customers: int


class LtvDistribution(BaseModel):
    currency: str
    customers: int
    total: MoneyOut
    mean: MoneyOut | None
    min: MoneyOut | None
    max: MoneyOut | None
    percentiles: dict[str, MoneyOut] = Field(description="p10, p25, p50, p75, p90, p99.")
    histogram: list[HistogramBucket]


class ReturningRate(BaseModel):
    start: date | None
    end: date | None
    customers: int
    returning_customers: int
    returning_rate: RatioOut | None


class CohortMonth(BaseModel):
    month: int = Field(description="Months since the cohort month (0 = first month).")
    active_customers: int
    retention: RatioOut
    revenue: MoneyOut
    cumulative_revenue_per_customer: MoneyOut


class Cohort(BaseModel):
    cohort: str = Field(description="Month of first order, YYYY-MM.")
    customers: int
    months: list[CohortMonth]


class CohortReport(BaseModel):
    currency: str
    cohorts: list[Cohort]


class RfmCustomer(BaseModel):
    customer_id: str
    recency_days: int
    frequency: int
    monetary: MoneyOut
    r: int
    f: int
    m: int
    segment: str


class RfmSegmentSummary(BaseModel):
    segment: str
    customers: int
    share: RatioOut
    net_sales: MoneyOut


class RfmReport(BaseModel):
    as_of: date | None
    currency: str
    segments: list[RfmSegmentSummary]
    data: list[RfmCustomer]
    pagination: Pagination


class ProductPairOut(BaseModel):
    sku_a: str
    sku_b: str
    orders: int
    support: RatioOut
    confidence_a_to_b: RatioOut
    confidence_b_to_a: RatioOut
    lift: RatioOut


class BoughtTogether(BaseModel):
    total_orders: int
    data: list[ProductPairOut]
    pagination: Pagination


class ChurnCustomer(BaseModel):
    customer_id: str
    net_sales: MoneyOut
    orders: int
    last_order_at: datetime
    days_since_last_order: int
    expected_interval_days: int | None = Field(
        description="Average days between orders; null for one-time buyers."
    )


class ChurnRisk(BaseModel):
    as_of: date | None
    currency: str
    value_threshold: MoneyOut | None
    data: list[ChurnCustomer]
    pagination: Pagination


class Health(BaseModel):
    status: str
    checks: dict[str, str] = Field(default_factory=dict)
