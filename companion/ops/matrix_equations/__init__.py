"""Matrix equations: the continuous Lyapunov equation ``lyapunov``."""
