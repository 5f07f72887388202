; Definitions in javascript: to be written (issue #3).
