"""The coordination core of STUI Cluster: settings, session model, the Redis store and its
key layout, validation, authentication (tokens), expiry and the node registry.

Nodes (`nodes/`) hold WebSocket connections and nothing else; everything a session is lives in
Redis behind :class:`cluster.store.SessionStore`, so any node can continue any session. The
operator's tools (``stui-cluster``, the launcher, the demo, chaos, fuzz) are in
:mod:`cluster.ops`; the core imports neither them, nor ``nodes``, nor ``client``.
"""
