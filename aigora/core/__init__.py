"""Protocol primitives every component shares: hashing, canonical encoding, Merkle, EIP-712, keys.

`core` imports nothing else of ours, so every other package may depend on it.
"""
