// The dashboard: reads /api/v1 with the session cookie, renders every panel, polls.
// Plain DOM (text only, never HTML from data) and uPlot, loaded before this module.

const root = document.getElementById("dashboard");
const API = root.dataset.api;
const POLL_MS = Number(root.dataset.pollMs) || 15000;
const LOGIN = root.dataset.login;
const DEFAULT_DAYS = 90;
const COHORTS = 12;
const CLV_TOP = 10;
// "no" before the first `flask clv fit` (views.py): the prediction endpoints would answer 409.
const CLV_FITTED = root.dataset.clvFitted;

const state = {
  start: null,
  end: null,
  granularity: "week",
  // Follow the latest order day until the person picks dates themselves.
  follow: true,
  generation: 0,
  currency: "USD",
  charts: {},
  // The top customers of the model shown: asked again only when a fit replaces the model.
  clvTop: null,
  updatedAt: null,
  age: 0,
  failure: null,
  timer: null,
};

// ---- API ---------------------------------------------------------------------------------

class ApiError extends Error {
  constructor(status, problem) {
    super((problem && (problem.detail || problem.title)) || `The service answered ${status}.`);
    this.status = status;
  }
}

let ages = [];

async function get(path, params = {}) {
  let response;
  try {
    response = await fetch(`${API}${path}?${new URLSearchParams(params)}`, {
      credentials: "same-origin",
      headers: { Accept: "application/json" },
    });
  } catch {
    throw new ApiError(0, { detail: "The service could not be reached." });
  }
  if (response.status === 401) {
    // Session expired or key revoked: back to the sign-in page (no key in any URL).
    window.location.assign(`${LOGIN}?reason=expired`);
    throw new ApiError(401, { detail: "Signing in again…" });
  }
  if (!response.ok) {
    let problem = null;
    try {
      problem = await response.json();
    } catch {
      // not a problem document: the status says enough
    }
    throw new ApiError(response.status, problem);
  }
  ages.push(Number(response.headers.get("X-Data-Age") || 0));
  return response.json();
}

// ---- dates and numbers -------------------------------------------------------------------

const DAY_MS = 86_400_000;
const toDate = (iso) => new Date(`${iso}T00:00:00Z`);
const toIso = (date) => date.toISOString().slice(0, 10);
const addDays = (iso, days) => toIso(new Date(toDate(iso).getTime() + days * DAY_MS));
const daysBetween = (a, b) => Math.round((toDate(b) - toDate(a)) / DAY_MS);

function addMonths(month, n) {
  const [y, m] = month.split("-").map(Number);
  const total = y * 12 + (m - 1) + n;
  return `${String(Math.floor(total / 12)).padStart(4, "0")}-${String((total % 12) + 1).padStart(2, "0")}`;
}

const money = (value) =>
  value === null || value === undefined
    ? "—"
    : new Intl.NumberFormat("en-US", { style: "currency", currency: state.currency }).format(
        Number(value),
      );
const count = (value) => new Intl.NumberFormat("en-US").format(value);
const percent = (ratio, digits = 1) =>
  ratio === null || ratio === undefined ? "—" : `${(Number(ratio) * 100).toFixed(digits)}%`;

function change(current, previous) {
  const now = Number(current);
  const before = Number(previous);
  if (current === null || previous === null || !before) return { text: "", cls: "" };
  const pct = ((now - before) / Math.abs(before)) * 100;
  const sign = pct > 0 ? "+" : "";
  return {
    text: `${sign}${pct.toFixed(1)}% vs previous period`,
    cls: pct > 0 ? "up" : pct < 0 ? "down" : "",
  };
}

