"""Reinforcement learning on gymnasium environments; the public functions are re-exported by
`selfsup.reinforcement`."""
