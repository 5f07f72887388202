; Definitions in Kotlin (tree-sitter-kotlin 1.x: names are `identifier` nodes, few fields).
; Capture the name node as @definition.<kind>.

; --- overrides of an API we do not own: `override fun`, `override val`, and an
; `override val` constructor property ---
(function_declaration
  (modifiers (member_modifier) @_m)
  name: (identifier) @override
  (#eq? @_m "override"))
(property_declaration
  (modifiers (member_modifier) @_m)
  (variable_declaration (identifier) @override)
  (#eq? @_m "override"))
(class_parameter
  (modifiers (member_modifier) @_m)
  (identifier) @override
  (#eq? @_m "override"))

; --- packages: every part of `package com.acme.billing`; `import a.B as Alias` ---
(package_header (qualified_identifier) @definition.module)
(import (qualified_identifier) (identifier) @definition.name)

; --- types: classes, interfaces, objects, enums and entries, aliases, type parameters ---
(class_declaration "class" name: (identifier) @definition.class)
(class_declaration "interface" name: (identifier) @definition.type)
(object_declaration name: (identifier) @definition.class)
(companion_object (identifier) @definition.class)
(type_alias type: (identifier) @definition.type)
(type_parameter (identifier) @definition.type)
(enum_entry (identifier) @definition.member)

; --- functions (top level, local) and methods (in a class, object or interface body) ---
(function_declaration name: (identifier) @definition.function)
(class_body (function_declaration name: (identifier) @definition.method))

; --- properties: `val`/`var` constructor parameters and class-body properties ---
(class_parameter ["val" "var"] (identifier) @definition.field . ":")
(class_body (property_declaration (variable_declaration (identifier) @definition.field)))

; --- variables: `val`/`var` (top level and local, destructuring), `for`, `catch`, `when` ---
(property_declaration (variable_declaration (identifier) @definition.variable))
(property_declaration (multi_variable_declaration (variable_declaration (identifier) @definition.variable)))
(for_statement (variable_declaration (identifier) @definition.variable))
(for_statement (multi_variable_declaration (variable_declaration (identifier) @definition.variable)))
(catch_block (identifier) @definition.variable)
(when_subject (variable_declaration (identifier) @definition.variable))

; --- parameters: functions, constructors, lambdas, setters ---
(parameter (identifier) @definition.parameter)
(class_parameter (identifier) @definition.parameter . ":")
(lambda_parameters (variable_declaration (identifier) @definition.parameter))
(lambda_parameters (multi_variable_declaration (variable_declaration (identifier) @definition.parameter)))
(setter (identifier) @definition.parameter)

; --- mis-parsed without an error (identifiers/recover.py reads the region):
; tree-sitter-kotlin 1.1 reads a hard keyword as an identifier after some
; annotations (`@TargetClass(X::class) @Delete class Foo` becomes the expression
; `class Foo`, `@Api const val X = 1` an assignment) ---
(infix_expression (identifier) @_k
  (#any-of? @_k "class" "interface" "object" "fun" "val" "var" "typealias")) @misparsed
(binary_expression (identifier) @_k
  (#any-of? @_k "class" "interface" "object" "fun" "val" "var" "typealias")) @misparsed
