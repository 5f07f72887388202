; Definitions in typescript: to be written (issue #3).
