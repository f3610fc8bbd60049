"""Tables: raw facts (orders, lines, refunds), rollups kept current at write time, API keys.

Rollups are keyed by the store-local day (``STORE_TIMEZONE``) and carry the week (Monday) and
month the day belongs to, so every granularity groups portably in SQL without date functions.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Date,
    DateTime,
    Dialect,
    Double,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.dialects import mysql
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator, TypeEngine

from .money import ZERO, Money

ID_LENGTH = 64
MICROSECOND_DATETIME = mysql.DATETIME(fsp=6)
BINARY_COLLATION = "utf8mb4_bin"
# The range of PostgreSQL's and MySQL's INTEGER (the counts).
INT32_MIN, INT32_MAX = -(2**31), 2**31 - 1


def identifier(length: int = ID_LENGTH) -> String:
    """A string compared exactly: byte for byte, case- and accent-sensitive, on every engine.

    PostgreSQL and SQLite compare text exactly by default. MySQL and MariaDB compare with the
    column's collation, and theirs fold case (``utf8mb4_general_ci``; MySQL 8's
    ``utf8mb4_0900_ai_ci`` also accents): ``CASE-1`` would be taken for the stored ``case-1``
    and the order dropped as a retry. So identifiers are binary there (migration 0006).
    Identifiers are printable ASCII without spaces, so ``utf8mb4_bin``'s trailing-space
    padding never applies."""
    return String(length).with_variant(
        mysql.VARCHAR(length, charset="utf8mb4", collation=BINARY_COLLATION), "mysql", "mariadb"
    )


class UTCDateTime(TypeDecorator[datetime]):
    """An aware ``datetime`` stored as naive UTC (MySQL and SQLite keep no offset), to the
    microsecond on every backend (MySQL's plain ``DATETIME`` would drop the fraction)."""

    impl = DateTime
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name in ("mysql", "mariadb"):
            return dialect.type_descriptor(MICROSECOND_DATETIME)
        return dialect.type_descriptor(DateTime())

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime; pass an aware datetime")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        assert isinstance(value, datetime)
        return value.replace(tzinfo=UTC)


class Base(DeclarativeBase):
    metadata = MetaData(
        naming_convention={
            "ix": "ix_%(table_name)s_%(column_0_N_name)s",
            "uq": "uq_%(table_name)s_%(column_0_N_name)s",
            "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
            "pk": "pk_%(table_name)s",
            "ck": "ck_%(table_name)s_%(constraint_name)s",
        }
    )
    type_annotation_map = {
        Decimal: Money(),
        datetime: UTCDateTime(),
        date: Date(),
        str: identifier(),
    }


def _money() -> Mapped[Decimal]:
    return mapped_column(Money(), default=ZERO, server_default="0")


def _count() -> Mapped[int]:
    return mapped_column(Integer, default=0, server_default="0")


class Order(Base):
    __tablename__ = "orders"

    order_id: Mapped[str] = mapped_column(primary_key=True)
    customer_id: Mapped[str] = mapped_column(index=True)
    created_at: Mapped[datetime]
    order_date: Mapped[date] = mapped_column(index=True)
    currency: Mapped[str] = mapped_column(String(3))
    units: Mapped[int]
    gross_sales: Mapped[Decimal]
    discounts: Mapped[Decimal]
    shipping: Mapped[Decimal]
    tax: Mapped[Decimal]
    refunded: Mapped[Decimal] = _money()
    ingested_at: Mapped[datetime]


class OrderLine(Base):
    __tablename__ = "order_lines"
    __table_args__ = (UniqueConstraint("order_id", "sku"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    order_id: Mapped[str] = mapped_column(ForeignKey("orders.order_id", ondelete="CASCADE"))
    line_number: Mapped[int]
    sku: Mapped[str]
    quantity: Mapped[int]
    unit_price: Mapped[Decimal]
    discount: Mapped[Decimal]
    returned_quantity: Mapped[int] = _count()


class Refund(Base):
    __tablename__ = "refunds"

    refund_id: Mapped[str] = mapped_column(primary_key=True)
    order_id: Mapped[str] = mapped_column(
        ForeignKey("orders.order_id", ondelete="CASCADE"), index=True
    )
    amount: Mapped[Decimal]
    created_at: Mapped[datetime]
    refund_date: Mapped[date]
    reason: Mapped[str | None] = mapped_column(String(255))


class RefundLine(Base):
    __tablename__ = "refund_lines"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    refund_id: Mapped[str] = mapped_column(
        ForeignKey("refunds.refund_id", ondelete="CASCADE"), index=True
    )
    sku: Mapped[str]
    quantity: Mapped[int]
    amount: Mapped[Decimal]


class Customer(Base):
    """Per-customer rollup; a customer exists once they have ordered.

    ``net_sales`` is ``gross_sales - discounts - returns``, kept by the same upserts (a
    column rather than an expression so it can be indexed on every engine: MariaDB has no
    expression indexes). Its index, highest first, serves the customer list's default order,
    churn risk's walk from the highest spenders, the ranks of ``CustomerValueCount`` and RFM's
    walk of a net band (``RfmCell``)."""

    __tablename__ = "customers"

    customer_id: Mapped[str] = mapped_column(primary_key=True)
    first_order_at: Mapped[datetime]
    last_order_at: Mapped[datetime]
    first_order_date: Mapped[date] = mapped_column(index=True)
    first_order_month: Mapped[date] = mapped_column(index=True)
    last_order_date: Mapped[date]
    orders: Mapped[int] = _count()
    units: Mapped[int] = _count()
    gross_sales: Mapped[Decimal] = _money()
    discounts: Mapped[Decimal] = _money()
    returns: Mapped[Decimal] = _money()
    net_sales: Mapped[Decimal] = _money()


# The last order day and order count ride along (key columns: MySQL has no INCLUDE) so RFM's
# walk of the customers in a net band reads the index alone (``queries.rfm_cells``).
Index(
    "ix_customers_net_sales",
    Customer.net_sales.desc(),
    Customer.customer_id,
    Customer.last_order_date,
    Customer.orders,
)


class CustomerValueCount(Base):
    """Customers per bucket of a per-customer figure (``value_buckets``: ``net`` spend,
    ``orders``), kept exact at write time: ranks and histograms over every customer from a
    few thousand rows instead of a sort of every customer."""

    __tablename__ = "customer_value_counts"

    figure: Mapped[str] = mapped_column(String(16), primary_key=True)
    bucket: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    customers: Mapped[int] = _count()


class CustomerLastDay(Base):
    """Customers per last order day, kept exact at write time (``ingest.order_days``): RFM's
    recency ranks from a row per day instead of a pass over every customer."""

    __tablename__ = "customer_last_days"

    day: Mapped[date] = mapped_column(primary_key=True)
    customers: Mapped[int] = _count()


class RfmCell(Base):
    """Customers, and their net spend, per (last order day, order count, net band), kept
    exact at write time (``ingest.value_counts``): RFM scores every customer of a cell alike
    unless one of its net cut points falls in the cell's band (``value_buckets.band_of``), so
    the segment summary reads the cells and walks only those bands' customers
    (``queries.rfm_cells``), not every customer."""

    __tablename__ = "rfm_cells"

    last_order_date: Mapped[date] = mapped_column(primary_key=True)
    orders: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    net_band: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    customers: Mapped[int] = _count()
    net_sales: Mapped[Decimal] = _money()


class Product(Base):
    """Lifetime per-product counters (the denominators of basket analysis)."""

    __tablename__ = "products"

    sku: Mapped[str] = mapped_column(primary_key=True)
    first_sold_at: Mapped[datetime]
    orders: Mapped[int] = _count()
    units: Mapped[int] = _count()


class DailySales(Base):
    """Store-wide totals per store-local day; returns land on the day of the refund."""

    __tablename__ = "daily_sales"

    day: Mapped[date] = mapped_column(primary_key=True)
    week_start: Mapped[date]
    month_start: Mapped[date]
    orders: Mapped[int] = _count()
    units: Mapped[int] = _count()
    gross_sales: Mapped[Decimal] = _money()
    discounts: Mapped[Decimal] = _money()
    returns: Mapped[Decimal] = _money()
    shipping: Mapped[Decimal] = _money()
    tax: Mapped[Decimal] = _money()


class ProductDailySales(Base):
    __tablename__ = "product_daily_sales"
    __table_args__ = (Index(None, "sku", "day"),)

    day: Mapped[date] = mapped_column(primary_key=True)
    sku: Mapped[str] = mapped_column(primary_key=True)
    week_start: Mapped[date]
    month_start: Mapped[date]
    orders: Mapped[int] = _count()
    units: Mapped[int] = _count()
    units_returned: Mapped[int] = _count()
    gross_sales: Mapped[Decimal] = _money()
    discounts: Mapped[Decimal] = _money()
    returns: Mapped[Decimal] = _money()


class CustomerDay(Base):
    """One row per customer per day they ordered: distinct customers per period and cohorts.
    Indexed by customer and day too: ingest probes a customer's order days around a batch's
    (``ingest.day_probes``)."""

    __tablename__ = "customer_days"
    __table_args__ = (Index(None, "customer_id", "day"),)

    day: Mapped[date] = mapped_column(primary_key=True)
    customer_id: Mapped[str] = mapped_column(primary_key=True)
    week_start: Mapped[date]
    month_start: Mapped[date]
    orders: Mapped[int] = _count()
    order_value: Mapped[Decimal] = _money()


class CustomerGap(Base):
    """Customers per order day and the day of their previous order day, so distinct customers
    over any range are a sum over days, never a distinct count over customer-days.

    A customer ordered in ``[start, end]`` exactly once with ``previous_day < start`` (their
    first order day inside the range); ``previous_day = day`` marks a customer's first order
    day ever (no sentinel date needed). So for a period ``P`` inside the range, its distinct
    customers are ``SUM(customers)`` over ``day`` in ``P`` with ``previous_day`` before ``P``
    (or ``= day``), and its new customers those with ``previous_day = day``: O(days x distinct
    previous days), whatever the number of orders. Kept exact at write time, including orders
    that arrive out of order (``ingest.order_days``)."""

    __tablename__ = "customer_gaps"

    day: Mapped[date] = mapped_column(primary_key=True)
    previous_day: Mapped[date] = mapped_column(primary_key=True)
    week_start: Mapped[date]
    month_start: Mapped[date]
    customers: Mapped[int] = _count()


class LoneFirstOrder(Base):
    """Customers whose first order day held exactly one order, per that day and their next
    order day (``next_day = first_day`` while there is none).

    They are the customers a range can count as *not* returning: a customer who ordered in
    ``[start, end]`` is new and not returning there exactly when their first order day is in
    the range, held one order, and the next one falls after ``end`` (or none yet)."""

    __tablename__ = "lone_first_orders"

    first_day: Mapped[date] = mapped_column(primary_key=True)
    next_day: Mapped[date] = mapped_column(primary_key=True)
    customers: Mapped[int] = _count()


class CustomerMonth(Base):
    """One row per customer per month they ordered, tagged with the cohort (month of first
    order) its contribution is counted under in ``cohort_months``.

    When an older order arrives later, the customer's cohort moves to an earlier month: ingest
    then re-tags every row of the customer and moves their counts between cohorts, in the same
    transaction (``ingest.cohorts.send_cohort_reads``)."""

    __tablename__ = "customer_months"

    customer_id: Mapped[str] = mapped_column(primary_key=True)
    month_start: Mapped[date] = mapped_column(primary_key=True)
    cohort_month: Mapped[date]
    orders: Mapped[int] = _count()
    order_value: Mapped[Decimal] = _money()


class CohortMonthly(Base):
    """Per cohort (month of first order) and activity month: distinct customers who ordered and
    their order value (gross - discounts). Row (c, c) holds the cohort's size."""

    __tablename__ = "cohort_months"

    cohort_month: Mapped[date] = mapped_column(primary_key=True)
    month_start: Mapped[date] = mapped_column(primary_key=True)
    customers: Mapped[int] = _count()
    revenue: Mapped[Decimal] = _money()


class ProductPair(Base):
    """Orders containing both products, ``sku_a < sku_b``."""

    __tablename__ = "product_pairs"

    sku_a: Mapped[str] = mapped_column(primary_key=True)
    sku_b: Mapped[str] = mapped_column(primary_key=True)
    orders: Mapped[int] = _count()


class DataVersion(Base):
    """One row (``id = 1``) counting committed writes; read-side caches key on it."""

    __tablename__ = "data_version"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    version: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")


# The rollups whose counters and money grow with every write.
ROLLUP_TABLES = (
    Customer,
    Product,
    DailySales,
    ProductDailySales,
    CustomerDay,
    CustomerMonth,
    CohortMonthly,
    ProductPair,
    CustomerGap,
    LoneFirstOrder,
    CustomerValueCount,
    CustomerLastDay,
    RfmCell,
)


def _sums_stay_integers(model: type[Base]) -> None:
    """SQLite only: refuse a rollup counter that is no longer an exact integer.

    A sum past the column's range fails the statement on PostgreSQL and MySQL ("out of
    range"); SQLite instead turns an integer sum past 64 bits into an approximate REAL and
    stores it, and has no 32-bit columns at all. This CHECK makes SQLite refuse both as the
    others do (``db.is_out_of_range``): every sum an integer, counts within 32 bits."""
    table = model.__table__
    assert isinstance(table, Table)
    condition = " AND ".join(
        f"typeof({c.name}) = 'integer'"
        + (f" AND {c.name} BETWEEN {INT32_MIN} AND {INT32_MAX}" if type(c.type) is Integer else "")
        for c in table.columns
        if not c.primary_key and isinstance(c.type, (Integer, Money))
    )
    table.append_constraint(CheckConstraint(condition, name="integers").ddl_if(dialect="sqlite"))


for _model in ROLLUP_TABLES:
    _sums_stay_integers(_model)


# MySQL's BLOB holds 64 KiB; cached bodies may be up to ``cache.MAX_BODY_BYTES`` (1 MiB).
RESPONSE_BODY = LargeBinary().with_variant(mysql.MEDIUMBLOB(), "mysql", "mariadb")


class SharedResponse(Base):
    """The latest answer per request, shared by every worker and task (``cache.shared``), and
    the lease of the one computing the next (migration 0008)."""

    __tablename__ = "response_cache"

    # SHA-256 of the request key (path and sorted query), so any URL fits the primary key.
    key_hash: Mapped[str] = mapped_column(identifier(64), primary_key=True)
    # The data version the answer reflects (read before its computation began).
    version: Mapped[int] = mapped_column(BigInteger)
    # When its computation began (every write committed before is reflected); NULL while the
    # first computation runs. Indexed for pruning answers no one asked for in a day.
    computed_at: Mapped[datetime | None] = mapped_column(index=True)
    body: Mapped[bytes | None] = mapped_column(RESPONSE_BODY)
    # Until when one worker is computing the next answer; NULL when none is.
    lease_until: Mapped[datetime | None]


class ApiKey(Base):
    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    prefix: Mapped[str] = mapped_column(identifier(16), unique=True)
    key_hash: Mapped[str] = mapped_column(identifier(64))
    scopes: Mapped[str]
    name: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]

    @property
    def scope_set(self) -> frozenset[str]:
        return frozenset(s for s in self.scopes.split(" ") if s)


class ClvModel(Base):
    """One fit of the predictive lifetime value models (``flask clv fit``, ``clv.fitting``).

    The fit's description, parameters and diagnostics are one JSON document (``document``, the
    ``GET /api/v1/models/clv`` body as of the fit): they are read whole, never queried by
    field. Only the latest row is served; older ones stay as the history of fits."""

    __tablename__ = "clv_models"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    fitted_at: Mapped[datetime] = mapped_column(index=True)
    # MEDIUMTEXT on MySQL/MariaDB: TEXT stops at 64 KiB, a long horizon's weekly forecast nears it.
    document: Mapped[str] = mapped_column(
        Text().with_variant(mysql.MEDIUMTEXT(), "mysql", "mariadb")
    )


class ClvPrediction(Base):
    """Per-customer predictions of the latest fit (replaced whole by the next one), computed
    at fit time so a page sorted by any of them walks an index instead of scoring every
    customer on the request path. Model outputs, so floats; rounded to money on output."""

    __tablename__ = "clv_predictions"

    customer_id: Mapped[str] = mapped_column(primary_key=True)
    model_id: Mapped[int] = mapped_column(Integer)
    # The history the predictions rest on, in the fit's time unit (``ClvModel.document``).
    frequency: Mapped[int] = mapped_column(Integer)
    recency: Mapped[float] = mapped_column(Double)
    age: Mapped[float] = mapped_column(Double)
    mean_repeat_spend: Mapped[float | None] = mapped_column(Double)
    p_alive: Mapped[float] = mapped_column(Double)
    expected_orders: Mapped[float] = mapped_column(Double)
    expected_spend: Mapped[float] = mapped_column(Double)
    predicted_value: Mapped[float] = mapped_column(Double)


# One per sort key of ``GET /api/v1/customers/clv``, highest first, ties by customer id.
for _column in ("predicted_value", "expected_orders", "p_alive", "expected_spend"):
    Index(
        f"ix_clv_predictions_{_column}",
        getattr(ClvPrediction, _column).desc(),
        ClvPrediction.customer_id,
    )
