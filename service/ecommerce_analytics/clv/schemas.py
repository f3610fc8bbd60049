"""Request and response models of the predictive lifetime value endpoints; ``ClvModelReport``
is also the stored description of a fit (``ClvModel.document``)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, Field

from ..schemas import MoneyOut, Page, Pagination, StrictModel

ClvSort = Literal["predicted_value", "expected_orders", "p_alive", "expected_spend"]


class PurchaseModel(BaseModel):
    """BG/NBD: purchase rates Gamma(`r`, `alpha`) across customers (`alpha` in the fit's time
    unit), the chance of dropping out after each purchase Beta(`a`, `b`)."""

    r: float
    alpha: float
    a: float
    b: float
    log_likelihood: float
    customers: int = Field(description="Customers fitted: every customer with an order.")


class SpendModel(BaseModel):
    """Gamma-Gamma: spend per order Gamma(`p`, nu), nu Gamma(`q`, `gamma`) across customers."""

    p: float
    q: float
    gamma: float
    log_likelihood: float
    customers: int = Field(
        description="Customers fitted: those with a repeat order and positive repeat spend."
    )


class Holdout(BaseModel):
    """The same models fitted on the orders up to `calibration_end` only, checked against what
    the customers of that time actually did up to `as_of`."""

    calibration_end: date
    purchases: PurchaseModel
    spend: SpendModel
    expected_repeat_orders: float = Field(
        description="Forecast at `calibration_end` of those customers' repeat order days in "
        "(`calibration_end`, `as_of`]."
    )
    actual_repeat_orders: int
    cumulative_expected_repeat_orders: float = Field(
        description="The papers' tracking figure: repeat order days from each customer's first "
        "order to `as_of`, expected from their first order day alone."
    )
    cumulative_actual_repeat_orders: int


class ForecastPeriod(BaseModel):
    period: date = Field(description="First day of the calendar period (the first is partial).")
    expected_orders: float = Field(description="Expected repeat order days of today's customers.")


class ClvModelReport(BaseModel):
    model_id: int
    fitted_at: datetime
    fit_seconds: float = Field(
        description="Wall time of the fit, predictions and their storage included."
    )
    as_of: date = Field(description="Last store day of the orders fitted.")
    time_unit_days: float = Field(description="Days per time unit of `alpha`.")
    horizon_months: int = Field(description="Months the per-customer predictions look ahead.")
    monthly_discount_rate: float = Field(description="Discount per month of `predicted_value`.")
    purchases: PurchaseModel
    spend: SpendModel
    holdout: Holdout | None = Field(description="Null when fitted without a holdout.")
    forecast: dict[str, list[ForecastPeriod]] = Field(
        description="Expected repeat orders per calendar `week` and `month` over the horizon."
    )


class ClvQuery(Page):
    sort: ClvSort = Field(
        "predicted_value", description="Descending sort key. Defaults to `predicted_value`."
    )


class ClvCustomer(BaseModel):
    customer_id: str
    repeat_order_days: int = Field(description="Days with an order after the first, to `as_of`.")
    p_alive: float = Field(description="Probability the customer still buys (0-1).")
    expected_orders: float = Field(description="Expected order days over the horizon.")
    expected_spend: MoneyOut = Field(description="Expected spend per order.")
    predicted_value: MoneyOut = Field(description="Expected spend over the horizon, discounted.")


class ClvList(BaseModel):
    model_id: int
    as_of: date
    horizon_months: int
    monthly_discount_rate: float
    currency: str
    data: list[ClvCustomer]
    pagination: Pagination


class ForecastQuery(StrictModel):
    granularity: Literal["week", "month"] = Field(
        "month", description="Calendar periods. Defaults to `month`."
    )


class ClvForecast(BaseModel):
    model_id: int
    as_of: date
    granularity: str
    data: list[ForecastPeriod]
