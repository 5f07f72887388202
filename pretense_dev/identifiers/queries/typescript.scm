; Definitions in TypeScript.  Capture the name node as @definition.<kind>.
; inherits: _ecma

; --- overrides of an API we do not own: `override run()` ---
(method_definition (override_modifier) name: (property_identifier) @override)
(public_field_definition (override_modifier) name: (property_identifier) @override)

; --- classes, interfaces, types, enums ---
(class_declaration name: (type_identifier) @definition.class)
(abstract_class_declaration name: (type_identifier) @definition.class)
(class name: (type_identifier) @definition.class)
(interface_declaration name: (type_identifier) @definition.type)
(type_alias_declaration name: (type_identifier) @definition.type)
(enum_declaration name: (identifier) @definition.type)
(type_parameter name: (type_identifier) @definition.type)
(enum_body name: (property_identifier) @definition.member)
(enum_assignment name: (property_identifier) @definition.member)

; --- namespaces and modules: `namespace Billing.Core {}` ---
(internal_module name: [(identifier) (nested_identifier)] @definition.module)
(module name: [(identifier) (nested_identifier)] @definition.module)

; --- members of classes and object types ---
(function_signature name: (identifier) @definition.function)
(method_signature name: [(property_identifier) (private_property_identifier)] @definition.method)
(abstract_method_signature name: [(property_identifier) (private_property_identifier)] @definition.method)
(public_field_definition name: [(property_identifier) (private_property_identifier)] @definition.field)
(property_signature name: [(property_identifier) (private_property_identifier)] @definition.field)
; constructor(private readonly gateway: Gateway): a parameter that is also a field
(required_parameter (accessibility_modifier) pattern: (identifier) @definition.field)
(required_parameter "readonly" pattern: (identifier) @definition.field)

; --- parameters (function types and signatures too) ---
(index_signature name: (identifier) @definition.parameter)
(required_parameter pattern: (identifier) @definition.parameter)
(optional_parameter pattern: (identifier) @definition.parameter)
(required_parameter pattern: (rest_pattern (identifier) @definition.parameter))
(required_parameter pattern: (object_pattern (shorthand_property_identifier_pattern) @definition.parameter))
(required_parameter pattern: (object_pattern (object_assignment_pattern left: (shorthand_property_identifier_pattern) @definition.parameter)))
(required_parameter pattern: (object_pattern (pair_pattern value: (identifier) @definition.parameter)))
(required_parameter pattern: (object_pattern (pair_pattern value: (assignment_pattern left: (identifier) @definition.parameter))))
(required_parameter pattern: (object_pattern (rest_pattern (identifier) @definition.parameter)))
(required_parameter pattern: (array_pattern (identifier) @definition.parameter))
(optional_parameter pattern: (object_pattern (shorthand_property_identifier_pattern) @definition.parameter))

; --- destructuring anywhere else (declarations, loops, nested params): variables ---
(shorthand_property_identifier_pattern) @definition.variable
(pair_pattern value: (identifier) @definition.variable)
(array_pattern (identifier) @definition.variable)
(assignment_pattern left: (identifier) @definition.variable)
(rest_pattern (identifier) @definition.variable)
