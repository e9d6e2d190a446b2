# %% [markdown]
# # Capstone project: log cosh, stable for every x
#
# Write `y = log(cosh(x))` (elementwise, real floating `x` of any shape) three
# times, each with a hand-written derivative rule:
#
# * `torch_logcosh(x)`: validates `x`, then calls a `torch.autograd.Function`
#   with `backward` (reverse mode) and `jvp` (forward mode);
# * `jax_logcosh(x)`: a `jax.custom_jvp` function (one JVP rule, JAX derives the rest);
# * `jax_logcosh_vjp(x)`: a `jax.custom_vjp` function (`fwd` and `bwd`).
#
# Milestones: (1) derive the primal in a form that never overflows and the
# derivative in a form that never gives nan; (2) implement; (3) test with the
# grader; (4) benchmark against `torch.log(torch.cosh(x))` and its autograd.
#
# Grade it with: `python -m companion grade logcosh <this file>`

# %%
import math

import jax
import jax.numpy as jnp
import torch

LOG2 = math.log(2.0)

# %% [markdown]
# ## 1. Derivation (on paper first)
#
# `cosh(x)` overflows in float64 for `|x| > 710`, so `log(cosh(x))` gives `inf`
# where the answer is about `|x| - log 2`. Factor `exp(|x|)` out of `cosh x`
# to get a form that never overflows; then differentiate. Write the derivative
# so that it stays finite for large `|x|` (`sinh x / cosh x` gives `inf / inf`).
# The second derivative must come out right too: the grader differentiates
# your rule once more.

# %% [markdown]
# ## 2. PyTorch

# %%
class LogCosh(torch.autograd.Function):
    generate_vmap_rule = True  # torch.func.vmap builds the batched rule

    @staticmethod
    def forward(x):
        # TODO: the stable primal, with torch functions.
        raise NotImplementedError("LogCosh.forward: compute log cosh x stably")

    @staticmethod
    def setup_context(ctx, inputs, output):
        # TODO: save what backward and jvp need (save_for_backward, save_for_forward).
        # Save inputs or outputs, not intermediates of forward: double backward
        # must see how the residuals depend on x.
        raise NotImplementedError("LogCosh.setup_context: save the residuals")

    @staticmethod
    def backward(ctx, y_bar):
        # TODO: the VJP x_bar, written with differentiable torch operations.
        raise NotImplementedError("LogCosh.backward: return x_bar")

    @staticmethod
    def jvp(ctx, x_dot):
        # TODO: the JVP y_dot (forward-mode AD, torch.func.jvp).
        raise NotImplementedError("LogCosh.jvp: return y_dot")


def torch_logcosh(x):
    # TODO: reject what is not a real floating torch.Tensor with a TypeError that
    # names the argument x, what it got and what was expected; then LogCosh.apply(x).
    raise NotImplementedError("torch_logcosh: validate x, then call LogCosh.apply")


# %% [markdown]
# ## 3. JAX
#
# The grader runs the JAX checks in float64 (`jax.enable_x64`).

# %%
@jax.custom_jvp
def _logcosh_jvp(x):
    raise NotImplementedError("_logcosh_jvp: compute log cosh x stably with jnp")


@_logcosh_jvp.defjvp
def _logcosh_jvp_rule(primals, tangents):
    # TODO: return (y, y_dot).
    raise NotImplementedError("_logcosh_jvp_rule: return (y, y_dot)")


def jax_logcosh(x):
    # TODO: jnp.asarray(x), reject integer or complex dtypes (TypeError naming x).
    raise NotImplementedError("jax_logcosh: validate x, then call _logcosh_jvp")


@jax.custom_vjp
def _logcosh_vjp(x):
    raise NotImplementedError("_logcosh_vjp: compute log cosh x stably with jnp")


def _logcosh_fwd(x):
    # TODO: return (y, residuals).
    raise NotImplementedError("_logcosh_fwd: return (y, residuals)")


def _logcosh_bwd(residuals, y_bar):
    # TODO: return a tuple with one cotangent per input of _logcosh_vjp.
    raise NotImplementedError("_logcosh_bwd: return (x_bar,)")


_logcosh_vjp.defvjp(_logcosh_fwd, _logcosh_bwd)


def jax_logcosh_vjp(x):
    # TODO: validate as in jax_logcosh, then call _logcosh_vjp.
    raise NotImplementedError("jax_logcosh_vjp: validate x, then call _logcosh_vjp")


# %% [markdown]
# ## 4. Try it, then benchmark
#
# Runs when this file is executed as a script or as a notebook (not when graded).

# %%
if __name__ == "__main__":
    x = torch.tensor([-800.0, -1.0, 0.0, 2.0, 800.0], dtype=torch.float64,
                     requires_grad=True)
    print(torch_logcosh(x))
    # TODO: compare torch_logcosh's forward + backward time with the naive
    # torch.log(torch.cosh(x)) and its autograd, e.g. with torch.utils.benchmark.Timer.
