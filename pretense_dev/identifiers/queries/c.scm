; Definitions in C (and, inherited by cpp.scm, the C part of C++).
; Capture the name node as @definition.<kind>.  A declarator nests the name in
; pointer, array and function declarators (`char **argv`, `int (*cb)(int)`):
; the patterns follow up to two levels, enough for real code.  A prototype
; defines its function's name like the definition does.

; --- macros ---
(preproc_def name: (identifier) @definition.constant)
(preproc_function_def name: (identifier) @definition.function)
(preproc_params (identifier) @definition.parameter)

; --- types: tagged structs, unions and enums with a body, typedefs, enum constants ---
(struct_specifier name: (type_identifier) @definition.class body: (_))
(union_specifier name: (type_identifier) @definition.class body: (_))
(enum_specifier name: (type_identifier) @definition.type body: (_))
(enumerator name: (identifier) @definition.member)
(type_definition declarator: (type_identifier) @definition.type)
(type_definition declarator: (_ declarator: (type_identifier) @definition.type))
(type_definition
  declarator: (function_declarator
    declarator: (parenthesized_declarator (pointer_declarator declarator: (type_identifier) @definition.type))))

; --- functions (definitions and prototypes) ---
(function_declarator declarator: (identifier) @definition.function)

; --- struct and union fields ---
(field_declaration declarator: (field_identifier) @definition.field)
(field_declaration declarator: (_ declarator: (field_identifier) @definition.field))
(field_declaration declarator: (_ declarator: (_ declarator: (field_identifier) @definition.field)))
(field_declaration
  declarator: (function_declarator
    declarator: (parenthesized_declarator (pointer_declarator declarator: (field_identifier) @definition.field))))

; --- variables (global and local): the name in any declarator position ---
(declaration declarator: (identifier) @definition.variable)
(init_declarator declarator: (identifier) @definition.variable)
(pointer_declarator declarator: (identifier) @definition.variable)
(array_declarator declarator: (identifier) @definition.variable)
(parenthesized_declarator (pointer_declarator declarator: (identifier) @definition.variable))

; --- parameters ---
(parameter_declaration declarator: (identifier) @definition.parameter)
(parameter_declaration declarator: (_ declarator: (identifier) @definition.parameter))
(parameter_declaration declarator: (_ declarator: (_ declarator: (identifier) @definition.parameter)))

; --- mis-parsed without an error (identifiers/recover.py reads the region): a
; function definition whose declarator is a bare name (`END_NAMESPACE_MACRO
; struct foo {…};` reads as a function `foo`), and a macro's body, which the
; grammar keeps as text (`#define PRIVATE_FIELDS typedef struct accept_s {…}`;
; as @macro_body its `type name;` declarations are fields too) ---
(function_definition declarator: (identifier)) @misparsed
(preproc_arg) @misparsed @macro_body
