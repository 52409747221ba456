"""The operator's tools, kept apart from the core of :mod:`cluster`.

``stui-cluster`` (:mod:`cluster.ops.cli`), the local launcher and its embedded Redis, backup
and restore, the demo, the chaos run and the fuzzer. They may import the client library and
the node's evaluator; the core (model, store, keys, expiry, registry, validation, settings,
auth, tokens, errors, integrity, logs) imports neither, and nodes import none of this
(``tests/test_dependencies.py`` checks both directions).
"""
