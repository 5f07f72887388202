; Definitions in Python.  Capture the name node as @definition.<kind>.
(function_definition name: (identifier) @definition.function)
(class_definition name: (identifier) @definition.class)
(class_definition body: (block (function_definition name: (identifier) @definition.method)))
(class_definition body: (block (decorated_definition definition: (function_definition name: (identifier) @definition.method))))

; Fields: class-body assignments (incl. annotated `x: int`) and self.x = ...
(class_definition body: (block (expression_statement (assignment left: (identifier) @definition.field))))
(assignment left: (attribute object: (identifier) @_self attribute: (identifier) @definition.field) (#eq? @_self "self"))
(assignment left: (attribute object: (identifier) @_cls attribute: (identifier) @definition.field) (#eq? @_cls "cls"))

; Variables: module level and local, incl. unpacking, loops, with/except targets, walrus.
(assignment left: (identifier) @definition.variable)
(assignment left: (pattern_list (identifier) @definition.variable))
(assignment left: (tuple_pattern (identifier) @definition.variable))
(assignment left: (list_pattern (identifier) @definition.variable))
(for_statement left: (identifier) @definition.variable)
(for_statement left: (pattern_list (identifier) @definition.variable))
(for_statement left: (tuple_pattern (identifier) @definition.variable))
(for_in_clause left: (identifier) @definition.variable)
(for_in_clause left: (pattern_list (identifier) @definition.variable))
(as_pattern alias: (as_pattern_target (identifier) @definition.variable))
(named_expression name: (identifier) @definition.variable)

; Parameters, of functions and lambdas.
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

; Type aliases (3.12 `type X = ...`).
(type_alias_statement (type (identifier) @definition.type))
