"""The grading engine: one job per submission, run in isolation by a backend.

``job``      -- what one grading run is (shared by every backend)
``gradebook``-- the per-assignment template gradebook a run starts from, and importing results
``runner``   -- what runs inside the sandbox (nbgrader's Autograde, unchanged)
``kernel``   -- launches the student's kernel under its own uid
``sandbox``  -- Linux confinement primitives
``local``    -- the local backend (worker processes on this host)
``engine``   -- queue, state, progress: what `arena-hub grade` drives
"""
