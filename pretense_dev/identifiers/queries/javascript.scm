; Definitions in JavaScript (JSX included).  Capture the name node as @definition.<kind>.
; inherits: _ecma

; --- parameters (destructured props included) ---
(formal_parameters (identifier) @definition.parameter)
(formal_parameters (assignment_pattern left: (identifier) @definition.parameter))
(formal_parameters (rest_pattern (identifier) @definition.parameter))
(formal_parameters (object_pattern (shorthand_property_identifier_pattern) @definition.parameter))
(formal_parameters (object_pattern (object_assignment_pattern left: (shorthand_property_identifier_pattern) @definition.parameter)))
(formal_parameters (object_pattern (pair_pattern value: (identifier) @definition.parameter)))
(formal_parameters (object_pattern (pair_pattern value: (assignment_pattern left: (identifier) @definition.parameter))))
(formal_parameters (object_pattern (rest_pattern (identifier) @definition.parameter)))
(formal_parameters (array_pattern (identifier) @definition.parameter))

(class_declaration name: (identifier) @definition.class)
(class name: (identifier) @definition.class)
(field_definition property: [(property_identifier) (private_property_identifier)] @definition.field)

; --- destructuring anywhere else (declarations, loops, nested params): variables ---
(shorthand_property_identifier_pattern) @definition.variable
(pair_pattern value: (identifier) @definition.variable)
(array_pattern (identifier) @definition.variable)
(assignment_pattern left: (identifier) @definition.variable)
(rest_pattern (identifier) @definition.variable)
