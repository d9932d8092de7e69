"""The plausible ranges of the assumptions (README, "How the split is chosen"): what the
uncertainty draws sample (flat; ρ log-uniform) and the experiments' priors cover (DESIGN §7, §12).
"""

RANGES = {"rho": (2.0, 30.0), "mu": (0.05, 0.95), "phi": (0.2, 0.8)}
