; Definitions in Java.  Capture the name node as @definition.<kind>.

; --- overrides of an API we do not own: `@Override` methods ---
(method_declaration
  (modifiers [(marker_annotation name: (identifier) @_ann) (annotation name: (identifier) @_ann)])
  name: (identifier) @override
  (#eq? @_ann "Override"))

; --- packages: every part of `package com.acme.billing;` (a dotted capture
; defines each part, see extract.py) ---
(package_declaration [(identifier) (scoped_identifier)] @definition.module)

; --- types ---
(class_declaration name: (identifier) @definition.class)
(interface_declaration name: (identifier) @definition.type)
(enum_declaration name: (identifier) @definition.type)
(record_declaration name: (identifier) @definition.class)
(annotation_type_declaration name: (identifier) @definition.type)
(type_parameter (type_identifier) @definition.type)
(enum_constant name: (identifier) @definition.member)

; --- methods (constructors share their class's name) ---
(method_declaration name: (identifier) @definition.method)
(annotation_type_element_declaration name: (identifier) @definition.method)

; --- fields, constants, record components ---
(field_declaration declarator: (variable_declarator name: (identifier) @definition.field))
(constant_declaration declarator: (variable_declarator name: (identifier) @definition.constant))
(record_declaration parameters: (formal_parameters (formal_parameter name: (identifier) @definition.field)))

; --- locals ---
(local_variable_declaration declarator: (variable_declarator name: (identifier) @definition.variable))
(enhanced_for_statement name: (identifier) @definition.variable)
(resource name: (identifier) @definition.variable)
(catch_formal_parameter name: (identifier) @definition.variable)
(instanceof_expression name: (identifier) @definition.variable)
(record_pattern_component (identifier) @definition.variable)

; --- parameters (lambdas too) ---
(formal_parameter name: (identifier) @definition.parameter)
(spread_parameter (variable_declarator name: (identifier) @definition.parameter))
(inferred_parameters (identifier) @definition.parameter)
(lambda_expression parameters: (identifier) @definition.parameter)
