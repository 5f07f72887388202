; Definitions in Ruby.  Capture the name node as @definition.<kind>.
; Ruby has no override syntax: `initialize`, `to_s`, `each`, `call`… are kept
; out by data/ruby/overrides.txt.  Sigils and suffixes (@x, $x, :x, x?, x!, x=)
; are stripped by extract.py: the token is the bare name.

; --- modules and classes (`module Acme::Billing` defines both parts) ---
(module name: [(constant) (scope_resolution)] @definition.module)
(class name: [(constant) (scope_resolution)] @definition.class)

; --- methods (`def x=`, `def self.x`, aliases, attr_* and define_method) ---
(method name: [(identifier) (constant)] @definition.method)
(method name: (setter name: (identifier) @definition.method))
(singleton_method name: [(identifier) (constant)] @definition.method)
(singleton_method name: (setter name: (identifier) @definition.method))
(alias name: (identifier) @definition.method)
(call
  method: (identifier) @_attr
  arguments: (argument_list (simple_symbol) @definition.field)
  (#any-of? @_attr "attr_reader" "attr_writer" "attr_accessor" "attr"))
(call
  method: (identifier) @_def
  arguments: (argument_list . (simple_symbol) @definition.method)
  (#any-of? @_def "define_method" "define_singleton_method" "alias_method" "module_function"))
(call
  receiver: (constant) @_struct
  method: (identifier) @_new
  arguments: (argument_list (simple_symbol) @definition.field)
  (#any-of? @_struct "Struct" "Data")
  (#any-of? @_new "new" "define"))

; --- constants, instance/class/global variables, locals ---
(assignment left: (constant) @definition.constant)
(assignment left: (scope_resolution name: (constant) @definition.constant))
(assignment left: [(instance_variable) (class_variable)] @definition.field)
(operator_assignment left: [(instance_variable) (class_variable)] @definition.field)
(assignment left: (global_variable) @definition.variable)
(assignment left: (identifier) @definition.variable)
(operator_assignment left: (identifier) @definition.variable)
(left_assignment_list (identifier) @definition.variable)
(left_assignment_list (rest_assignment (identifier) @definition.variable))
(left_assignment_list [(instance_variable) (class_variable)] @definition.field)
(for pattern: (identifier) @definition.variable)
(exception_variable (identifier) @definition.variable)
(as_pattern name: (identifier) @definition.variable)

; --- parameters of methods, blocks and lambdas ---
(method_parameters (identifier) @definition.parameter)
(block_parameters (identifier) @definition.parameter)
(lambda_parameters (identifier) @definition.parameter)
(destructured_parameter (identifier) @definition.parameter)
(optional_parameter name: (identifier) @definition.parameter)
(keyword_parameter name: (identifier) @definition.parameter)
(splat_parameter name: (identifier) @definition.parameter)
(hash_splat_parameter name: (identifier) @definition.parameter)
(block_parameter name: (identifier) @definition.parameter)
