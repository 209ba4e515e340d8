// Package fluentbit reads Fluent Bit configurations and translates them
// into skiff's: the code behind skiff migrate.
//
// Reading (Load) follows Fluent Bit's own readers: the classic format
// (flb_cf_fluentbit.c: sections, strict indentation, full-line comments,
// @INCLUDE with globs, @SET, groups) and the YAML format (service,
// pipeline, parsers, multiline_parsers, includes, env), case-insensitive
// keys, ${NAME} from the files' variables and then a lookup the caller
// gives. It refuses what Fluent Bit refuses (a bad indentation, an include
// read twice, a glob that matches nothing), with the file and line.
//
// Translating (Translate) routes every input's records as Fluent Bit
// would (Tag against Match and Match_Regex), makes a skiff input of each
// input that ships somewhere (the one reading /var/log/containers is the
// application input; inputs that differ only in the files they read are
// merged), takes its destination from the CloudWatch output its tag
// reaches, and translates the filters, outputs, service and parsers.
// Skiff's defaults are Container Insights' layout, so only what differs
// from them is written, and a Fluent Bit input that does what one of
// skiff's default inputs does takes that input's name. Every setting gets
// a report line: translated, changed (skiff does it another way, or needs
// nothing), or not translated. Report.Incomplete is true only for the
// last kind, which would make skiff ship records differently.
//
// Limits: routing by a Match that takes only some of an input's files is
// not translated; Match_Regex is judged on a sample tag; a template
// field that is a part of the tag made of the file's name ($TAG[4]) is
// not translated; Fluent Bit regular expressions (Onigmo) are kept when
// RE2 takes them, and reported otherwise; ${NAME}s that stay unresolved
// are left for skiff to expand when it starts, except where a value
// decides the translation (then skiff's default is kept, and reported).
package fluentbit
