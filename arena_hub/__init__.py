"""ARENA Hub: the tooling around an nbgrader course of the ARENA curriculum on JupyterHub.

Modules are named for the domain's nouns:

- ``course``   -- the course layout, assignment ids and metadata (assignment.toml), FAST/FULL
- ``exchange`` -- where students' identity comes from, the exchange directory
- ``cohort``   -- the people on the hub: demo cohort, passwords, the authenticator
- ``release``  -- building ``release/`` from ``source/`` and checking it leaks nothing
- ``checks``   -- assertion helpers that notebooks' test cells call (student-visible)
- ``hub``      -- settings and launch of the embedded hub
"""

__version__ = "0.1.0"
