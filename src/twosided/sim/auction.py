"""Quality-scored position auctions for sponsored slots: GSP and VCG, with a reserve price.

The model is the standard position auction with separable click rates (Edelman,
Ostrovsky & Schwarz 2007; Varian 2007): slot ``k`` receives ``slot_clicks[k]`` clicks per
unit of ad quality, and an ad of quality score ``q`` (its predicted click rate) in slot
``k`` receives ``slot_clicks[k] × q`` clicks. Bidders are ranked by ``bid × q``.

* GSP, Taobao's sponsored-search rule: the winner of slot ``k`` pays per click the next
  bidder's ``bid × q`` divided by its own ``q``, plus an increment (one cent), never more
  than its own bid and never less than the reserve. With all ``q = 1`` and no increment
  this is the textbook GSP: each pays the next bid.
* VCG: each winner pays the externality it imposes on the others,
  ``Σ_{t≥k} (α_t − α_{t+1}) · (bid·q)_{t+1}``, per click divided by ``α_k q_k``. The reserve
  is the seller's own phantom bid (textbook VCG with a reserve: the seller values a click
  of an unsold slot at the reserve), so where no real bidder is left below, the term uses
  ``reserve × q_k``: with bids (10, 6), clicks (1, 0.5) and reserve 5 the top slot pays
  ``6·0.5 + 5·0.5 = 5.5`` a click. With unit quality this is exactly VCG from its
  definition (``tests/sim/test_auction.py`` checks it against a brute force); with quality
  scores the price is also floored at the reserve. Under truthful bids VCG revenue never
  exceeds GSP revenue (EOS 2007).

A bidder takes part only if its bid reaches the reserve; slots with no clicks are not sold,
and with no bidders at all every slot is unsold.
"""

from __future__ import annotations

from typing import Literal

import jax
import jax.numpy as jnp
import numpy as np


def auction_core(
    bids: jax.Array,
    quality: jax.Array,
    slot_clicks: jax.Array,
    reserve: jax.Array,
    vcg: jax.Array,
    increment: jax.Array,
) -> tuple[jax.Array, jax.Array]:
    """Jittable position auction: per slot the winner's index (-1 if unsold) and price per click.

    ``bids`` and ``quality`` are [n]; ``slot_clicks`` is [K], non-increasing, with zeros for
    slots not on sale; ``vcg`` is a boolean scalar selecting VCG over GSP.
    """
    K = slot_clicks.shape[0]
    dtype = bids.dtype
    pad = max(0, K + 1 - bids.shape[0])  # at least K + 1 entries, even with no bidders
    bids = jnp.concatenate([bids, jnp.zeros((pad,), dtype)])
    quality = jnp.concatenate([quality, jnp.zeros((pad,), quality.dtype)])
    eligible = (bids >= reserve) & (bids > 0) & (quality > 0)
    score = jnp.where(eligible, bids * quality, -1.0).astype(dtype)
    top_score, top_idx = jax.lax.top_k(score, K + 1)
    real = top_score >= 0.0
    on_sale = slot_clicks > 0
    sold = real[:K] & on_sale
    winners = jnp.where(sold, top_idx[:K], -1).astype(jnp.int32)
    own_q = jnp.where(sold, quality[top_idx[:K]], 1.0).astype(dtype)
    own_bid = jnp.where(sold, bids[top_idx[:K]], 0.0).astype(dtype)
    next_score = jnp.where(real[1:], top_score[1:], 0.0).astype(dtype)

    # GSP: next bidder's bid × quality over own quality, plus the increment
    gsp = jnp.where(real[1:], next_score / own_q + increment, reserve)
    # VCG: externality on the others through the slots on sale; below the last real bidder
    # the seller's phantom bid (the reserve) takes each slot that is freed
    alpha = jnp.where(on_sale, slot_clicks, 0.0).astype(dtype)
    alpha_next = jnp.concatenate([alpha[1:], jnp.zeros((1,), dtype)])
    drop = alpha - alpha_next
    real_part = jnp.cumsum((drop * next_score)[::-1])[::-1]
    phantom_clicks = jnp.cumsum(jnp.where(real[1:], 0.0, drop)[::-1])[::-1]
    externality = real_part + reserve * own_q * phantom_clicks
    vcg_price = externality / jnp.where(alpha > 0, alpha * own_q, 1.0)
    price = jnp.where(vcg, vcg_price, gsp)
    price = jnp.minimum(own_bid, jnp.maximum(reserve, price))
    return winners, jnp.where(sold, price, 0.0).astype(dtype)


_compiled = jax.jit(auction_core)  # compiled once per (bidders, slots) shape


def position_auction(
    bids: np.ndarray | list[float] | jax.Array,
    quality: np.ndarray | list[float] | jax.Array,
    slot_clicks: np.ndarray | list[float] | jax.Array,
    reserve: float = 0.0,
    mechanism: Literal["gsp", "vcg"] = "gsp",
    increment: float = 0.0,
) -> tuple[np.ndarray, np.ndarray]:
    """Run one quality-scored position auction.

    Args:
        bids: bid per click of each bidder.
        quality: quality score (predicted click rate) of each bidder's ad.
        slot_clicks: click rate of each slot from the top (the position effect).
        reserve: minimum bid and minimum price per click.
        mechanism: "gsp" (generalized second price) or "vcg".
        increment: added to the GSP price (Taobao adds one cent); ignored by VCG.

    Returns:
        ``(winners, prices)``: per slot the winning bidder's index (-1 if unsold) and its
        price per click (0 if unsold).

    The auction is compiled (``jax.jit``) once per number of bidders and of slots; later
    calls of the same shapes take microseconds, whatever the bids, reserve or mechanism.
    In a Monte Carlo loop keep the shapes fixed (give absent bidders a bid of 0: they never
    win) so that nothing is compiled again; for many auctions at once, ``jax.vmap`` the
    jittable ``auction_core`` over a batch of bids instead.
    """
    if mechanism not in ("gsp", "vcg"):
        raise ValueError(f"mechanism must be 'gsp' or 'vcg', got {mechanism!r}")
    b = np.asarray(bids, dtype=np.float64)
    q = np.asarray(quality, dtype=np.float64)
    a = np.asarray(slot_clicks, dtype=np.float64)
    if b.shape != q.shape or b.ndim != 1:
        raise ValueError("bids and quality must be 1-D arrays of the same length")
    if a.ndim != 1 or bool(np.any(np.diff(a) > 0)):
        raise ValueError("slot_clicks must be a 1-D non-increasing array")
    winners, prices = _compiled(
        b, q, a, np.float64(reserve), np.bool_(mechanism == "vcg"), np.float64(increment)
    )
    return np.asarray(winners), np.asarray(prices)
