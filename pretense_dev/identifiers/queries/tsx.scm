; Definitions in TSX: TypeScript (JSX adds no definitions of its own).
; inherits: typescript
