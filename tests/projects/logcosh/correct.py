# %% [markdown]
# Reference solution of the logcosh project (kept out of the companion package).

# %%
import math

import jax
import jax.numpy as jnp
import torch

LOG2 = math.log(2.0)


def _check(name, x, floating):
    if not floating(x.dtype):
        raise TypeError(f"{name}: x must have a real floating dtype; got dtype {x.dtype}")


# %% PyTorch
class LogCosh(torch.autograd.Function):
    generate_vmap_rule = True

    @staticmethod
    def forward(x):
        a = x.abs()
        return a + torch.log1p(torch.exp(-2 * a)) - LOG2

    @staticmethod
    def setup_context(ctx, inputs, output):
        (x,) = inputs
        ctx.save_for_backward(x)
        ctx.save_for_forward(x)

    @staticmethod
    def backward(ctx, y_bar):
        (x,) = ctx.saved_tensors
        return y_bar * torch.tanh(x)

    @staticmethod
    def jvp(ctx, x_dot):
        (x,) = ctx.saved_tensors
        return torch.tanh(x) * x_dot


def torch_logcosh(x):
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"torch_logcosh: x must be a torch.Tensor; got {type(x).__name__}")
    _check("torch_logcosh", x, lambda d: d.is_floating_point and not d.is_complex)
    return LogCosh.apply(x)


# %% JAX
def _logcosh(x):
    a = jnp.abs(x)
    return a + jnp.log1p(jnp.exp(-2 * a)) - LOG2


def _jax_floating(d):
    return jnp.issubdtype(d, jnp.floating)


@jax.custom_jvp
def _logcosh_jvp(x):
    return _logcosh(x)


@_logcosh_jvp.defjvp
def _logcosh_jvp_rule(primals, tangents):
    (x,), (x_dot,) = primals, tangents
    return _logcosh(x), jnp.tanh(x) * x_dot


def jax_logcosh(x):
    x = jnp.asarray(x)
    _check("jax_logcosh", x, _jax_floating)
    return _logcosh_jvp(x)


@jax.custom_vjp
def _logcosh_vjp(x):
    return _logcosh(x)


def _logcosh_fwd(x):
    return _logcosh(x), x


def _logcosh_bwd(x, y_bar):
    return (y_bar * jnp.tanh(x),)


_logcosh_vjp.defvjp(_logcosh_fwd, _logcosh_bwd)


def jax_logcosh_vjp(x):
    x = jnp.asarray(x)
    _check("jax_logcosh_vjp", x, _jax_floating)
    return _logcosh_vjp(x)
