; Definitions in java: to be written (issue #3).
