"""Root finding: ``root``, x with F(x, θ) = 0, differentiated by the implicit function theorem."""
