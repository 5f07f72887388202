; Definitions in tsx: to be written (issue #3).
