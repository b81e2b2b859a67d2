"""Small markets for the environment tests: 1,000 buyers, two weekly periods."""

from __future__ import annotations

SMALL = {"market.buyers": 1000, "market.seller_capacity": 16, "market.initial_sellers": 8}
PERIOD_DAYS = 7
PERIODS = 2
