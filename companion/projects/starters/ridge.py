# %% [markdown]
# # Capstone project: the ridge solve, reusing its factorisation
#
# Write `x = (AᵀA + λI)⁻¹ Aᵀ b` for `A` of shape `(m, n)`, `b` of shape `(m,)`
# and a scalar `lam` = λ > 0, with derivative rules with respect to all three,
# three times:
#
# * `torch_ridge(A, b, lam)`: validates, then calls a `torch.autograd.Function`
#   with `backward` and `jvp`;
# * `jax_ridge(A, b, lam)`: a `jax.custom_jvp` function;
# * `jax_ridge_vjp(A, b, lam)`: a `jax.custom_vjp` function.
#
# Factorise `M = AᵀA + λI` once, with a Cholesky factorisation, in the forward
# pass. The rules solve with that factor and never factorise again: the grader
# checks it. Milestones: (1) derive the JVP and the VJP (differentiate
# `M x = Aᵀ b`; the residual `r = b - A x` appears); (2) implement; (3) test
# with the grader; (4) benchmark against differentiating
# `torch.linalg.solve(A.mT @ A + lam * I, A.mT @ b)` with autograd.
#
# Grade it with: `python -m companion grade ridge <this file>`

# %%
import jax
import jax.numpy as jnp
import jax.scipy.linalg as jsl
import torch

# %% [markdown]
# ## 1. Derivation (on paper first)
#
# Differentiate `(AᵀA + λI) x = Aᵀ b` to get `M ẋ = ...` (the JVP), then take
# the adjoint of that linear map of `(Ȧ, ḃ, λ̇)` to get `(Ā, b̄, λ̄)` from `x̄`
# (the VJP): one solve `M g = x̄`, then outer products. Check the shapes: `Ā`
# is `(m, n)`, `b̄` is `(m,)`, `λ̄` is a scalar.

# %% [markdown]
# ## 2. PyTorch
#
# A modern-style Function hands an intermediate (the Cholesky factor L) to
# setup_context by returning it as an extra output, marked non-differentiable.

# %%
class Ridge(torch.autograd.Function):
    generate_vmap_rule = True

    @staticmethod
    def forward(A, b, lam):
        # TODO: factorise M = AᵀA + λI (torch.linalg.cholesky), solve
        # (torch.cholesky_solve); return (x, L).
        raise NotImplementedError("Ridge.forward: return (x, L)")

    @staticmethod
    def setup_context(ctx, inputs, output):
        # TODO: mark L non-differentiable; save what backward and jvp need.
        raise NotImplementedError("Ridge.setup_context: save the residuals")

    @staticmethod
    def backward(ctx, x_bar, L_bar):
        # TODO: one gradient per input of forward (None where
        # ctx.needs_input_grad is False).
        raise NotImplementedError("Ridge.backward: return (A_bar, b_bar, lam_bar)")

    @staticmethod
    def jvp(ctx, A_dot, b_dot, lam_dot):
        # TODO: one tangent per output of forward (x_dot, and None for L).
        # A tangent is None when its input has none.
        raise NotImplementedError("Ridge.jvp: return (x_dot, None)")


def torch_ridge(A, b, lam):
    # TODO: TypeError/ValueError naming the argument (A, b or lam) for: a non-tensor,
    # a non-float dtype, A not a matrix, b not of shape (m,), lam not a scalar.
    raise NotImplementedError("torch_ridge: validate, then return Ridge.apply(...)[0]")


# %% [markdown]
# ## 3. JAX
#
# `jnp.linalg.cholesky` and `jax.scipy.linalg.cho_solve((L, True), rhs)`.
# The grader runs the JAX checks in float64.

# %%
@jax.custom_jvp
def _ridge_jvp(A, b, lam):
    raise NotImplementedError("_ridge_jvp: the primal")


@_ridge_jvp.defjvp
def _ridge_jvp_rule(primals, tangents):
    # TODO: factorise once, return (x, x_dot).
    raise NotImplementedError("_ridge_jvp_rule: return (x, x_dot)")


def jax_ridge(A, b, lam):
    # TODO: jnp.asarray each argument, validate as in torch_ridge.
    raise NotImplementedError("jax_ridge: validate, then call _ridge_jvp")


@jax.custom_vjp
def _ridge_vjp(A, b, lam):
    raise NotImplementedError("_ridge_vjp: the primal")


def _ridge_fwd(A, b, lam):
    # TODO: return (x, residuals); the residuals include the Cholesky factor.
    raise NotImplementedError("_ridge_fwd: return (x, residuals)")


def _ridge_bwd(residuals, x_bar):
    # TODO: return (A_bar, b_bar, lam_bar).
    raise NotImplementedError("_ridge_bwd: return (A_bar, b_bar, lam_bar)")


_ridge_vjp.defvjp(_ridge_fwd, _ridge_bwd)


def jax_ridge_vjp(A, b, lam):
    raise NotImplementedError("jax_ridge_vjp: validate, then call _ridge_vjp")


# %% [markdown]
# ## 4. Try it, then benchmark
#
# Runs when this file is executed as a script or as a notebook (not when graded).

# %%
if __name__ == "__main__":
    A = torch.randn(50, 20, dtype=torch.float64, requires_grad=True)
    b = torch.randn(50, dtype=torch.float64)
    print(torch_ridge(A, b, torch.tensor(0.1, dtype=torch.float64)))
    # TODO: time forward + backward against autograd through torch.linalg.solve,
    # for n = 10, 100, 1000 (torch.utils.benchmark.Timer).
