; Definitions in Go.  Capture the name node as @definition.<kind>.
; Go has no override syntax: methods that satisfy a standard interface
; (String, Error, ServeHTTP, MarshalJSON…) are kept out by data/go/overrides.txt.

(package_clause (package_identifier) @definition.module)

; --- functions and methods (interface methods too) ---
(function_declaration name: (identifier) @definition.function)
(method_declaration name: (field_identifier) @definition.method)
(method_elem name: (field_identifier) @definition.method)

; --- types: structs, interfaces, named types, aliases, type parameters ---
(type_spec name: (type_identifier) @definition.type)
(type_alias name: (type_identifier) @definition.type)
(type_parameter_declaration name: (identifier) @definition.type)

; --- struct fields ---
(field_declaration name: (field_identifier) @definition.field)

; --- constants and variables (package level and local) ---
(const_spec name: (identifier) @definition.constant)
(var_spec name: (identifier) @definition.variable)
(short_var_declaration left: (expression_list (identifier) @definition.variable))
(range_clause left: (expression_list (identifier) @definition.variable))
(receive_statement left: (expression_list (identifier) @definition.variable))
(type_switch_statement alias: (expression_list (identifier) @definition.variable))

; --- parameters, receivers and named results ---
(parameter_declaration name: (identifier) @definition.parameter)
(variadic_parameter_declaration name: (identifier) @definition.parameter)
