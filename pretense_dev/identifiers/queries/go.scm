; Definitions in go: to be written (issue #3).
