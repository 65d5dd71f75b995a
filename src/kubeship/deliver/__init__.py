"""Progressive delivery: Argo Rollouts' analysis semantics and a rehearsal of a release before it happens."""
