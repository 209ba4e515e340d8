#!/bin/sh
# capture.sh regenerates the .log testdata from the runtimes on this machine:
# it copies the generators to $APP (default /tmp/app, so that the traces show
# a container-like path), runs each mode, and writes what the program wrote
# to one stream to ../<rule>/<mode>.log. Run it from anywhere, then
# `go test ./tailer/multiline -run Golden -update` and review the .golden
# diffs. A runtime that is missing is skipped, its files kept.
set -u
here=$(cd "$(dirname "$0")" && pwd)
td=$(dirname "$here")
app=${APP:-/tmp/app}
rm -rf "$app" && mkdir -p "$app" && cp "$here"/panic.go "$here"/Trace.java "$here"/trace.py "$here"/trace.js "$app"/
cd "$app" || exit 1

# Each program writes everything to stderr, except the JVM's thread dump,
# which goes to stdout; each .log is one stream.
if command -v go >/dev/null; then
	mkdir -p "$td/go"
	go build -o "$app/panic" panic.go || exit 1
	for m in panic nilmap repanic joined overflow sigquit httppanic debugstack; do
		"$app/panic" $m 2>"$td/go/$m.log" >/dev/null
	done
fi
if command -v java >/dev/null; then
	mkdir -p "$td/java"
	for m in logged uncaught; do java Trace.java $m 2>"$td/java/$m.log" >/dev/null; done
	java Trace.java threaddump >"$td/java/threaddump.log" 2>/dev/null
fi
if command -v python3 >/dev/null; then
	mkdir -p "$td/python"
	for m in logged uncaught group syntax; do python3 trace.py $m 2>"$td/python/$m.log" >/dev/null; done
fi
if command -v node >/dev/null; then
	mkdir -p "$td/nodejs"
	for m in logged uncaught rejection rejectstring warning; do node trace.js $m 2>"$td/nodejs/$m.log" >/dev/null; done
fi
