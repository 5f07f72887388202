; Definitions in Python.  Capture the name node as @definition.<kind>.
; Dunder names (__init__, __eq__…) are kept out by the stop lists.

; --- overrides of an API we do not own: typing.override (3.12) ---
(decorated_definition
  (decorator [(identifier) (attribute attribute: (identifier))] @_dec)
  definition: (function_definition name: (identifier) @override)
  (#match? @_dec "(^|[.])override$"))

; --- classes, methods, functions ---
(class_definition name: (identifier) @definition.class)
(function_definition name: (identifier) @definition.function)

; --- class bodies: their methods (`def` and decorated `def` directly in the body), fields
; (body assignments, incl. annotated `x: int`) and enum members (the same in a class whose
; base ends in Enum/Flag) are read from @_class_body / @_enum_body by extract.py.  A pattern
; reaching into the body kept a query state alive over every node of the class: the four
; such patterns cost a fifth of the query on the standard library.
(class_definition body: (block) @_class_body)
(class_definition
  superclasses: (argument_list [(identifier) (attribute attribute: (identifier))] @_base)
  body: (block) @_enum_body
  (#match? @_base "(Enum|Flag)$"))

; --- fields: self.x / cls.x = ... ---
(assignment left: (attribute object: (identifier) @_self attribute: (identifier) @definition.field) (#any-of? @_self "self" "cls"))
(augmented_assignment left: (attribute object: (identifier) @_self attribute: (identifier) @definition.field) (#any-of? @_self "self" "cls"))
(pattern_list (attribute object: (identifier) @_self attribute: (identifier) @definition.field) (#any-of? @_self "self" "cls"))
(tuple_pattern (attribute object: (identifier) @_self attribute: (identifier) @definition.field) (#any-of? @_self "self" "cls"))
(as_pattern_target (tuple (attribute object: (identifier) @_self attribute: (identifier) @definition.field)) (#any-of? @_self "self" "cls"))

; --- parameters, of functions and lambdas ---
(parameters (identifier) @definition.parameter)
(parameters (default_parameter name: (identifier) @definition.parameter))
(parameters (typed_parameter (identifier) @definition.parameter))
(parameters (typed_default_parameter name: (identifier) @definition.parameter))
(parameters (list_splat_pattern (identifier) @definition.parameter))
(parameters (dictionary_splat_pattern (identifier) @definition.parameter))
(parameters (typed_parameter (list_splat_pattern (identifier) @definition.parameter)))
(parameters (typed_parameter (dictionary_splat_pattern (identifier) @definition.parameter)))
(lambda_parameters (identifier) @definition.parameter)
(lambda_parameters (default_parameter name: (identifier) @definition.parameter))
(lambda_parameters (list_splat_pattern (identifier) @definition.parameter))
(lambda_parameters (dictionary_splat_pattern (identifier) @definition.parameter))

; --- variables: module level and local, incl. unpacking, loops, with/except, walrus, match ---
(assignment left: (identifier) @definition.variable)
(augmented_assignment left: (identifier) @definition.variable)
(pattern_list (identifier) @definition.variable)
(tuple_pattern (identifier) @definition.variable)
(list_pattern (identifier) @definition.variable)
(list_splat_pattern (identifier) @definition.variable)
(for_statement left: (identifier) @definition.variable)
(for_in_clause left: (identifier) @definition.variable)
(as_pattern alias: (as_pattern_target (identifier) @definition.variable))
(as_pattern alias: (as_pattern_target [(tuple (identifier) @definition.variable) (list (identifier) @definition.variable)]))
(named_expression name: (identifier) @definition.variable)
(aliased_import alias: (identifier) @definition.variable)
(case_pattern (dotted_name . (identifier) @definition.variable .))
(keyword_pattern (dotted_name . (identifier) @definition.variable .))
(splat_pattern (identifier) @definition.variable)
(as_pattern (case_pattern) . (identifier) @definition.variable)

; --- types: PEP 695 aliases and type parameters ---
(type_alias_statement left: (type (identifier) @definition.type))
(function_definition type_parameters: (type_parameter (type (identifier) @definition.type)))
(class_definition type_parameters: (type_parameter (type (identifier) @definition.type)))
