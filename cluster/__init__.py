"""The coordination core of STUI Cluster: settings, session model, the Redis store and its
key layout, validation, authentication, expiry and the local cluster launcher.

Nodes (`nodes/`) hold WebSocket connections and nothing else; everything a session is lives in
Redis behind :class:`cluster.store.SessionStore`, so any node can continue any session.
"""