// ---- DOM helpers -------------------------------------------------------------------------

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (name === "class") node.className = value;
    else node.setAttribute(name, value);
  }
  for (const child of children) {
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

const panel = (id) => document.getElementById(`panel-${id}`);
// The id of a panel's h2 (the template's): a panel's table is named by its heading.
const titleOf = (id) => `panel-${id}-title`;

// A list of `rows` under `headers`, named (aria-labelledby) by panel `id`'s heading, as a screen
// reader announces it; the columns whose index is in `numeric` right-aligned.
function table(id, headers, rows, numeric = []) {
  const head = el("tr", {}, ...headers.map((h, i) => el("th", { scope: "col", ...(numeric.includes(i) ? { class: "num" } : {}) }, h)));
  const body = rows.map((cells) =>
    el("tr", {}, ...cells.map((c, i) => el("td", numeric.includes(i) ? { class: "num" } : {}, c))),
  );
  return el("table", { class: "list", "aria-labelledby": titleOf(id) }, el("thead", {}, head), el("tbody", {}, ...body));
}

function showContent(id, fill) {
  const section = panel(id);
  const content = section.querySelector(".content");
  // Shown before it is filled, so the chart measures its real width.
  content.hidden = false;
  if (fill) fill(content);
  const note = section.querySelector("[data-state]");
  note.hidden = true;
  note.className = "state";
  section.setAttribute("aria-busy", "false");
}

function showEmpty(id, message) {
  const section = panel(id);
  section.querySelector(".content").hidden = true;
  const note = section.querySelector("[data-state]");
  note.textContent = message;
  note.className = "state empty";
  note.hidden = false;
  section.setAttribute("aria-busy", "false");
}

// A failed poll keeps what the panel showed, with the error above it; a failed change (of
// the range, say) hides it: those figures answer another question.
function showError(id, error, keep = true) {
  const section = panel(id);
  if (!keep) section.querySelector(".content").hidden = true;
  const note = section.querySelector("[data-state]");
  note.textContent = `Could not load: ${error.message}`;
  note.className = "state error";
  note.hidden = false;
  section.setAttribute("aria-busy", "false");
}

function setBusy(busy = true) {
  for (const section of document.querySelectorAll(".panel")) section.setAttribute("aria-busy", String(busy));
}

// ---- panels ------------------------------------------------------------------------------

function renderSales(current, previous) {
  state.currency = current.currency;
  const t = current.totals;
  const p = previous ? previous.totals : null;
  document.getElementById("sales-range").textContent = `${current.start} to ${current.end}`;
  if (t.orders === 0) {
    showEmpty("sales", `No orders between ${current.start} and ${current.end}.`);
    showEmpty("breakdown", "No sales in this range.");
    return;
  }
  showContent("sales", () => {
    const values = {
      net_sales: money(t.net_sales),
      orders: count(t.orders),
      average_order_value: money(t.average_order_value),
      customers: `${count(t.customers)} (${count(t.new_customers)} new)`,
    };
    for (const [field, text] of Object.entries(values)) {
      document.getElementById(`kpi-${field}`).textContent = text;
      const delta = p ? change(t[field], p[field]) : { text: "", cls: "" };
      const note = document.getElementById(`chg-${field}`);
      note.textContent = delta.text;
      note.className = delta.cls;
    }
    drawSalesChart(current, previous);
  });
  showContent("breakdown", () => {
    for (const field of ["gross_sales", "discounts", "returns", "net_sales"]) {
      document.getElementById(`bd-${field}`).textContent = money(t[field]);
    }
  });
}

const compact = new Intl.NumberFormat("en-US", { notation: "compact", maximumFractionDigits: 1 });
const fromZero = (_u, _min, max) => [0, max > 0 ? max * 1.05 : 1];

// A uPlot in `box`, made on its first data and updated in place after (so a poll does not
// redraw it from scratch); it follows the box's width. Times are UTC seconds, as the API's days.
function drawChart(name, box, height, options, data) {
  if (state.charts[name]) {
    state.charts[name].setData(data);
    return;
  }
  const width = () => Math.max(box.clientWidth, 200);
  const chart = new uPlot(
    { width: width(), height, tzDate: (ts) => uPlot.tzDate(new Date(ts * 1000), "Etc/UTC"), ...options },
    data,
    box,
  );
  state.charts[name] = chart;
  new ResizeObserver(() => chart.setSize({ width: width(), height })).observe(box);
}

// A chart's figures for those who cannot see it: the chart box's label summarises it and says a
// table follows; the table (in `holder`, a .visually-hidden box: out of sight, in the
// accessibility tree) has a caption, a header per column and one row per period, its period a
// row header. Rebuilt only when its text changes, so a poll with the same figures does not move
// a screen reader's place in it.
const described = new WeakMap(); // holder -> the text its table shows

function describeChart(box, holder, label, caption, headers, rows) {
  box.setAttribute("aria-label", `${label}; table follows`);
  const key = JSON.stringify([caption, headers, rows]);
  if (described.get(holder) === key) return;
  described.set(holder, key);
  const head = el("tr", {}, ...headers.map((h, i) => el("th", { scope: "col", ...(i ? { class: "num" } : {}) }, h)));
  const body = rows.map(([period, ...values]) =>
    el("tr", {}, el("th", { scope: "row" }, period), ...values.map((v) => el("td", { class: "num" }, v))),
  );
  holder.replaceChildren(el("table", {}, el("caption", {}, caption), el("thead", {}, head), el("tbody", {}, ...body)));
}

const PERIOD_HEADER = { day: "Day", week: "Week starting", month: "Month starting" };

function drawSalesChart(current, previous) {
  const xs = current.rows.map((row) => toDate(row.period).getTime() / 1000);
  const now = current.rows.map((row) => Number(row.net_sales));
  // The previous range, period by period, under this one's dates.
  const before = xs.map((_, i) => (previous && previous.rows[i] ? Number(previous.rows[i].net_sales) : null));
  drawChart(
    "sales",
    document.getElementById("sales-chart"),
    260,
    {
      scales: { y: { range: fromZero } },
      series: [
        {},
        { label: "Net sales", stroke: "#2563eb", fill: "rgba(37,99,235,0.08)", width: 2, value: (_u, v) => money(v) },
        { label: "Previous period", stroke: "#9ca3af", dash: [6, 4], width: 1.5, value: (_u, v) => money(v) },
      ],
      axes: [{}, { values: (_u, ticks) => ticks.map((v) => compact.format(v)), size: 56 }],
    },
    [xs, now, before],
  );
  const label = `Net sales per ${current.granularity}, ${current.start} to ${current.end}, against the previous period`;
  describeChart(
    document.getElementById("sales-chart"),
    document.getElementById("sales-table"),
    label,
    label,
    [PERIOD_HEADER[current.granularity] || "Period", "Net sales", "Previous period"],
    current.rows.map((row, i) => [row.period, money(row.net_sales), money(before[i])]),
  );
}

function renderProducts(id, report, emptyText) {
  if (report.data.length === 0) return showEmpty(id, emptyText);
  showContent(id, (content) => {
    const rows = report.data.map((row) => {
      const delta = row.change_pct.net_sales;
      return [row.sku, money(row.net_sales), count(row.units), delta === null ? "new" : `${delta}%`];
    });
    content.replaceChildren(table(id, ["SKU", "Net sales", "Units", "vs previous"], rows, [1, 2, 3]));
  });
}

function renderCohorts(report, months, lastMonth) {
  if (report.cohorts.length === 0) return showEmpty("cohorts", "No customer ordered for the first time in these months.");
  showContent("cohorts", (content) => {
    const head = el("tr", {}, el("th", {}, "Cohort"), el("th", { class: "num" }, "Customers"));
    for (let m = 0; m <= months; m += 1) head.append(el("th", { class: "num" }, `M${m}`));
    const body = report.cohorts.map((cohort) => {
      const row = el("tr", {}, el("th", { scope: "row" }, cohort.cohort), el("td", { class: "num" }, count(cohort.customers)));
      for (let m = 0; m <= months; m += 1) {
        // Months after the range's last are not over (or not begun): left blank, not 0%.
        const future = addMonths(cohort.cohort, m) > lastMonth;
        const cell = future ? null : cohort.months.find((entry) => entry.month === m);
        const td = el("td", { class: "num heat" }, cell ? percent(cell.retention, 0) : "");
        if (cell) {
          const r = Number(cell.retention);
          td.style.backgroundColor = `rgba(37, 99, 235, ${Math.max(r, 0.04).toFixed(3)})`;
          if (r > 0.5) td.classList.add("dark");
          td.title = `${cohort.cohort}, month ${m}: ${count(cell.active_customers)} active, ${money(cell.revenue)}`;
        }
        row.append(td);
      }
      return row;
    });
    content.replaceChildren(
      el("table", { class: "list heatmap", "aria-labelledby": titleOf("cohorts") }, el("thead", {}, head), el("tbody", {}, ...body)),
    );
  });
}

function renderRfm(report) {
  document.getElementById("rfm-as-of").textContent = report.as_of ? `as of ${report.as_of}` : "";
  if (report.segments.length === 0) return showEmpty("rfm", "No customers yet.");
  showContent("rfm", (content) => {
    const rows = report.segments.map((s) => [
      s.segment.replaceAll("_", " "),
      count(s.customers),
      bar(Number(s.share), percent(s.share)),
      money(s.net_sales),
    ]);
    content.replaceChildren(table("rfm", ["Segment", "Customers", "Share", "Net sales"], rows, [1, 3]));
  });
}

function bar(fraction, label) {
  const fill = el("span", { class: "fill" });
  fill.style.width = `${Math.min(Math.max(fraction, 0), 1) * 100}%`;
  return el("span", { class: "bar" }, fill, el("span", { class: "label" }, label));
}

function renderLtv(report) {
  if (report.customers === 0) return showEmpty("ltv", "No customers yet.");
  showContent("ltv", (content) => {
    const p = report.percentiles;
    const figures = el(
      "dl",
      { class: "figures-inline" },
      ...[
        ["Customers", count(report.customers)],
        ["Mean", money(report.mean)],
        ["Median", money(p.p50)],
        ["90th pct", money(p.p90)],
      ].flatMap(([k, v]) => [el("dt", {}, k), el("dd", {}, v)]),
    );
    const most = Math.max(...report.histogram.map((b) => b.customers), 1);
    const rows = report.histogram.map((b) => [
      `${money(b.lower)} – ${money(b.upper)}`,
      bar(b.customers / most, count(b.customers)),
    ]);
    content.replaceChildren(figures, table("ltv", ["Lifetime value", "Customers"], rows));
  });
}

// A UTC ISO datetime as "2025-06-30 03:00 UTC": the nightly fit's clock, whatever the viewer's.
const utcMinute = (iso) => `${new Date(iso).toISOString().slice(0, 16).replace("T", " ")} UTC`;

function renderClv(clv) {
  if (clv === null) {
    document.getElementById("clv-horizon").textContent = "";
    return showEmpty(
      "clv",
      "No predictions yet: they appear after the nightly model fit (or run 'flask clv fit'). " +
        "Reload the page once it has run.",
    );
  }
  const { model, top } = clv;
  document.getElementById("clv-horizon").textContent = `next ${model.horizon_months} months`;
  showContent("clv", (content) => {
    const discount = model.monthly_discount_rate > 0 ? `, discounted ${percent(model.monthly_discount_rate, 1)} a month` : "";
    content.querySelector("#clv-model").textContent =
      `Model fitted ${utcMinute(model.fitted_at)} on ${count(model.purchases.customers)} customers' ` +
      `orders up to ${model.as_of}${discount}.`;
    const rows = top.data.map((c) => [
      c.customer_id,
      money(c.predicted_value),
      Number(c.expected_orders).toFixed(1),
      percent(c.p_alive, 0),
    ]);
    content
      .querySelector("#clv-top")
      .replaceChildren(table("clv", ["Customer", "Predicted value", "Expected orders", "Chance still active"], rows, [1, 2, 3]));
    drawForecastChart(model.forecast.month);
  });
}

function drawForecastChart(periods) {
  const xs = periods.map((p) => toDate(p.period).getTime() / 1000);
  const orders = periods.map((p) => p.expected_orders);
  // Half a period of room either side, so the first and last bars are drawn whole.
  const pad = xs.length > 1 ? (xs[1] - xs[0]) / 2 : 15 * 86_400;
  drawChart(
    "clv",
    document.getElementById("clv-chart"),
    200,
    {
      legend: { show: false },
      scales: { x: { time: true, range: (_u, min, max) => [min - pad, max + pad] }, y: { range: fromZero } },
      series: [
        {},
        {
          label: "Expected repeat orders",
          stroke: "#2563eb",
          fill: "rgba(37,99,235,0.35)",
          paths: uPlot.paths.bars({ size: [0.7, 48] }),
          points: { show: false },
          value: (_u, v) => (v === null ? "—" : v.toFixed(1)),
        },
      ],
      axes: [{}, { values: (_u, ticks) => ticks.map((v) => compact.format(v)), size: 48 }],
    },
    [xs, orders],
  );
  const label =
    periods.length > 0
      ? `Expected repeat orders of today's customers per month, ${periods[0].period} to ${periods[periods.length - 1].period}`
      : "Expected repeat orders of today's customers per month: none forecast";
  describeChart(
    document.getElementById("clv-chart"),
    document.getElementById("clv-table"),
    label,
    `${label} (first and last months partial)`,
    ["Month starting", "Expected repeat orders"],
    periods.map((p) => [p.period, p.expected_orders === null ? "—" : p.expected_orders.toFixed(1)]),
  );
}

function renderChurn(report) {
  if (report.data.length === 0) return showEmpty("churn", "No high-value customer is overdue.");
  showContent("churn", (content) => {
    const rows = report.data.map((c) => [
      c.customer_id,
      money(c.net_sales),
      count(c.days_since_last_order),
      c.expected_interval_days === null ? "one order" : `${count(c.expected_interval_days)} d`,
    ]);
    content.replaceChildren(table("churn", ["Customer", "Net sales", "Days idle", "Usual gap"], rows, [1, 2, 3]));
  });
}

function renderPairs(report) {
  if (report.data.length === 0) return showEmpty("pairs", "No two products were bought together in 2 or more orders yet.");
  showContent("pairs", (content) => {
    const rows = report.data.map((pair) => [
      `${pair.sku_a} + ${pair.sku_b}`,
      count(pair.orders),
      Number(pair.lift).toFixed(2),
      percent(pair.confidence_a_to_b),
    ]);
    content.replaceChildren(table("pairs", ["Pair", "Orders", "Lift", "A → B"], rows, [1, 2, 3]));
  });
}

// ---- refresh cycle -----------------------------------------------------------------------

// The predictions change only when a fit replaces the model: each poll asks for the model (one
// small cached document, which has the forecast too) and asks for the top customers again only
// when the model is not the one they were read for. Null: nothing fitted (nothing is asked).
async function loadClv() {
  if (CLV_FITTED === "no") return null;
  let model;
  try {
    model = await get("/models/clv");
  } catch (error) {
    if (error.status === 409) return null; // the shell could not tell, and there is none yet
    throw error;
  }
  if (!state.clvTop || state.clvTop.model_id !== model.model_id) {
    state.clvTop = await get("/customers/clv", { limit: CLV_TOP });
  }
  return { model, top: state.clvTop };
}

function readControls() {
  state.start = document.getElementById("start").value;
  state.end = document.getElementById("end").value;
  state.granularity = document.getElementById("granularity").value;
}

function writeControls() {
  document.getElementById("start").value = state.start;
  document.getElementById("end").value = state.end;
}

function rangeProblem() {
  if (!state.start || !state.end) return "Pick both dates.";
  if (state.start > state.end) return "The start date must not be after the end date.";
  return null;
}

async function refresh({ busy = false } = {}) {
  const generation = ++state.generation;
  const stale = () => generation !== state.generation;
  ages = [];
  if (busy) setBusy();
  try {
    // The churn list also says which day the latest order fell on: the range follows it.
    const churn = await get("/insights/churn-risk", { limit: 10 });
    if (stale()) return;
    state.currency = churn.currency;
    if (state.follow) {
      state.end = churn.as_of || toIso(new Date());
      state.start = addDays(state.end, -(DEFAULT_DAYS - 1));
      writeControls();
    }
    renderChurn(churn);
  } catch (error) {
    if (stale()) return;
    showError("churn", error);
    if (state.follow && !state.end) return reportFailure(error);
  }
  const problem = rangeProblem();
  const rangeError = document.getElementById("range-error");
  rangeError.hidden = !problem;
  rangeError.textContent = problem || "";
  if (problem) return setBusy(false); // nothing asked: the panels keep their last figures

  const { start, end, granularity } = state;
  const days = daysBetween(start, end) + 1;
  // The heatmap: the year of cohorts up to the range's last month, each followed to that month.
  const endMonth = end.slice(0, 7);
  const cohortStart = addMonths(endMonth, -(COHORTS - 1));
  const cohortMonths = COHORTS - 1;
  const range = { start, end };
  const jobs = {
    sales: Promise.all([
      get("/sales", { ...range, granularity }),
      get("/sales", { start: addDays(start, -days), end: addDays(start, -1), granularity }).catch(() => null),
    ]),
    top: get("/products/performance", { ...range, limit: 5 }),
    bottom: get("/products/performance", { ...range, limit: 5, order: "bottom" }),
    cohorts: get("/customers/cohorts", { start: cohortStart, end: endMonth, months: cohortMonths }),
    rfm: get("/customers/rfm", { limit: 1 }),
    ltv: get("/customers/ltv-distribution", { buckets: 8 }),
    clv: loadClv(),
    pairs: get("/insights/bought-together", { limit: 10 }),
  };
  const render = {
    sales: ([current, previous]) => renderSales(current, previous),
    top: (r) => renderProducts("top", r, "No product sold in this range."),
    bottom: (r) => renderProducts("bottom", r, "No product sold in this range."),
    cohorts: (r) => renderCohorts(r, cohortMonths, endMonth),
    rfm: renderRfm,
    ltv: renderLtv,
    clv: renderClv,
    pairs: renderPairs,
  };
  const names = Object.keys(jobs);
  const results = await Promise.allSettled(Object.values(jobs));
  if (stale()) return;
  let failure = null;
  results.forEach((result, i) => {
    const name = names[i];
    if (result.status === "fulfilled") return render[name](result.value);
    failure = failure || result.reason;
    showError(name, result.reason, !busy);
    if (name === "sales") {
      if (busy) document.getElementById("sales-range").textContent = `${start} to ${end}`;
      showError("breakdown", result.reason, !busy);
    }
  });
  if (failure) return reportFailure(failure);
  state.failure = null;
  state.updatedAt = new Date();
  state.age = Math.max(0, ...ages);
  showFreshness();
}

function reportFailure(error) {
  state.failure = `Could not refresh at ${new Date().toLocaleTimeString()}: ${error.message} Retrying every ${POLL_MS / 1000} s.`;
  showFreshness();
}

// Ticks every second; the last refresh's failure, while it stands, wins over its age.
function showFreshness() {
  const line = document.getElementById("freshness");
  if (state.failure) {
    line.textContent = state.failure;
    line.className = "freshness error";
    return;
  }
  if (!state.updatedAt) return;
  const ago = Math.round((Date.now() - state.updatedAt) / 1000);
  const lag = state.age > 0 ? `figures may lag the latest orders by up to ${state.age.toFixed(1)} s` : "figures include every order";
  line.textContent = `Updated ${ago < 2 ? "just now" : `${ago} s ago`} (${state.updatedAt.toLocaleTimeString()}); ${lag}. Refreshes every ${POLL_MS / 1000} s.`;
  line.className = "freshness";
}

function schedule() {
  clearTimeout(state.timer);
  state.timer = setTimeout(async () => {
    // A hidden tab does not poll; it catches up when shown again.
    if (document.visibilityState !== "hidden") await refresh();
    schedule();
  }, POLL_MS);
}

function onRangeChange() {
  state.follow = false;
  readControls();
  refresh({ busy: true });
  schedule();
}

document.getElementById("start").addEventListener("change", onRangeChange);
document.getElementById("end").addEventListener("change", onRangeChange);
document.getElementById("granularity").addEventListener("change", () => {
  readControls();
  refresh({ busy: true });
  schedule();
});
document.getElementById("latest").addEventListener("click", () => {
  state.follow = true;
  readControls();
  refresh({ busy: true });
  schedule();
});
document.getElementById("controls").addEventListener("submit", (event) => event.preventDefault());
document.addEventListener("visibilitychange", () => {
  if (document.visibilityState === "visible") refresh();
});
setInterval(showFreshness, 1000);

readControls();
refresh({ busy: true });
schedule();
