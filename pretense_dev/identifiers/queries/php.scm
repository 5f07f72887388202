; Definitions in PHP.  Capture the name node as @definition.<kind>.
; A variable's token is the name after `$` (`$invoiceTotal` gives invoiceTotal);
; magic methods (`__construct`, `__get`, `__toString`…) and the methods of the
; built-in interfaces (`count`, `offsetGet`, `jsonSerialize`…) are kept out by
; data/php/overrides.txt.

; --- overrides of an API we do not own: `#[\Override]` (PHP 8.3) ---
(method_declaration
  attributes: (attribute_list (attribute_group (attribute [(name) @_ann (qualified_name (name) @_ann)])))
  name: (name) @override
  (#eq? @_ann "Override"))

; --- namespaces: every part of `namespace Acme\Billing;` ---
(namespace_definition name: (namespace_name (name) @definition.module))

; --- `use A\B as Alias`: the alias is ours, the imported name is not ---
(namespace_use_clause alias: (name) @definition.name)

; --- types ---
(class_declaration name: (name) @definition.class)
(interface_declaration name: (name) @definition.type)
(trait_declaration name: (name) @definition.type)
(enum_declaration name: (name) @definition.type)
(enum_case name: (name) @definition.member)

; --- functions and methods ---
(function_definition name: (name) @definition.function)
(method_declaration name: (name) @definition.method)

; --- constants: `const X = 1;` (top level and in classes), `define('X', 1)` ---
(const_element (name) @definition.constant)
(function_call_expression
  function: (name) @_define
  arguments: (arguments . (argument (string (string_content) @definition.constant)))
  (#eq? @_define "define"))

; --- properties: declared, constructor-promoted, `$this->x = …` ---
(property_element name: (variable_name (name) @definition.field))
(property_promotion_parameter name: (variable_name (name) @definition.field))
(assignment_expression
  left: (member_access_expression
    object: (variable_name (name) @_this)
    name: (name) @definition.field)
  (#eq? @_this "this"))

; --- variables: assignments, list destructuring, foreach, catch, static ---
(assignment_expression left: (variable_name (name) @definition.variable))
(reference_assignment_expression left: (variable_name (name) @definition.variable))
(augmented_assignment_expression left: (variable_name (name) @definition.variable))
(list_literal (variable_name (name) @definition.variable))
(list_literal (pair (variable_name (name) @definition.variable)))
(list_literal (by_ref (variable_name (name) @definition.variable)))
(foreach_statement (pair (variable_name (name) @definition.variable)))
(foreach_statement (pair (by_ref (variable_name (name) @definition.variable))))
(foreach_statement . (_) (variable_name (name) @definition.variable))
(foreach_statement . (_) (by_ref (variable_name (name) @definition.variable)))
(catch_clause name: (variable_name (name) @definition.variable))
(static_variable_declaration name: (variable_name (name) @definition.variable))

; --- parameters (functions, methods, closures, arrow functions) ---
(simple_parameter name: (variable_name (name) @definition.parameter))
(variadic_parameter name: (variable_name (name) @definition.parameter))
