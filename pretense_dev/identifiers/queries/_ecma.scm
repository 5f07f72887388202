; Definitions shared by JavaScript, TypeScript and TSX (spliced in by `; inherits: _ecma`).
; Only node types that exist in all three grammars.  Where a specific and a
; catch-all pattern capture one node, the specific kind wins (extract.SAME_NODE).

; --- names bound to a dependency: `const { Router } = require("express")` ---
(variable_declarator
  name: (identifier) @external
  value: (call_expression
    function: (identifier) @_req
    arguments: (arguments . (string (string_fragment) @_mod)))
  (#eq? @_req "require")
  (#not-match? @_mod "^[.]"))
(variable_declarator
  name: (object_pattern [
    (shorthand_property_identifier_pattern) @external
    (pair_pattern value: (identifier) @external)])
  value: (call_expression
    function: (identifier) @_req
    arguments: (arguments . (string (string_fragment) @_mod)))
  (#eq? @_req "require")
  (#not-match? @_mod "^[.]"))

; --- functions ---
(function_declaration name: (identifier) @definition.function)
(generator_function_declaration name: (identifier) @definition.function)
(function_expression name: (identifier) @definition.function)
(generator_function name: (identifier) @definition.function)
(variable_declarator
  name: (identifier) @definition.function
  value: [(arrow_function) (function_expression) (generator_function)])
(assignment_expression
  left: (identifier) @definition.function
  right: [(arrow_function) (function_expression) (generator_function)])

; --- methods: class and object-literal methods, `x.y = function`, prototypes ---
(method_definition name: [(property_identifier) (private_property_identifier)] @definition.method)
(pair
  key: (property_identifier) @definition.method
  value: [(arrow_function) (function_expression) (generator_function)])
(assignment_expression
  left: (member_expression property: (property_identifier) @definition.method)
  right: [(arrow_function) (function_expression) (generator_function)])
(assignment_expression
  left: (member_expression
    object: (member_expression property: (property_identifier) @_proto)
    property: (property_identifier) @definition.method)
  (#eq? @_proto "prototype"))

; --- fields: `this.x = …`, object-literal keys, CommonJS exports ---
(assignment_expression
  left: (member_expression object: (this) property: [(property_identifier) (private_property_identifier)] @definition.field))
(assignment_expression
  left: (member_expression object: (identifier) @_exports property: (property_identifier) @definition.variable)
  (#eq? @_exports "exports"))
(assignment_expression
  left: (member_expression
    object: (member_expression object: (identifier) @_module property: (property_identifier) @_exports)
    property: (property_identifier) @definition.variable)
  (#eq? @_module "module")
  (#eq? @_exports "exports"))
(pair key: (property_identifier) @definition.field)

; --- imports and exports under a name of our choosing ---
(import_specifier alias: (identifier) @definition.variable)
(export_specifier alias: (identifier) @definition.variable)

; --- variables (module level and local) ---
(variable_declarator name: (identifier) @definition.variable)
(for_in_statement left: (identifier) @definition.variable)
(catch_clause parameter: (identifier) @definition.variable)

; --- parameters: an arrow function's lone parameter (the rest differ by grammar) ---
(arrow_function parameter: (identifier) @definition.parameter)
