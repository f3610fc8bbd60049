"""RFM's score cells without scoring every customer: customers and net spend per (R, F, M)
score, from ``rfm_cells`` (customers per last order day, order count and net band, kept exact at
write time) and the customers of the net bands a cut point falls in.

A cell's customers share their last order day and order count, so their R and F scores are
the cell's; their net spend lies in one band (``value_buckets.band_of``), so unless an M cut
point falls in that band they share the M score too, found from the band keys alone (bands
are ordered as the values in them). The customers of the at most four bands holding a cut
point are scored one by one, from the ``customers.net_sales`` index alone (it carries the last
order day and order count). At 5.5M customers that is a few hundred thousand cells and a few
per cent of the customers, instead of all of them.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    and_,
    case,
    func,
    literal,
    select,
    type_coerce,
    union_all,
)
from sqlalchemy.orm import InstrumentedAttribute, Session

from ..models import Customer, RfmCell
from ..value_buckets import band_bounds, band_of
from .ranks import stored_net

# (r, f, m, customers, net sales as the stored integer)
ScoreCell = tuple[int, int, int, int, int]


def score_expr(
    column: ColumnElement[Any] | InstrumentedAttribute[Any], cuts: Sequence[Any]
) -> ColumnElement[int]:
    """A 1-5 score: 1 + the number of quintile cut points strictly below the value."""
    expr: ColumnElement[int] = literal(1)
    for cut in cuts:
        expr = expr + case((column > cut, 1), else_=0)
    return expr


def score_cells(
    session: Session, r_cuts: Sequence[date], f_cuts: Sequence[int], m_cuts: Sequence[int]
) -> list[ScoreCell]:
    """Customers and net spend per (R, F, M) score, non-empty cells only; ``r_cuts`` are last
    order days, ``f_cuts`` order counts, ``m_cuts`` stored net amounts (integers), four each,
    ascending. Read in the caller's snapshot (``ranks.one_snapshot``)."""
    cell = RfmCell.__table__.c
    cut_bands = [band_of(cut) for cut in m_cuts]
    walked = sorted(set(cut_bands))
    band_m: ColumnElement[int] = literal(1)
    for band in cut_bands:
        band_m = band_m + case((cell.net_band > band, 1), else_=0)
    from_cells = (
        select(
            score_expr(cell.last_order_date, r_cuts).label("r"),
            score_expr(cell.orders, f_cuts).label("f"),
            band_m.label("m"),
            cell.customers.label("customers"),
            type_coerce(cell.net_sales, BigInteger()).label("net"),
        )
        .where(cell.customers != 0)
        .where(cell.net_band.not_in(walked))
    )
    net = stored_net()
    # One range per band (not one OR of them): each is then an index-only range scan of the
    # ``customers.net_sales`` index, which carries the last order day and order count for it.
    from_customers = []
    for band in walked:
        low, high = band_bounds(band)
        from_customers.append(
            select(
                score_expr(Customer.last_order_date, r_cuts).label("r"),
                score_expr(Customer.orders, f_cuts).label("f"),
                score_expr(net, m_cuts).label("m"),
                literal(1).label("customers"),
                net.label("net"),
            ).where(net < high if low is None else and_(net >= low, net < high))
        )
    scored = union_all(from_cells, *from_customers).subquery()
    rows = session.execute(
        select(
            scored.c.r,
            scored.c.f,
            scored.c.m,
            func.sum(scored.c.customers),
            func.sum(type_coerce(scored.c.net, BigInteger())),
        ).group_by(scored.c.r, scored.c.f, scored.c.m)
    ).all()
    return [(int(r), int(f), int(m), int(n), int(total)) for r, f, m, n, total in rows if n]
