# %% [markdown]
# Reference solution of the ridge project (kept out of the companion package).

# %%
import jax
import jax.numpy as jnp
import jax.scipy.linalg as jsl
import torch


def _check(name, A, b, lam):
    for arg, value in (("A", A), ("b", b), ("lam", lam)):
        if value.dtype not in (torch.float32, torch.float64, jnp.float32, jnp.float64):
            raise TypeError(f"{name}: {arg} must be float32 or float64; got dtype {value.dtype}")
    if A.ndim != 2:
        raise ValueError(f"{name}: A must be a matrix (m, n); got shape {tuple(A.shape)}")
    if tuple(b.shape) != (A.shape[0],):
        raise ValueError(f"{name}: b must have shape ({A.shape[0]},) to match A; got {tuple(b.shape)}")
    if lam.ndim != 0:
        raise ValueError(f"{name}: lam must be a scalar; got shape {tuple(lam.shape)}")


# %% PyTorch
class Ridge(torch.autograd.Function):
    generate_vmap_rule = True

    @staticmethod
    def forward(A, b, lam):
        n = A.shape[-1]
        M = A.mT @ A + lam * torch.eye(n, dtype=A.dtype)
        L = torch.linalg.cholesky(M)
        x = torch.cholesky_solve((A.mT @ b).unsqueeze(-1), L).squeeze(-1)
        return x, L

    @staticmethod
    def setup_context(ctx, inputs, output):
        A, b, lam = inputs
        x, L = output
        ctx.mark_non_differentiable(L)
        ctx.save_for_backward(A, b, x, L)
        ctx.save_for_forward(A, b, x, L)

    @staticmethod
    def backward(ctx, x_bar, _L_bar):
        A, b, x, L = ctx.saved_tensors
        g = torch.cholesky_solve(x_bar.unsqueeze(-1), L).squeeze(-1)
        A_bar = b_bar = lam_bar = None
        if ctx.needs_input_grad[0]:
            r = b - A @ x
            A_bar = torch.outer(r, g) - torch.outer(A @ g, x)
        if ctx.needs_input_grad[1]:
            b_bar = A @ g
        if ctx.needs_input_grad[2]:
            lam_bar = -(g @ x)
        return A_bar, b_bar, lam_bar

    @staticmethod
    def jvp(ctx, A_dot, b_dot, lam_dot):
        A, b, x, L = ctx.saved_tensors
        A_dot = torch.zeros_like(A) if A_dot is None else A_dot
        b_dot = torch.zeros_like(b) if b_dot is None else b_dot
        lam_dot = torch.zeros((), dtype=A.dtype) if lam_dot is None else lam_dot
        r = b - A @ x
        rhs = A_dot.mT @ r - A.mT @ (A_dot @ x) + A.mT @ b_dot - lam_dot * x
        return torch.cholesky_solve(rhs.unsqueeze(-1), L).squeeze(-1), None


def torch_ridge(A, b, lam):
    for arg, value in (("A", A), ("b", b), ("lam", lam)):
        if not isinstance(value, torch.Tensor):
            raise TypeError(f"torch_ridge: {arg} must be a torch.Tensor; got {type(value).__name__}")
    _check("torch_ridge", A, b, lam)
    x, _ = Ridge.apply(A, b, lam)
    return x


# %% JAX
def _factor(A, lam):
    n = A.shape[-1]
    return jnp.linalg.cholesky(A.T @ A + lam * jnp.eye(n, dtype=A.dtype))


@jax.custom_jvp
def _ridge_jvp(A, b, lam):
    return jsl.cho_solve((_factor(A, lam), True), A.T @ b)


@_ridge_jvp.defjvp
def _ridge_jvp_rule(primals, tangents):
    (A, b, lam), (A_dot, b_dot, lam_dot) = primals, tangents
    L = _factor(A, lam)
    x = jsl.cho_solve((L, True), A.T @ b)
    r = b - A @ x
    rhs = A_dot.T @ r - A.T @ (A_dot @ x) + A.T @ b_dot - lam_dot * x
    return x, jsl.cho_solve((L, True), rhs)


def jax_ridge(A, b, lam):
    A, b, lam = jnp.asarray(A), jnp.asarray(b), jnp.asarray(lam)
    _check("jax_ridge", A, b, lam)
    return _ridge_jvp(A, b, lam)


@jax.custom_vjp
def _ridge_vjp(A, b, lam):
    return jsl.cho_solve((_factor(A, lam), True), A.T @ b)


def _ridge_fwd(A, b, lam):
    L = _factor(A, lam)
    x = jsl.cho_solve((L, True), A.T @ b)
    return x, (A, b, x, L)


def _ridge_bwd(res, x_bar):
    A, b, x, L = res
    g = jsl.cho_solve((L, True), x_bar)
    r = b - A @ x
    return jnp.outer(r, g) - jnp.outer(A @ g, x), A @ g, -(g @ x)


_ridge_vjp.defvjp(_ridge_fwd, _ridge_bwd)


def jax_ridge_vjp(A, b, lam):
    A, b, lam = jnp.asarray(A), jnp.asarray(b), jnp.asarray(lam)
    _check("jax_ridge_vjp", A, b, lam)
    return _ridge_vjp(A, b, lam)
