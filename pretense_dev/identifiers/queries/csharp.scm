; Definitions in C#.  Capture the name node as @definition.<kind>.

; --- overrides of an API we do not own: `override` members ---
(method_declaration (modifier) @_mod name: (identifier) @override (#eq? @_mod "override"))
(property_declaration (modifier) @_mod name: (identifier) @override (#eq? @_mod "override"))
(event_declaration (modifier) @_mod name: (identifier) @override (#eq? @_mod "override"))

; --- namespaces: every part of `namespace Acme.Billing.Tax` (a dotted capture
; defines each part, see extract.py) ---
(namespace_declaration name: [(identifier) (qualified_name)] @definition.module)
(file_scoped_namespace_declaration name: [(identifier) (qualified_name)] @definition.module)

; --- types ---
(class_declaration name: (identifier) @definition.class)
(struct_declaration name: (identifier) @definition.class)
(record_declaration name: (identifier) @definition.class)
(interface_declaration name: (identifier) @definition.type)
(enum_declaration name: (identifier) @definition.type)
(delegate_declaration name: (identifier) @definition.type)
(type_parameter name: (identifier) @definition.type)
(enum_member_declaration name: (identifier) @definition.member)

; --- methods, local functions ---
(method_declaration name: (identifier) @definition.method)
(local_function_statement name: (identifier) @definition.function)

; --- fields, properties, events, record parameters ---
(field_declaration
  (modifier) @_mod
  (variable_declaration (variable_declarator name: (identifier) @definition.constant))
  (#eq? @_mod "const"))
(field_declaration (variable_declaration (variable_declarator name: (identifier) @definition.field)))
(event_field_declaration (variable_declaration (variable_declarator name: (identifier) @definition.field)))
(property_declaration name: (identifier) @definition.field)
(event_declaration name: (identifier) @definition.field)
(record_declaration (parameter_list (parameter name: (identifier) @definition.field)))

; --- locals ---
(local_declaration_statement
  (modifier) @_mod
  (variable_declaration (variable_declarator name: (identifier) @definition.constant))
  (#eq? @_mod "const"))
(variable_declarator name: (identifier) @definition.variable)
(variable_declarator (tuple_pattern name: (identifier) @definition.variable))
(foreach_statement left: (identifier) @definition.variable)
(foreach_statement left: (tuple_pattern name: (identifier) @definition.variable))
(catch_declaration name: (identifier) @definition.variable)
(declaration_expression name: (identifier) @definition.variable)
(declaration_pattern name: (identifier) @definition.variable)
(recursive_pattern name: (identifier) @definition.variable)
(from_clause name: (identifier) @definition.variable)
(let_clause . (identifier) @definition.variable)

; --- parameters (lambdas, indexers, operators too) ---
(parameter name: (identifier) @definition.parameter)
(parameter_list name: (identifier) @definition.parameter)
(lambda_expression parameters: (implicit_parameter) @definition.parameter)
