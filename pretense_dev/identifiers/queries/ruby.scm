; Definitions in ruby: to be written (issue #3).
