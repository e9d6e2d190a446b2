"""Matrix-free linear solves: ``cg_solve``, conjugate gradients whose derivatives are CG solves."""
