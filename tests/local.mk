# tests: shared shell helpers; each module's fragment lists its own tests.
