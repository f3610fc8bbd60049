"""Predictive customer lifetime value: BG/NBD for the number of future orders and Gamma-Gamma
for the spend per order (docs/metrics.md, "Predicted lifetime value"), fitted off the request
path (``flask clv fit``) and stored for the endpoints to read."""
