; Definitions in csharp: to be written (issue #3).
