; Definitions in rust: to be written (issue #3).
