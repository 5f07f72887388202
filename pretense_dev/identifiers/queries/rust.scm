; Definitions in Rust.  Capture the name node as @definition.<kind>.

; --- overrides: items of `impl SomeTrait for T` implement the trait's names.
; A trait this repository defines names its methods itself (trait_item below),
; so only external traits' names (fmt, from, next, deserialize…) stay out. ---
(impl_item trait: (_) body: (declaration_list (function_item name: (identifier) @override)))
(impl_item trait: (_) body: (declaration_list (type_item name: (type_identifier) @override)))
(impl_item trait: (_) body: (declaration_list (const_item name: (identifier) @override)))

; --- modules (the crate's own name comes from Cargo.toml, see extract.py) ---
(mod_item name: (identifier) @definition.module)

; --- types ---
(struct_item name: (type_identifier) @definition.class)
(union_item name: (type_identifier) @definition.class)
(enum_item name: (type_identifier) @definition.type)
(trait_item name: (type_identifier) @definition.type)
(type_item name: (type_identifier) @definition.type)
(associated_type name: (type_identifier) @definition.type)
(type_parameter name: (type_identifier) @definition.type)
(const_parameter name: (identifier) @definition.constant)
(enum_variant name: (identifier) @definition.member)

; --- methods (in impl and trait blocks), functions, macros ---
(impl_item body: (declaration_list (function_item name: (identifier) @definition.method)))
(trait_item body: (declaration_list (function_item name: (identifier) @definition.method)))
(trait_item body: (declaration_list (function_signature_item name: (identifier) @definition.method)))
(function_item name: (identifier) @definition.function)
(function_signature_item name: (identifier) @definition.function)
(macro_definition name: (identifier) @definition.function)

; --- fields, constants, statics ---
(field_declaration name: (field_identifier) @definition.field)
(const_item name: (identifier) @definition.constant)
(static_item name: (identifier) @definition.constant)

; --- parameters (closures too) ---
(parameter pattern: (identifier) @definition.parameter)
(parameter pattern: (mut_pattern (identifier) @definition.parameter))
(parameter pattern: (ref_pattern (identifier) @definition.parameter))
(closure_parameters (identifier) @definition.parameter)
(closure_parameters (mut_pattern (identifier) @definition.parameter))

; --- locals: let, for, if let / while let, match arms, and destructuring ---
(let_declaration pattern: (identifier) @definition.variable)
(for_expression pattern: (identifier) @definition.variable)
(let_condition pattern: (identifier) @definition.variable)
(match_pattern (identifier) @definition.variable)
(mut_pattern (identifier) @definition.variable)
(ref_pattern (identifier) @definition.variable)
(tuple_pattern (identifier) @definition.variable)
(slice_pattern (identifier) @definition.variable)
(or_pattern (identifier) @definition.variable)
(captured_pattern . (identifier) @definition.variable)
(tuple_struct_pattern type: (_) (identifier) @definition.variable)
(field_pattern pattern: (identifier) @definition.variable)
(field_pattern name: (shorthand_field_identifier) @definition.variable)

; --- inside macro invocations (a token tree, not a syntax tree): test macros such as
; `rgtest!(name, |dir, cmd| { let expected = …; })` wrap whole bodies, so a
; keyword followed by a name is taken as a declaration ---
(token_tree "let" . (identifier) @definition.variable)
(token_tree "let" . (mutable_specifier) . (identifier) @definition.variable)
(token_tree ["const" "static"] . (identifier) @definition.constant)
(token_tree "fn" . (identifier) @definition.function)
(token_tree ["struct" "enum" "trait" "type" "union"] . (identifier) @definition.type)
(token_tree "mod" . (identifier) @definition.module)
