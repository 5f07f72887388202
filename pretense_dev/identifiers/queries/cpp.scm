; Definitions in C++: everything C defines, plus what C++ adds.
; A method defined outside its class (`int Ledger::post() {}`) is not captured:
; its class declares it, and an `override` there must stay left out.
; inherits: c

; --- overrides of an API we do not own: `void f() override` ---
(function_declarator
  declarator: (field_identifier) @override
  (virtual_specifier) @_v
  (#eq? @_v "override"))

; --- namespaces (`namespace a::b` defines both) ---
(namespace_definition name: [(namespace_identifier) (nested_namespace_specifier)] @definition.module)
(namespace_alias_definition name: (namespace_identifier) @definition.module)

; --- types: classes, aliases, template parameters, concepts ---
(class_specifier name: (type_identifier) @definition.class body: (_))
(alias_declaration name: (type_identifier) @definition.type)
(type_parameter_declaration (type_identifier) @definition.type)
(optional_type_parameter_declaration name: (type_identifier) @definition.type)
(variadic_type_parameter_declaration (type_identifier) @definition.type)
(concept_definition name: (identifier) @definition.type)

; --- `API_MACRO Type name(…)`: the grammar reads `Type name` as `Type::name` with
; a missing `::` (a real `Ledger::post` has its `::` and stays out) ---
(function_declarator
  declarator: (qualified_identifier (MISSING "::") name: (identifier) @definition.function))
(function_declarator
  declarator: (qualified_identifier
    name: (qualified_identifier (MISSING "::") name: (identifier) @definition.function)))

; --- methods declared or defined in a class body ---
(function_declarator declarator: (field_identifier) @definition.method)

; --- references (`T& name`), range-for, structured bindings, default arguments ---
(reference_declarator (identifier) @definition.variable)
(field_declaration declarator: (reference_declarator (field_identifier) @definition.field))
(parameter_declaration declarator: (reference_declarator (identifier) @definition.parameter))
(optional_parameter_declaration declarator: (identifier) @definition.parameter)
(optional_parameter_declaration declarator: (_ (identifier) @definition.parameter))
(variadic_parameter_declaration declarator: (_ (identifier) @definition.parameter))
(for_range_loop declarator: (identifier) @definition.variable)
(structured_binding_declarator (identifier) @definition.variable)
