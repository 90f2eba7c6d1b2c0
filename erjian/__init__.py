"""erjian: the static-site generator, one subpackage per stage of the build.

core (shared basics) ← input ← dates ← site ← output ← preview / editor / devtools; each
stage imports only from itself and the stages before it (tests/test_layers.py).
docs/architecture.md lists every module.
"""
