"""Strategic platforms: a platform's best policy against fixed rivals, the frontier of
its revenue against consumer surplus, and best-response iteration between platforms.

``optimize.best_policy`` (CMA-ES, via pycma, over batched rollouts with common random
numbers), ``frontier.pareto`` and ``equilibrium.best_responses``. Needs the ``strategy``
extra (``cma``). See docs/strategic.md.
"""
